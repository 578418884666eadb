#include <inferwatch/config/model_manifest.hpp>

#include "section_reader.hpp"

#include <inferwatch/util/file.hpp>
#include <inferwatch/util/lines.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace inferwatch::config {
namespace {

constexpr std::array<std::string_view, 6> k_tables = {"preprocess", "postprocess", "batching",
                                                      "io",         "gate",        "rollout"};
constexpr std::array<std::string_view, 7> k_dtypes = {"float32", "float16", "bfloat16", "float64",
                                                      "int64",   "int32",   "bool"};

// A shape: an array of positive integers.
void read_shape(SectionReader& r, std::string_view key, std::vector<std::int64_t>& out) {
  const toml::node* node = r.take(key);
  if (!node) return;
  const toml::array* array = node->as_array();
  if (!array || array->empty())
    return r.problem(key, *node, "expected a shape: an array of positive integers, e.g. [8]");
  std::vector<std::int64_t> shape;
  for (const auto& element : *array) {
    const auto v = element.value_exact<std::int64_t>();
    if (!v || *v < 1) return r.problem(key, element, "every dimension must be a positive integer");
    shape.push_back(*v);
  }
  out = std::move(shape);
}

void read_io(SectionReader& r, ModelIo& io) {
  read_shape(r, "input", io.input);
  read_shape(r, "output", io.output);
  r.read("dtype", io.dtype);
}

void read_gate(SectionReader& r, GatePolicy& g) {
  r.read("min_accuracy", g.min_accuracy);
  r.read("max_accuracy_drop", g.max_accuracy_drop);
  r.read("output_tolerance", g.output_tolerance);
  r.read("max_p50_ms", g.max_p50_ms);
  r.read("max_p99_ms", g.max_p99_ms);
}

void read_rollout(SectionReader& r, RolloutPolicy& p) {
  r.read_enum("mode", p.mode,
              {{"immediate", RolloutMode::immediate},
               {"shadow", RolloutMode::shadow},
               {"canary", RolloutMode::canary}});
  r.read("canary_fraction", p.canary_fraction);
  r.read("min_files", p.min_files);
  r.read("min_agreement", p.min_agreement);
  r.read("max_error_rate", p.max_error_rate);
  r.read("max_latency_ratio", p.max_latency_ratio);
  r.read("auto_promote", p.auto_promote);
  r.read("min_feedback_accuracy", p.min_feedback_accuracy);
  r.read("min_feedback_count", p.min_feedback_count);
}

// A model version is one self-contained directory (it may arrive as an uploaded archive): the
// files it names are plain names inside it.
bool plain_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

// Checks of the manifest's own tables, located like config::validate's.
class Checks {
 public:
  Checks(const SourceMap& sources, std::vector<Problem>& out) : m_sources(sources), m_out(out) {}

  void fail(const std::string& key, std::string message) {
    Problem p{m_sources.file, 0, 0, key, std::move(message)};
    if (const auto it = m_sources.positions.find(key); it != m_sources.positions.end()) {
      p.line = it->second.first;
      p.column = it->second.second;
    }
    m_out.push_back(std::move(p));
  }

  void fraction(const std::string& key, double value) {
    if (!(value >= 0.0 && value <= 1.0))
      fail(key, fmt::format("{} is out of range; allowed: 0 to 1", value));
  }

  void non_negative(const std::string& key, double value, std::string_view unit = "") {
    if (!(value >= 0.0 && std::isfinite(value)))
      fail(key, fmt::format("{}{} must be a finite number ≥ 0", value, unit));
  }

