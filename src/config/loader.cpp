#include <inferwatch/config/loader.hpp>

#include "section_reader.hpp"

#include <inferwatch/util/file.hpp>
#include <inferwatch/util/lines.hpp>
#include <inferwatch/util/spelling.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>

namespace inferwatch::config {
namespace {

constexpr std::array<std::string_view, 11> k_sections = {
    "watch",    "model",  "preprocess", "postprocess", "batching", "results",
    "database", "server", "drift",      "log",         "route"};

void read_watch(SectionReader& r, Watch& w) {
  r.read_paths("paths", w.paths);
  r.read("recursive", w.recursive);
  r.read("include", w.include);
  r.read("exclude", w.exclude);
  r.read("settle_ms", w.settle_ms);
  r.read("rescan_interval_s", w.rescan_interval_s);
  r.read("max_file_bytes", w.max_file_bytes);
}

}  // namespace

// `labels` is an inline array of names, or the name of a file with one label per line.
void read_labels(SectionReader& r, Model& m, const std::filesystem::path& base_dir) {
  const toml::node* node = r.take("labels");
  if (!node) return;
  if (node->is_array()) {
    m.labels.clear();
    for (const auto& element : *node->as_array()) {
      const auto v = element.value_exact<std::string>();
      if (!v) return r.problem("labels", element, "every label must be a string");
      m.labels.push_back(*v);
    }
    return;
  }
  const auto file = node->value_exact<std::string>();
  if (!file) return r.wrong_type("labels", *node, "an array of strings or a file name");
  std::filesystem::path path(*file);
  if (path.is_relative()) path = (base_dir / path).lexically_normal();
  auto text = util::read_file(path, 16 * 1024 * 1024);
  if (!text) return r.problem("labels", *node, text.error().message);
  m.labels = util::non_empty_lines(*text);
  m.labels_file = path;
  if (m.labels.empty())
    r.problem("labels", *node, fmt::format("{} holds no labels", path.string()));
}

void read_model(SectionReader& r, Model& m, const std::filesystem::path& base_dir) {
  r.read_path("path", m.path);
  r.read("name", m.name);
  read_labels(r, m, base_dir);
  read_model_runtime(r, m);
  // Daemon-only keys (a model.toml has no repository of its own).
  r.read_path("repository", m.repository);
  r.read("default", m.default_model);
  r.read("keep_versions", m.keep_versions);
}

void read_model_runtime(SectionReader& r, Model& m) {
  r.read("device", m.device);
  r.read_enum("precision", m.precision,
              {{"fp32", Precision::fp32}, {"fp16", Precision::fp16}, {"bf16", Precision::bf16}});
  r.read("threads", m.threads);
  r.read("optimize", m.optimize);
}

void read_preprocess(SectionReader& r, Preprocess& p) {
  // `size` is [height, width], or one integer for a square.
  if (const toml::node* node = r.take("size")) {
    std::optional<std::int64_t> height, width;
    if (const auto side = node->value_exact<std::int64_t>()) {
      height = width = *side;
    } else if (const toml::array* a = node->as_array();
               a && a->size() == 2 && a->get(0)->is_integer() && a->get(1)->is_integer()) {
      height = a->get(0)->value<std::int64_t>();
      width = a->get(1)->value<std::int64_t>();
    }
    if (!height || !width) {
      r.problem("size", *node, "expected [height, width] (two integers) or one integer");
    } else if (*height < INT32_MIN || *height > INT32_MAX || *width < INT32_MIN ||
               *width > INT32_MAX) {
      r.problem("size", *node,
                fmt::format("[{}, {}] is out of range; allowed: 1 to 8192", *height, *width));
    } else {
      p.height = static_cast<int>(*height);
      p.width = static_cast<int>(*width);
    }
  }
  r.read_enum("resize", p.resize,
              {{"stretch", ResizeMode::stretch},
               {"letterbox", ResizeMode::letterbox},
               {"shorter-side+center-crop", ResizeMode::shorter_side_center_crop}});
  r.read("shorter_side", p.shorter_side);
  r.read("letterbox_fill", p.letterbox_fill);
  r.read_enum("colour", p.colour, {{"rgb", Colour::rgb}, {"gray", Colour::gray}});
  r.read("mean", p.mean);
  r.read("std", p.std);
  r.read("max_pixels", p.max_pixels);
  r.read("max_decode_bytes", p.max_decode_bytes);
}

void read_postprocess(SectionReader& r, Postprocess& p) {
  r.read_enum("mode", p.mode,
              {{"classification", PostprocessMode::classification}, {"raw", PostprocessMode::raw}});
  r.read("top_k", p.top_k);
  // `softmax` is "auto" or a boolean.
  if (const toml::node* node = r.take("softmax")) {
    if (const auto b = node->value_exact<bool>()) {
      p.softmax = *b ? Softmax::yes : Softmax::no;
    } else if (const auto s = node->value_exact<std::string>(); s && *s == "auto") {
      p.softmax = Softmax::auto_detect;
    } else {
      r.problem("softmax", *node, "expected \"auto\", true or false");
    }
  }
}

namespace {

// [[route]]: an array of tables, each {match, model}; each is read as its own section
// "route[N]" (1-based) so problems name the route they are in.
void read_routes(const toml::node& node, Loaded& out, const std::filesystem::path& base_dir) {
  const toml::array* routes = node.as_array();
  if (!routes) {
    const auto& begin = node.source().begin;
    out.problems.push_back(Problem{out.sources.file, static_cast<int>(begin.line),
                                   static_cast<int>(begin.column), "route",
                                   "routes are an array of tables: write [[route]], not [route]"});
    return;
  }
  for (std::size_t i = 0; i < routes->size(); ++i) {
    const toml::node& element = *routes->get(i);
    const std::string section = fmt::format("route[{}]", i + 1);
    const auto& begin = element.source().begin;
    const std::pair<int, int> position{static_cast<int>(begin.line),
                                       static_cast<int>(begin.column)};
    out.sources.positions[section] = position;
    if (!element.is_table()) {
      out.problems.push_back(Problem{out.sources.file, position.first, position.second, section,
                                     "a route is a table with `match` and `model`"});
      continue;
    }
    Route route;
    SectionReader reader(*element.as_table(), section, out, base_dir);
    for (const auto key : {"match", "model"}) {
      if (!element.as_table()->contains(key)) {
        reader.problem(key, element, fmt::format("a route needs `{}`", key));
      }
    }
    reader.read("match", route.match);
    reader.read("model", route.model);
    reader.finish();
    out.config.routes.push_back(std::move(route));
  }
}

void read_rest(SectionReader& r, std::string_view section, Config& c) {
  if (section == "batching") {
    r.read("max_batch_size", c.batching.max_batch_size);
    r.read("max_delay_ms", c.batching.max_delay_ms);
    r.read("drain_timeout_ms", c.batching.drain_timeout_ms);
  } else if (section == "results") {
    r.read("sidecar", c.results.sidecar);
    r.read("sidecar_suffix", c.results.sidecar_suffix);
  } else if (section == "database") {
    r.read_path("path", c.database.path);
    r.read("retention_days", c.database.retention_days);
  } else if (section == "server") {
    r.read("listen", c.server.listen);
    r.read_path("token_file", c.server.token_file);
    r.read("threads", c.server.threads);
    r.read("max_body_bytes", c.server.max_body_bytes);
    r.read("max_header_bytes", c.server.max_header_bytes);
    r.read("max_connections", c.server.max_connections);
    r.read("idle_timeout_s", c.server.idle_timeout_s);
    r.read("header_timeout_s", c.server.header_timeout_s);
    r.read("max_ws_clients", c.server.max_ws_clients);
    r.read("ws_queue_messages", c.server.ws_queue_messages);
    r.read("ws_queue_bytes", c.server.ws_queue_bytes);
    r.read("ws_heartbeat_s", c.server.ws_heartbeat_s);
  } else if (section == "drift") {
    r.read("window", c.drift.window);
    r.read("reference", c.drift.reference);
    r.read("golden_reference", c.drift.golden_reference);
  } else if (section == "log") {
    r.read("level", c.log.level);
    r.read_enum("format", c.log.format,
                {{"auto", LogFormat::auto_detect},
                 {"text", LogFormat::text},
                 {"json", LogFormat::json},
                 {"journal", LogFormat::journal}});
  }
}

// Paths still relative (the embedded defaults) are taken from the working directory, so the
// effective config, and what --print-config shows, means the same from anywhere.
void make_paths_absolute(Config& c) {
  const auto absolute = [](std::filesystem::path& p) {
    if (!p.empty() && p.is_relative()) p = std::filesystem::absolute(p).lexically_normal();
  };
  for (auto& p : c.watch.paths) absolute(p);
  absolute(c.model.path);
  absolute(c.model.labels_file);
  absolute(c.model.repository);
  absolute(c.database.path);
  absolute(c.server.token_file);
}

// Problems in the order of the file, so people can fix them top to bottom.
void sort_by_position(std::vector<Problem>& problems) {
  std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
}

}  // namespace

Loaded load_string(std::string_view text, const std::filesystem::path& file) {
  Loaded out;
  out.sources.file = file.string();
  out.config.source = file;
  const std::filesystem::path base_dir = file.has_parent_path() ? file.parent_path() : ".";

  auto parsed = parse_toml(text, out.sources.file, out.problems);
  if (!parsed) return out;
  toml::table& root = *parsed;

  for (const auto& [key, node] : root) {
    const std::string_view name = key.str();
    const auto& begin = key.source().begin;
    const bool known = std::find(k_sections.begin(), k_sections.end(), name) != k_sections.end();
    if (name == "route") {
      read_routes(node, out, base_dir);
      continue;
    }
    if (!known || !node.is_table()) {
      std::string message = known ? fmt::format("[{}] must be a table", name)
                                  : fmt::format("unknown section [{}]", name);
      if (!known) {
        if (const auto hint = util::closest_match(name, k_sections); !hint.empty()) {
          message += fmt::format(" (did you mean [{}]?)", hint);
        } else {
          message += fmt::format(" (sections are {})", fmt::join(k_sections, ", "));
        }
      }
      out.problems.push_back(Problem{out.sources.file, static_cast<int>(begin.line),
                                     static_cast<int>(begin.column), std::string(name), message});
      continue;
    }
    SectionReader reader(*node.as_table(), std::string(name), out, base_dir);
    if (name == "watch")
      read_watch(reader, out.config.watch);
    else if (name == "model")
      read_model(reader, out.config.model, base_dir);
    else if (name == "preprocess")
      read_preprocess(reader, out.config.preprocess);
    else if (name == "postprocess")
      read_postprocess(reader, out.config.postprocess);
    else
      read_rest(reader, name, out.config);
    reader.finish();
  }

  make_paths_absolute(out.config);
  // Type errors and value errors together; value checks only for keys that were read cleanly.
  const auto read_problems = out.problems.size();
  for (auto& p : validate(out.config, out.sources)) {
    const auto end = out.problems.begin() + static_cast<std::ptrdiff_t>(read_problems);
    const bool duplicate =
        std::any_of(out.problems.begin(), end, [&](const Problem& q) { return q.key == p.key; });
    if (!duplicate) out.problems.push_back(std::move(p));
  }
  sort_by_position(out.problems);
  return out;
}

Loaded load_file(const std::filesystem::path& file) {
  auto text = util::read_file(file, 16 * 1024 * 1024);
  if (!text) {
    Loaded out;
    out.sources.file = file.string();
    out.config.source = file;
    out.problems.push_back(Problem{file.string(), 0, 0, "", text.error().message});
    return out;
  }
  return load_string(*text, file);
}

Loaded load_defaults() {
  Loaded out;
  out.sources.file = "defaults";
  make_paths_absolute(out.config);
  out.problems = validate(out.config, out.sources);
  return out;
}

}  // namespace inferwatch::config
