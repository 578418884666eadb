#include <inferwatch/dataset/manifest.hpp>

#include <inferwatch/util/json_text.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace inferwatch::dataset {
namespace {

namespace json = boost::json;

std::string text_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_string())
    throw std::invalid_argument(fmt::format("\"{}\" is not a string", key));
  return std::string(v->get_string());
}

std::int64_t integer_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_int64())
    throw std::invalid_argument(fmt::format("\"{}\" is not an integer", key));
  return v->get_int64();
}

}  // namespace

std::string to_json_line(const ManifestEntry& e) {
  json::object o;
  o["result_id"] = e.result_id;
  o["file"] = e.file;
  o["label"] = e.label;
  o["root"] = e.root;
  o["path"] = e.path;
  if (!e.path_bytes.empty()) o["path_bytes"] = e.path_bytes;
  o["sha256"] = e.sha256;
  o["model_version"] = e.model_version;
  o["predicted_label"] = e.predicted_label;
  if (e.predicted_score)
    o["predicted_score"] = *e.predicted_score;
  else
    o["predicted_score"] = nullptr;
  o["user"] = e.user;
  o["comment"] = e.comment;
  o["feedback_id"] = e.feedback_id;
  o["feedback_at"] = e.feedback_at;
  o["exported_at"] = e.exported_at;
  o["method"] = e.method;
  return util::to_json_text(o);
}

util::Result<Manifest> parse_manifest(std::string_view text) {
  Manifest out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    try {
      const json::value v = json::parse(line);
      const json::object& o = v.as_object();
      ManifestEntry e;
      e.result_id = integer_at(o, "result_id");
      e.file = text_at(o, "file");
      e.label = text_at(o, "label");
      e.root = text_at(o, "root");
      e.path = text_at(o, "path");
      if (o.contains("path_bytes")) e.path_bytes = text_at(o, "path_bytes");
      e.sha256 = text_at(o, "sha256");
      e.model_version = text_at(o, "model_version");
      e.predicted_label = text_at(o, "predicted_label");
      if (const auto* s = o.if_contains("predicted_score"); s && !s->is_null()) {
        e.predicted_score = s->to_number<double>();
      }
      e.user = text_at(o, "user");
      e.comment = text_at(o, "comment");
      e.feedback_id = integer_at(o, "feedback_id");
      e.feedback_at = text_at(o, "feedback_at");
      e.exported_at = text_at(o, "exported_at");
      e.method = text_at(o, "method");
      out[e.result_id] = std::move(e);
    } catch (const std::exception& ex) {
      return util::Error{"manifest_unreadable",
                         fmt::format("line {} is not a manifest entry: {}", line_no, ex.what())};
    }
  }
  return out;
}

std::string to_text(const Manifest& manifest) {
  std::string out;
  for (const auto& [id, entry] : manifest) {
    out += to_json_line(entry);
    out += '\n';
  }
  return out;
}

}  // namespace inferwatch::dataset