 private:
  const SourceMap& m_sources;
  std::vector<Problem>& m_out;
};

void check_manifest(const ModelManifest& m, const std::string& file_name, const SourceMap& sources,
                    std::vector<Problem>& out) {
  Checks c(sources, out);
  if (!plain_name(file_name))
    c.fail("model.file",
           fmt::format("\"{}\" must be a file name in the version directory", file_name));
  if (!m.model.labels_file.empty() && m.model.labels_file.parent_path() != m.directory)
    c.fail("model.labels", "a labels file must be in the version directory");

  const std::int64_t channels = m.preprocess.colour == Colour::gray ? 1 : 3;
  const std::vector<std::int64_t> fed{channels, m.preprocess.height, m.preprocess.width};
  if (!m.io.input.empty() && m.io.input != fed) {
    c.fail("io.input", fmt::format("[{}] is not what [preprocess] makes: [{}] (colour \"{}\", "
                                   "size [{}, {}])",
                                   fmt::join(m.io.input, ", "), fmt::join(fed, ", "),
                                   m.preprocess.colour == Colour::gray ? "gray" : "rgb",
                                   m.preprocess.height, m.preprocess.width));
  }
  if (std::find(k_dtypes.begin(), k_dtypes.end(), m.io.dtype) == k_dtypes.end()) {
    c.fail("io.dtype",
           fmt::format("\"{}\" is not one of {}", m.io.dtype, fmt::join(k_dtypes, ", ")));
  }
  if (m.postprocess.mode == PostprocessMode::classification && m.io.output.size() > 1) {
    c.fail("io.output", fmt::format("classification needs one score per label: [classes], got [{}]",
                                    fmt::join(m.io.output, ", ")));
  } else if (m.postprocess.mode == PostprocessMode::classification && m.io.output.size() == 1 &&
             !m.model.labels.empty() &&
             m.io.output[0] != static_cast<std::int64_t>(m.model.labels.size())) {
    c.fail("io.output",
           fmt::format("[{}] scores but {} labels", m.io.output[0], m.model.labels.size()));
  }

  c.fraction("gate.min_accuracy", m.gate.min_accuracy);
  c.fraction("gate.max_accuracy_drop", m.gate.max_accuracy_drop);
  c.non_negative("gate.output_tolerance", m.gate.output_tolerance);
  c.non_negative("gate.max_p50_ms", m.gate.max_p50_ms, " ms");
  c.non_negative("gate.max_p99_ms", m.gate.max_p99_ms, " ms");

  c.fraction("rollout.canary_fraction", m.rollout.canary_fraction);
  if (m.rollout.min_files < 1 || m.rollout.min_files > 100'000'000)
    c.fail("rollout.min_files",
           fmt::format("{} is out of range; allowed: 1 to 100000000", m.rollout.min_files));
  c.fraction("rollout.min_agreement", m.rollout.min_agreement);
  c.fraction("rollout.max_error_rate", m.rollout.max_error_rate);
  c.fraction("rollout.min_feedback_accuracy", m.rollout.min_feedback_accuracy);
  if (m.rollout.min_feedback_count < 1 || m.rollout.min_feedback_count > 100'000'000)
    c.fail("rollout.min_feedback_count", fmt::format("{} is out of range; allowed: 1 to 100000000",
                                                     m.rollout.min_feedback_count));
  if (!(m.rollout.max_latency_ratio > 0.0 && m.rollout.max_latency_ratio <= 1000.0))
    c.fail("rollout.max_latency_ratio", fmt::format("{} is out of range; allowed: above 0 to 1000",
                                                    m.rollout.max_latency_ratio));
}

// Keys of the top level are read under "model." (so config::validate's [model] checks find them)
// but written in model.toml without it.
void strip_model_prefix(std::vector<Problem>& problems) {
  for (auto& p : problems) {
    if (p.key.starts_with("model.")) p.key.erase(0, 6);
  }
}

}  // namespace

std::string_view to_string(RolloutMode mode) {
  switch (mode) {
    case RolloutMode::shadow:
      return "shadow";
    case RolloutMode::canary:
      return "canary";
    case RolloutMode::immediate:
      break;
  }
  return "immediate";
}

