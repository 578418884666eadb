#include <inferwatch/results/record.hpp>

#include <inferwatch/util/utf8.hpp>

#include <boost/json.hpp>

#include <cmath>

namespace inferwatch::results {
namespace {

// Milliseconds rounded to microseconds: enough precision, short JSON.
double ms(double v) { return std::round(v * 1000.0) / 1000.0; }

}  // namespace

boost::json::object to_json(const Record& r) {
  boost::json::object o;
  o["schema"] = k_schema;
  if (r.id) o["id"] = *r.id;
  // Names are bytes (§5): a readable `path` always, and the exact name when it differs.
  if (util::is_valid_utf8(r.path)) {
    o["path"] = r.path;
  } else {
    o["path"] = util::to_valid_utf8(r.path);
    o["path_bytes"] = util::base64_encode(r.path);
  }
  o["status"] = r.ok() ? "ok" : "error";
  o["sha256"] = r.sha256;
  if (r.image) o["image"] = {{"width", r.image->width}, {"height", r.image->height}};
  o["model"] = {{"name", r.model_name}, {"version", r.model_version}};
  if (r.error) {
    o["error"] = {{"code", r.error->code}, {"message", r.error->message}};
  } else if (r.output) {
    o["output"] = *r.output;
  } else {
    boost::json::array predictions;
    for (const auto& p : r.predictions) {
      predictions.push_back(
          {{"label", p.label}, {"index", p.index}, {"score", std::round(p.score * 1e6) / 1e6}});
    }
    o["predictions"] = std::move(predictions);
  }
  o["timings_ms"] = {{"queue", ms(r.timings.queue_ms)},
                     {"decode", ms(r.timings.decode_ms)},
                     {"infer", ms(r.timings.infer_ms)},
                     {"total", ms(r.timings.total_ms)}};
  o["created_at"] = r.created_at;
  return o;
}

}  // namespace inferwatch::results
