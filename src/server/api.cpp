#include <inferwatch/server/api.hpp>

#include "feedback_routes.hpp"
#include "web_routes.hpp"

#include <inferwatch/util/json_text.hpp>
#include <inferwatch/util/utf8.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <optional>

namespace inferwatch::server {
namespace {

constexpr std::int64_t k_default_limit = 100;
constexpr std::int64_t k_max_limit = 1000;

// A non-negative integer query parameter, or a 400 naming it.
std::optional<Response> read_int(const Request& r, const std::string& key, std::int64_t& out) {
  const auto it = r.query.find(key);
  if (it == r.query.end()) return std::nullopt;
  const std::string& text = it->second;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0) {
    return error_response(400, "invalid_parameter",
                          fmt::format("{} must be a non-negative integer, got \"{}\"", key,
                                      util::to_valid_utf8(text)));
  }
  out = value;
  return std::nullopt;
}

// The database could not answer (locked past its timeout, failing): 503, with the store's code
// and message, so a client retries instead of taking "not found" for an answer.
Response store_unavailable(const util::Error& error) {
  return error_response(503, error.code, error.message);
}

std::string query_or(const Request& r, const std::string& key, std::string fallback = {}) {
  const auto it = r.query.find(key);
  return it == r.query.end() ? fallback : it->second;
}

Response list_results(const ApiContext& c, const Request& r) {
  store::ResultQuery q;
  q.limit = k_default_limit;
  if (auto bad = read_int(r, "after", q.after)) return *bad;
  if (auto bad = read_int(r, "limit", q.limit)) return *bad;
  if (q.limit == 0) return error_response(400, "invalid_parameter", "limit must be at least 1");
  q.limit = std::min(q.limit, k_max_limit);
  q.path_prefix = query_or(r, "path_prefix");
  q.status = query_or(r, "status");
  if (!q.status.empty() && q.status != "ok" && q.status != "error") {
    return error_response(
        400, "invalid_parameter",
        fmt::format("status must be ok or error, got \"{}\"", util::to_valid_utf8(q.status)));
  }
  auto found = c.reader.results(q);
  if (!found) return store_unavailable(found.error());
  auto& rows = *found;
  if (auto spliced = splice_feedback(c, rows); !spliced) return store_unavailable(spliced.error());
  // The stored JSON is already serialized: splice it rather than parse it again.
  std::string body = "{\"results\":[";
  for (std::size_t i = 0; i < rows.size(); ++i) body += (i ? "," : "") + rows[i].json;
  const std::int64_t next = rows.empty() ? q.after : rows.back().id;
  body += fmt::format("],\"next_after\":{}}}", next);
  return json_response(std::move(body));
}

// The row's JSON with its feedback, or the 503 of a store that cannot answer.
Response with_feedback(const ApiContext& c, store::StoredJson& row) {
  if (auto spliced = splice_feedback(c, std::span(&row, 1)); !spliced)
    return store_unavailable(spliced.error());
  return json_response(std::move(row.json));
}

Response one_result(const ApiContext& c, const Request& r) {
  const std::string& text = r.params.at("id");
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return error_response(
        400, "invalid_parameter",
        fmt::format("result id must be an integer, got \"{}\"", util::to_valid_utf8(text)));
  }
  auto found = c.reader.result(id);
  if (!found) return store_unavailable(found.error());
  auto& row = *found;
  if (!row) return error_response(404, "not_found", fmt::format("no result {}", id));
  return with_feedback(c, *row);
}

// By `path` (the display form, or the raw name percent-encoded) or by `path_bytes` (base64 of
// the raw name), SPEC §5.
Response latest_result(const ApiContext& c, const Request& r) {
  if (const auto it = r.query.find("path_bytes"); it != r.query.end()) {
    std::string text = it->second;
    // An unencoded '+' arrives as a space (form decoding); base64 has no spaces, so undo it.
    std::replace(text.begin(), text.end(), ' ', '+');
    const auto bytes = util::base64_decode(text);
    if (!bytes || bytes->empty()) {
      return error_response(400, "invalid_parameter",
                            "path_bytes must be the name's bytes in base64 (standard alphabet, "
                            "with padding)");
    }
    auto found = c.reader.latest_by_bytes(*bytes);
    if (!found) return store_unavailable(found.error());
    auto& row = *found;
    if (!row) {
      return error_response(
          404, "not_found",
          fmt::format("no result for path_bytes {}", util::base64_encode(*bytes)));
    }
    return with_feedback(c, *row);
  }
  const std::string path = query_or(r, "path");
  if (path.empty())
    return error_response(400, "invalid_parameter",
                          "path or path_bytes is required, e.g. ?path=alice/part-17.png");
  auto found = c.reader.latest(path);
  if (!found) return store_unavailable(found.error());
  auto& row = *found;
  if (!row) {
    return error_response(404, "not_found",
                          fmt::format("no result for {}", util::to_valid_utf8(path)));
  }
  return with_feedback(c, *row);
}