LoadedManifest load_manifest_string(std::string_view text,
                                    const std::filesystem::path& version_dir) {
  const std::filesystem::path dir = std::filesystem::absolute(version_dir).lexically_normal();
  const std::filesystem::path file = dir / k_manifest_file;
  LoadedManifest out;
  ModelManifest& m = out.manifest;
  m.directory = dir;
  m.version = dir.filename().string();
  m.name = dir.parent_path().filename().string();
  m.model.name = m.name;
  out.sources.file = file.string();

  auto parsed = parse_toml(text, out.sources.file, out.problems);
  if (!parsed) return out;
  toml::table& root = *parsed;

  // The loader's readers report into a config::Loaded; its problems and positions are ours.
  Loaded scratch;
  scratch.sources.file = out.sources.file;
  SectionReader top(root, "model", scratch, dir);
  std::string file_name = "model.pt";
  top.read("file", file_name);
  read_labels(top, m.model, dir);
  read_model_runtime(top, m.model);
  for (const std::string_view name : k_tables) {
    const toml::node* node = top.take(name);
    if (!node) continue;
    if (!node->is_table()) {
      top.problem(name, *node, fmt::format("[{}] must be a table", name));
      continue;
    }
    SectionReader r(*node->as_table(), std::string(name), scratch, dir);
    if (name == "preprocess") {
      read_preprocess(r, m.preprocess);
    } else if (name == "postprocess") {
      read_postprocess(r, m.postprocess);
    } else if (name == "batching") {
      r.read("max_batch_size", m.batching.max_batch_size);
      r.read("max_delay_ms", m.batching.max_delay_ms);
    } else if (name == "io") {
      read_io(r, m.io);
    } else if (name == "gate") {
      read_gate(r, m.gate);
    } else {
      read_rollout(r, m.rollout);
    }
    r.finish();
  }
  top.finish();
  m.model.path = dir / file_name;

  // No `labels` key: a labels.txt beside the model, else the labels embedded in the model.
  if (!root.contains("labels")) {
    std::error_code ec;
    const std::filesystem::path labels_txt = dir / "labels.txt";
    if (std::filesystem::is_regular_file(labels_txt, ec)) {
      auto labels = util::read_file(labels_txt, 16 * 1024 * 1024);
      if (!labels) {
        scratch.problems.push_back(Problem{labels_txt.string(), 0, 0, "", labels.error().message});
      } else {
        m.model.labels = util::non_empty_lines(*labels);
        m.model.labels_file = labels_txt;
      }
    }
  }

  out.sources = std::move(scratch.sources);
  out.problems = std::move(scratch.problems);
  // Value checks only for keys that were read cleanly, as the loader does.
  std::vector<Problem> checks = validate(to_config(m), out.sources);
  check_manifest(m, file_name, out.sources, checks);
  const auto read_problems = out.problems.size();
  for (auto& p : checks) {
    const auto end = out.problems.begin() + static_cast<std::ptrdiff_t>(read_problems);
    if (std::none_of(out.problems.begin(), end, [&](const Problem& q) { return q.key == p.key; }))
      out.problems.push_back(std::move(p));
  }
  strip_model_prefix(out.problems);
  std::stable_sort(out.problems.begin(), out.problems.end(),
                   [](const Problem& a, const Problem& b) {
                     return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                   });
  return out;
}

LoadedManifest load_manifest(const std::filesystem::path& version_dir) {
  const std::filesystem::path file = version_dir / k_manifest_file;
  auto text = util::read_file(file, 1024 * 1024);
  if (!text) {
    LoadedManifest out;
    out.sources.file = file.string();
    out.manifest.directory = std::filesystem::absolute(version_dir).lexically_normal();
    out.problems.push_back(Problem{file.string(), 0, 0, "", text.error().message});
    return out;
  }
  return load_manifest_string(*text, version_dir);
}

Config to_config(const ModelManifest& manifest, Config base) {
  base.model = manifest.model;
  base.model.version = manifest.version;
  base.preprocess = manifest.preprocess;
  base.postprocess = manifest.postprocess;
  base.batching.max_batch_size = manifest.batching.max_batch_size;
  base.batching.max_delay_ms = manifest.batching.max_delay_ms;
  base.source = manifest.directory / k_manifest_file;
  return base;
}

}  // namespace inferwatch::config
