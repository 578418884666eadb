#include <inferwatch/config/printer.hpp>

#include <toml++/toml.h>

#include <sstream>

namespace inferwatch::config {

std::string_view to_string(ResizeMode v) {
  switch (v) {
    case ResizeMode::stretch:
      return "stretch";
    case ResizeMode::letterbox:
      return "letterbox";
    case ResizeMode::shorter_side_center_crop:
      return "shorter-side+center-crop";
  }
  return "?";
}
std::string_view to_string(Colour v) { return v == Colour::gray ? "gray" : "rgb"; }
std::string_view to_string(PostprocessMode v) {
  return v == PostprocessMode::raw ? "raw" : "classification";
}
std::string_view to_string(Softmax v) {
  switch (v) {
    case Softmax::auto_detect:
      return "auto";
    case Softmax::yes:
      return "true";
    case Softmax::no:
      return "false";
  }
  return "?";
}
std::string_view to_string(Precision v) {
  switch (v) {
    case Precision::fp32:
      return "fp32";
    case Precision::fp16:
      return "fp16";
    case Precision::bf16:
      return "bf16";
  }
  return "?";
}
std::string_view to_string(LogFormat v) {
  switch (v) {
    case LogFormat::auto_detect:
      return "auto";
    case LogFormat::text:
      return "text";
    case LogFormat::json:
      return "json";
    case LogFormat::journal:
      return "journal";
  }
  return "?";
}

namespace {

template <typename Range>
toml::array strings(const Range& values) {
  toml::array out;
  for (const auto& v : values) out.push_back(std::string(v));
  return out;
}

toml::array numbers(const std::vector<double>& values) {
  toml::array out;
  for (const double v : values) out.push_back(v);
  return out;
}

std::vector<std::string> path_strings(const std::vector<std::filesystem::path>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(p.string());
  return out;
}

}  // namespace

std::string to_toml(const Config& c) {
  toml::table model{{"path", c.model.path.string()},
                    {"name", c.model.name},
                    {"device", c.model.device},
                    {"precision", std::string(to_string(c.model.precision))},
                    {"threads", c.model.threads},
                    {"optimize", c.model.optimize},
                    {"repository", c.model.repository.string()},
                    {"default", c.model.default_model},
                    {"keep_versions", c.model.keep_versions}};
  if (!c.model.labels_file.empty())
    model.insert("labels", c.model.labels_file.string());
  else
    model.insert("labels", strings(c.model.labels));

  toml::table postprocess{{"mode", std::string(to_string(c.postprocess.mode))},
                          {"top_k", c.postprocess.top_k}};
  if (c.postprocess.softmax == Softmax::auto_detect)
    postprocess.insert("softmax", "auto");
  else
    postprocess.insert("softmax", c.postprocess.softmax == Softmax::yes);

  toml::table root{
      {"watch", toml::table{{"paths", strings(path_strings(c.watch.paths))},
                            {"recursive", c.watch.recursive},
                            {"include", strings(c.watch.include)},
                            {"exclude", strings(c.watch.exclude)},
                            {"settle_ms", c.watch.settle_ms},
                            {"rescan_interval_s", c.watch.rescan_interval_s},
                            {"max_file_bytes", c.watch.max_file_bytes}}},
      {"model", model},
      {"preprocess", toml::table{{"size", toml::array{c.preprocess.height, c.preprocess.width}},
                                 {"resize", std::string(to_string(c.preprocess.resize))},
                                 {"shorter_side", c.preprocess.shorter_side},
                                 {"letterbox_fill", c.preprocess.letterbox_fill},
                                 {"colour", std::string(to_string(c.preprocess.colour))},
                                 {"mean", numbers(c.preprocess.mean)},
                                 {"std", numbers(c.preprocess.std)},
                                 {"max_pixels", c.preprocess.max_pixels},
                                 {"max_decode_bytes", c.preprocess.max_decode_bytes}}},
      {"postprocess", postprocess},
      {"batching", toml::table{{"max_batch_size", c.batching.max_batch_size},
                               {"max_delay_ms", c.batching.max_delay_ms},
                               {"drain_timeout_ms", c.batching.drain_timeout_ms}}},
      {"results",
       toml::table{{"sidecar", c.results.sidecar}, {"sidecar_suffix", c.results.sidecar_suffix}}},
      {"database", toml::table{{"path", c.database.path.string()},
                               {"retention_days", c.database.retention_days}}},
      {"server", toml::table{{"listen", c.server.listen},
                             {"token_file", c.server.token_file.string()},
                             {"threads", c.server.threads},
                             {"max_body_bytes", c.server.max_body_bytes},
                             {"max_header_bytes", c.server.max_header_bytes},
                             {"max_connections", c.server.max_connections},
                             {"idle_timeout_s", c.server.idle_timeout_s},
                             {"header_timeout_s", c.server.header_timeout_s},
                             {"max_ws_clients", c.server.max_ws_clients},
                             {"ws_queue_messages", c.server.ws_queue_messages},
                             {"ws_queue_bytes", c.server.ws_queue_bytes},
                             {"ws_heartbeat_s", c.server.ws_heartbeat_s}}},
      {"drift", toml::table{{"window", c.drift.window},
                            {"reference", c.drift.reference},
                            {"golden_reference", c.drift.golden_reference}}},
      {"log",
       toml::table{{"level", c.log.level}, {"format", std::string(to_string(c.log.format))}}},
  };
  // Left out when empty: `route = []` would print as a top-level key before every table.
  if (!c.routes.empty()) {
    toml::array routes;
    for (const auto& r : c.routes)
      routes.push_back(toml::table{{"match", r.match}, {"model", r.model}});
    root.insert("route", std::move(routes));
  }
  std::ostringstream out;
  out << root << '\n';
  return out.str();
}

}  // namespace inferwatch::config
