#include "feedback_routes.hpp"

#include <inferwatch/util/json_text.hpp>
#include <inferwatch/util/time.hpp>
#include <inferwatch/util/utf8.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <vector>

namespace inferwatch::server {
namespace {

namespace json = boost::json;

constexpr std::size_t k_max_user_bytes = 128;
constexpr std::size_t k_max_comment_bytes = 2000;

json::object row_json(const store::FeedbackRow& row) {
  return {{"label", row.label},
          {"user", row.user},
          {"comment", row.comment},
          {"created_at", row.created_at}};
}

json::object feedback_json(const store::Feedback& f) {
  json::object o = row_json(f.latest);
  o["previous"] = f.previous ? json::value(row_json(*f.previous)) : json::value(nullptr);
  o["history_count"] = f.history_count;
  return o;
}

// What a feedback request asks for, or the 400 that says what is wrong with it.
struct Asked {
  std::string label;
  std::string user;
  std::string comment;
};

util::Result<Asked> read_body(const std::string& body) {
  auto bad = [](std::string message) { return util::Error{"invalid_body", std::move(message)}; };
  boost::system::error_code ec;
  // Boost.JSON refuses invalid UTF-8 in strings, so every text below is valid UTF-8.
  const json::value v = json::parse(body, ec);
  if (ec) return bad(fmt::format("the body is not JSON: {}", ec.message()));
  const json::object* o = v.if_object();
  if (!o) return bad(R"(the body must be a JSON object: {"label": …, "user": …, "comment": …})");
  Asked asked;
  for (const auto& [key, out] :
       {std::pair<const char*, std::string*>{"label", &asked.label}, {"user", &asked.user}}) {
    const json::value* field = o->if_contains(key);
    if (!field) return bad(fmt::format("{} is required", key));
    if (!field->is_string()) return bad(fmt::format("{} must be a string", key));
    *out = std::string(field->get_string());
    if (out->empty()) return bad(fmt::format("{} must not be empty", key));
  }
  if (asked.user.size() > k_max_user_bytes)
    return bad(fmt::format("user must be at most {} bytes", k_max_user_bytes));
  if (const json::value* comment = o->if_contains("comment"); comment && !comment->is_null()) {
    if (!comment->is_string()) return bad("comment must be a string");
    asked.comment = std::string(comment->get_string());
    if (asked.comment.size() > k_max_comment_bytes)
      return bad(fmt::format("comment must be at most {} bytes", k_max_comment_bytes));
  }
  return asked;
}

// The labels a result's feedback may use: the labels of the model version that made it when it
// is loaded now, else those in the result's own predictions.
std::vector<std::string> allowed_labels(const ApiContext& c, const json::object& result) {
  std::string version;
  if (const auto* model = result.if_contains("model"); model && model->is_object()) {
    if (const auto* v = model->get_object().if_contains("version"); v && v->is_string())
      version = std::string(v->get_string());
  }
  if (c.labels_of && !version.empty()) {
    if (auto labels = c.labels_of(version); labels && !labels->empty()) return *labels;
  }
  std::vector<std::string> labels;
  if (const auto* p = result.if_contains("predictions"); p && p->is_array()) {
    for (const auto& prediction : p->get_array()) {
      if (!prediction.is_object()) continue;
      if (const auto* l = prediction.get_object().if_contains("label"); l && l->is_string())
        labels.emplace_back(l->get_string());
    }
  }
  return labels;
}

// The result's top-1 label: its first prediction's (predictions are ordered by score).
std::optional<std::string> predicted_label(const json::object& result) {
  const auto* p = result.if_contains("predictions");
  if (!p || !p->is_array() || p->get_array().empty()) return std::nullopt;
  const auto& first = p->get_array().front();
  if (!first.is_object()) return std::nullopt;
  const auto* l = first.get_object().if_contains("label");
  if (!l || !l->is_string()) return std::nullopt;
  return std::string(l->get_string());
}

// Feedback `body` ({"label", "user", "comment"}) on the result whose id is `text`: the REST
// route's answer, which the stream's client message wraps.
Response give_feedback(const ApiContext& c, const std::string& text, const std::string& body) {
  if (!c.feedback)
    return error_response(503, "feedback_unavailable", "this daemon does not store feedback");
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return error_response(
        400, "invalid_parameter",
        fmt::format("result id must be an integer, got \"{}\"", util::to_valid_utf8(text)));
  }
  auto asked = read_body(body);
  if (!asked) return error_response(400, asked.error().code, asked.error().message);

