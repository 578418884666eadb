#include <inferwatch/server/quality_routes.hpp>

#include <inferwatch/config/model_manifest.hpp>
#include <inferwatch/models/registry.hpp>
#include <inferwatch/store/quality.hpp>
#include <inferwatch/util/json_text.hpp>
#include <inferwatch/util/time.hpp>
#include <inferwatch/util/utf8.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>

namespace inferwatch::server {
namespace {

namespace json = boost::json;

json::value number_or_null(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object quality_json(const store::Quality& q) {
  json::array per_label;
  for (const auto& l : q.per_label) {
    per_label.push_back(json::object{{"label", l.label},
                                     {"support", l.support},
                                     {"predicted", l.predicted},
                                     {"correct", l.correct},
                                     {"precision", number_or_null(l.precision)},
                                     {"recall", number_or_null(l.recall)}});
  }
  json::array confusion;
  for (const auto& row : q.confusion) confusion.push_back(json::array(row.begin(), row.end()));
  return json::object{{"count", q.count},
                      {"correct", q.correct},
                      {"corrected", q.count - q.correct},
                      {"accuracy", number_or_null(q.accuracy)},
                      {"labels", json::array(q.labels.begin(), q.labels.end())},
                      {"per_label", std::move(per_label)},
                      {"confusion", std::move(confusion)}};
}

// `digits` decimal digits of `text` at `at`, or -1.
int digits_at(std::string_view text, std::size_t at, std::size_t digits) {
  if (at + digits > text.size()) return -1;
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + digits, value);
  return ec == std::errc{} && end == text.data() + at + digits ? value : -1;
}

Response get_quality(store::FeedbackStore& feedback, const QualitySource& source,
                     const Request& r) {
  const std::string& name = r.params.at("name");
  const auto model = source.model(name);
  if (!model) {
    return error_response(404, "unknown_model",
                          fmt::format("no model named {}", util::to_valid_utf8(name)));
  }
  std::string version = model->live_version;
  if (const auto it = r.query.find("version"); it != r.query.end()) version = it->second;
  if (version.empty()) {
    return error_response(
        404, "unknown_version",
        fmt::format("model {} has no live version; name one with ?version=", name));
  }
  std::optional<std::string> since;
  if (const auto it = r.query.find("since"); it != r.query.end()) {
    const auto at = parse_rfc3339(it->second);
    if (!at) {
      return error_response(
          400, "invalid_parameter",
          fmt::format("since must be an RFC 3339 time such as 2026-11-23T10:00:00Z, got \"{}\"",
                      util::to_valid_utf8(it->second)));
    }
    since = util::format_utc(*at);  // the form feedback.created_at has, so text order is time
  }
  const auto pairs = feedback.label_pairs(name, version, since);
  if (!pairs) return error_response(503, pairs.error().code, pairs.error().message);
  const bool listed =
      std::find(model->versions.begin(), model->versions.end(), version) != model->versions.end();
  // A version no longer listed (a directory deleted, an earlier single model) still has the
  // feedback on its results; without any, the name is unknown.
  bool known = listed || !pairs->empty();
  if (!known && since) {
    const auto all = feedback.label_pairs(name, version, std::nullopt);
    if (!all) return error_response(503, all.error().code, all.error().message);
    known = !all->empty();
  }
  if (!known) {
    return error_response(404, "unknown_version",
                          fmt::format("model {} has no version {} and no feedback on one", name,
                                      util::to_valid_utf8(version)));
  }
  const auto labels = source.labels(name, version).value_or(std::vector<std::string>{});
  json::object out{{"model", name},
                   {"version", version},
                   {"model_version", name + "@" + version},
                   {"live", version == model->live_version},
                   {"since", since ? json::value(*since) : json::value(nullptr)}};
  for (auto& [key, value] : quality_json(store::compute_quality(*pairs, labels))) {
    out[key] = std::move(value);
  }
  return json_response(util::to_json_text(out));
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') ||
      t[13] != ':' || t[16] != ':')
    return std::nullopt;
  std::tm tm{};
  const int year = digits_at(t, 0, 4), month = digits_at(t, 5, 2), day = digits_at(t, 8, 2);
  const int hour = digits_at(t, 11, 2), minute = digits_at(t, 14, 2), second = digits_at(t, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60)
    return std::nullopt;
  std::size_t at = 19;
  std::chrono::nanoseconds fraction{0};
  if (at < t.size() && t[at] == '.') {
    ++at;
    const std::size_t first = at;
    std::int64_t scale = 100'000'000;
    while (at < t.size() && t[at] >= '0' && t[at] <= '9') {
      fraction += std::chrono::nanoseconds((t[at] - '0') * scale);
      scale /= 10;
      ++at;
    }
    if (at == first) return std::nullopt;
  }
  std::chrono::minutes offset{0};
  if (at + 1 == t.size() && (t[at] == 'Z' || t[at] == 'z')) {
    ++at;
  } else if (at + 6 == t.size() && (t[at] == '+' || t[at] == '-') && t[at + 3] == ':') {
    const int oh = digits_at(t, at + 1, 2), om = digits_at(t, at + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
    offset = std::chrono::minutes((t[at] == '-' ? -1 : 1) * (oh * 60 + om));
    at += 6;
  }
  if (at != t.size()) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t seconds = ::timegm(&tm);
  if (tm.tm_mday != day) return std::nullopt;  // 2026-02-31 normalized into March
  return std::chrono::system_clock::from_time_t(seconds) - offset +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
}

QualitySource registry_quality_source(
    const models::Registry& registry,
    std::function<std::optional<std::vector<std::string>>(const std::string&)> loaded_labels) {
  // describe()'s entry of `name`, or null.
  auto entry = [&registry](const std::string& name) -> json::value {
    json::object all = registry.describe();
    for (auto& m : all["models"].as_array()) {
      if (m.as_object()["name"].as_string() == name) return std::move(m);
    }
    return nullptr;
  };
  QualitySource s;
  s.model = [entry](const std::string& name) -> std::optional<QualityModel> {
    const json::value m = entry(name);
    if (!m.is_object()) return std::nullopt;
    QualityModel q;
    if (const auto* live = m.as_object().if_contains("live_version"); live && live->is_string())
      q.live_version = std::string(live->as_string());
    if (const auto* versions = m.as_object().if_contains("versions");
        versions && versions->is_array()) {
      for (const auto& v : versions->as_array()) {
        if (const auto* version = v.as_object().if_contains("version");
            version && version->is_string())
          q.versions.emplace_back(version->as_string());
      }
    }
    return q;
  };
  s.labels = [entry, loaded_labels = std::move(loaded_labels)](
                 const std::string& name,
                 const std::string& version) -> std::optional<std::vector<std::string>> {
    if (loaded_labels) {
      if (auto labels = loaded_labels(name + "@" + version); labels && !labels->empty())
        return labels;
    }
    // Not loaded now: its model.toml's labels, when it names them.
    const json::value m = entry(name);
    if (!m.is_object()) return std::nullopt;
    const auto* versions = m.as_object().if_contains("versions");
    if (!versions || !versions->is_array()) return std::nullopt;
    for (const auto& v : versions->as_array()) {
      const auto& o = v.as_object();
      const auto* n = o.if_contains("version");
      const auto* dir = o.if_contains("directory");
      if (!n || !n->is_string() || n->as_string() != version || !dir || !dir->is_string()) continue;
      auto loaded = config::load_manifest(std::string(dir->as_string()));
      if (!loaded.manifest.model.labels.empty()) return loaded.manifest.model.labels;
    }
    return std::nullopt;
  };
  return s;
}

QualitySource single_model_quality_source(std::function<infer::ModelInfo()> model) {
  const auto version_of = [](const infer::ModelInfo& info) {
    const auto at = info.version.rfind('@');
    return at == std::string::npos ? info.version : info.version.substr(at + 1);
  };
  QualitySource s;
  s.model = [model, version_of](const std::string& name) -> std::optional<QualityModel> {
    const infer::ModelInfo info = model();
    if (info.name != name) return std::nullopt;
    const std::string version = version_of(info);
    return QualityModel{version, {version}};
  };
  s.labels = [model, version_of](
                 const std::string& name,
                 const std::string& version) -> std::optional<std::vector<std::string>> {
    const infer::ModelInfo info = model();
    if (info.name != name || version_of(info) != version) return std::nullopt;
    return info.labels;
  };
  return s;
}

void add_quality_route(Router& router, store::FeedbackStore& feedback, QualitySource source) {
  router.add("GET", "/v1/models/{name}/quality",
             [&feedback, source = std::move(source)](const Request& r) {
               return get_quality(feedback, source, r);
             });
}

}  // namespace inferwatch::server