Response model_info(const infer::ModelInfo& m) {
  boost::json::array labels(m.labels.begin(), m.labels.end());
  boost::json::object o{
      {"name", m.name},
      {"version", m.version},
      {"sha256", m.sha256},
      {"source", m.source},
      {"device", m.device},
      {"precision", m.precision},
      {"labels", labels},
      {"input", {{"channels", m.channels}, {"height", m.height}, {"width", m.width}}},
      {"max_batch_size", m.max_batch_size},
      {"threads", m.threads},
      {"optimized", m.optimized}};
  return json_response(util::to_json_text(o));
}

Response status(const ApiContext& c) {
  const auto counted = c.reader.counts();
  if (!counted) return store_unavailable(counted.error());
  const auto& counts = *counted;
  boost::json::array roots;
  for (const auto& root : c.roots) roots.push_back(boost::json::string(root.string()));
  const auto uptime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - c.started).count();
  boost::json::object o{
      {"version", c.version},
      {"uptime_s", std::round(uptime * 10) / 10},
      {"watch_roots", roots},
      {"model", c.model().version},
      {"queue", {{"pending", counts.pending}, {"in_flight", c.in_flight()}}},
      {"files", counts.files},
      {"results",
       {{"ok", counts.results_ok}, {"error", counts.results_error}, {"last_id", counts.max_id}}}};
  return json_response(util::to_json_text(o));
}

// The §5 result for 200; failures as §6 errors with the status that says why.
Response infer_response(const results::Record& record) {
  if (record.ok()) return json_response(util::to_json_text(results::to_json(record)));
  const std::string& code = record.error->code;
  const unsigned status = code == "unsupported_format" || code == "empty_file" ? 415
                          : code == "too_large"                                ? 413
                          : code == "internal_error"                           ? 500
                                                                               : 422;
  return error_response(status, code, record.error->message);
}

}  // namespace

void add_api_routes(Router& router, const ApiContext& c) {
  router.add(
      "GET", "/healthz", [](const Request&) { return json_response(R"({"status":"ok"})"); },
      Access::open);
  router.add(
      "GET", "/readyz",
      [&c](const Request&) {
        auto reasons = c.not_ready();
        if (!c.reader.healthy()) reasons.push_back("database is not readable");
        boost::json::array list(reasons.begin(), reasons.end());
        return json_response(
            util::to_json_text(boost::json::object{{"ready", reasons.empty()}, {"reasons", list}}),
            reasons.empty() ? 200 : 503);
      },
      Access::open);
  router.add("GET", "/v1/results", [&c](const Request& r) { return list_results(c, r); });
  router.add("GET", "/v1/results/latest", [&c](const Request& r) { return latest_result(c, r); });
  router.add("GET", "/v1/results/{id}", [&c](const Request& r) { return one_result(c, r); });
  router.add("GET", "/metrics", [&c](const Request&) {
    Response r = json_response(c.metrics.scrape());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });
  router.add_async(
      "POST", "/v1/infer",
      [&c](const Request& r, Router::Reply reply) {
        if (r.body.empty())
          return reply(
              error_response(415, "empty_file", "the request body must be the image's bytes"));
        const bool accepted =
            c.infer(r.body, [reply](results::Record record) { reply(infer_response(record)); });
        if (!accepted) {
          reply(error_response(503, "busy",
                               "too many inference requests are waiting; retry shortly"));
        }
      },
      Access::token, Body::large);  // the image: the only body allowed up to server.max_body_bytes
  router.add("GET", "/v1/stream", [](const Request&) {
    Response r =
        error_response(426, "upgrade_required",
                       "/v1/stream is a WebSocket endpoint: connect with a WebSocket client");
    r.headers.emplace_back("Upgrade", "websocket");
    return r;
  });
  router.add("GET", "/v1/model", [&c](const Request&) { return model_info(c.model()); });
  router.add_async("POST", "/v1/model/reload", [&c](const Request&, Router::Reply reply) {
    c.reload_model([reply](util::Result<infer::ModelInfo> outcome) {
      if (outcome) return reply(model_info(*outcome));
      const auto& e = outcome.error();
      reply(error_response(e.code == "reload_in_progress" ? 409 : 422, e.code, e.message));
    });
  });
  router.add("GET", "/v1/status", [&c](const Request&) { return status(c); });
  add_feedback_routes(router, c);
  add_web_routes(router);
}

}  // namespace inferwatch::server