  const auto found = c.reader.result(id);
  if (!found) return error_response(503, found.error().code, found.error().message);
  if (!*found) return error_response(404, "not_found", fmt::format("no result {}", id));
  const store::StoredJson& stored = **found;
  boost::system::error_code parse_error;
  const json::value parsed = json::parse(stored.json, parse_error);
  if (parse_error || !parsed.is_object())
    return error_response(500, "internal_error", fmt::format("result {} is unreadable", id));
  const json::object& result = parsed.get_object();
  const auto predicted = predicted_label(result);
  if (!predicted) {
    return error_response(
        422, "no_prediction",
        fmt::format("result {} has no predicted label to confirm or correct (an error result, "
                    "or raw model output)",
                    id));
  }
  const auto labels = allowed_labels(c, result);
  if (std::find(labels.begin(), labels.end(), asked->label) == labels.end()) {
    json::array list(labels.begin(), labels.end());
    json::object error{
        {"code", "unknown_label"},
        {"message", fmt::format("\"{}\" is not a label of the model that made result {}; "
                                "use one of {}",
                                asked->label, id, util::to_json_text(list))},
        {"labels", list}};
    return json_response(util::to_json_text(json::object{{"error", error}}), 422);
  }

  store::FeedbackRow row;
  row.result_id = id;
  row.label = asked->label;
  row.predicted_label = *predicted;
  row.user = asked->user;
  row.comment = asked->comment;
  row.created_at = util::format_utc(std::chrono::system_clock::now());
  const auto stored_feedback = c.feedback->record(row);
  if (!stored_feedback) {
    const auto& e = stored_feedback.error();
    const unsigned status = e.code == "unknown_result" ? 404 : e.code == "superseded" ? 409 : 503;
    return error_response(status, e.code == "unknown_result" ? "not_found" : e.code, e.message);
  }
  if (c.on_feedback) {
    const auto* model = result.if_contains("model");
    const auto* version =
        model && model->is_object() ? model->get_object().if_contains("version") : nullptr;
    if (version && version->is_string()) c.on_feedback(std::string(version->get_string()), row);
  }
  const json::object feedback = feedback_json(*stored_feedback);
  if (c.broadcaster) {
    c.broadcaster->publish_feedback(
        id, stored.path,
        util::to_json_text(
            json::object{{"type", "feedback"}, {"result_id", id}, {"feedback", feedback}}));
  }
  return json_response(util::to_json_text(json::object{{"result_id", id}, {"feedback", feedback}}));
}

// A message from a stream client: {"type": "feedback", "result_id": N, "label", "user",
// "comment", "request_id"} gives feedback as the REST route does; the reply carries the route's
// status and body, and the request_id (any JSON value) to match it with.
std::string stream_message_reply(const ApiContext& c, std::string_view message) {
  boost::system::error_code ec;
  const json::value v = json::parse(message, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  json::object reply{{"type", "feedback_reply"}};
  if (o) {
    if (const json::value* request_id = o->if_contains("request_id")) {
      reply["request_id"] = *request_id;
    }
  }
  auto refuse = [&](std::string why) {
    reply["status"] = 400;
    reply["error"] = json::object{{"code", "invalid_message"}, {"message", std::move(why)}};
    return util::to_json_text(reply);
  };
  if (!o)
    return refuse(
        R"(a client message must be a JSON object: {"type": "feedback", "result_id": …, "label": …, "user": …})");
  const json::value* type = o->if_contains("type");
  if (!type || !type->is_string() || type->get_string() != "feedback")
    return refuse(R"(the only client message is {"type": "feedback", …})");
  const json::value* result_id = o->if_contains("result_id");
  if (!result_id || !result_id->is_int64()) return refuse("result_id must be an integer");
  // The message is the route's body too: read_body takes label, user and comment from it.
  const Response response =
      give_feedback(c, std::to_string(result_id->get_int64()), std::string(message));
  reply["status"] = response.status;
  const json::value body = json::parse(response.body, ec);
  if (!ec && body.is_object()) {
    for (const auto& [key, value] : body.get_object()) reply[key] = value;
  }
  return util::to_json_text(reply);
}

}  // namespace

void add_feedback_routes(Router& router, const ApiContext& c) {
  router.add("POST", "/v1/results/{id}/feedback",
             [&c](const Request& r) { return give_feedback(c, r.params.at("id"), r.body); });
}

std::function<std::string(std::string_view)> stream_message_handler(const ApiContext& context) {
  return [&context](std::string_view message) { return stream_message_reply(context, message); };
}

util::Result<void> splice_feedback(const ApiContext& c, std::span<store::StoredJson> rows) {
  if (!c.feedback || rows.empty()) return {};
  std::vector<std::int64_t> ids;
  ids.reserve(rows.size());
  for (const auto& row : rows) ids.push_back(row.id);
  const auto found = c.feedback->current(ids);
  if (!found) return found.error();
  for (auto& row : rows) {
    const auto it = found->find(row.id);
    const auto close = row.json.rfind('}');
    if (it == found->end() || close == std::string::npos) continue;
    row.json.insert(close, ",\"feedback\":" + util::to_json_text(feedback_json(it->second)));
  }
  return {};
}

}  // namespace inferwatch::server
