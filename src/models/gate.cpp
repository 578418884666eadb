#include <inferwatch/models/gate.hpp>

#include <inferwatch/infer/postprocessor.hpp>
#include <inferwatch/infer/torch_model.hpp>
#include <inferwatch/models/gate_checks.hpp>
#include <inferwatch/util/file.hpp>
#include <inferwatch/util/time.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>

namespace inferwatch::models {
namespace {

using Clock = std::chrono::steady_clock;

// Reasons by code, in the order first seen; repeats of a code are counted, not listed.
class Reasons {
 public:
  void add(const std::string& code, std::string message) {
    for (auto& r : m_reasons) {
      if (r.reason.code == code) {
        ++r.more;
        return;
      }
    }
    m_reasons.push_back({GateReason{code, std::move(message)}, 0});
  }

  std::vector<GateReason> take() {
    std::vector<GateReason> out;
    for (auto& r : m_reasons) {
      if (r.more > 0) r.reason.message += fmt::format(" (and {} more)", r.more);
      out.push_back(std::move(r.reason));
    }
    return out;
  }

 private:
  struct Entry {
    GateReason reason;
    std::size_t more;
  };
  std::vector<Entry> m_reasons;
};

// What each image's output must look like, from [io] and the labels.
struct Contract {
  std::vector<std::int64_t> shape;  // empty: any
  bool one_dimensional = false;     // classification: one score per class
  std::string dtype;                // LibTorch's name
};

Contract contract_of(const config::ModelManifest& m, const infer::ModelInfo& info) {
  Contract c;
  const bool classification = m.postprocess.mode == config::PostprocessMode::classification;
  c.shape = m.io.output;
  if (c.shape.empty() && classification && !info.labels.empty())
    c.shape = {static_cast<std::int64_t>(info.labels.size())};
  c.one_dimensional = classification;
  c.dtype = torch_dtype(m.io.dtype);
  // Reduced precision turns floating outputs into its own type.
  const bool floating = m.io.dtype.starts_with("float") || m.io.dtype == "bfloat16";
  if (floating && m.model.precision == config::Precision::fp16) c.dtype = "Half";
  if (floating && m.model.precision == config::Precision::bf16) c.dtype = "BFloat16";
  return c;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

// One golden image (or the stand-in input) on its way through the checks.
struct Item {
  const GoldenImage* image = nullptr;  // null: the mid-gray stand-in
  std::optional<std::size_t> label;    // index into the model's labels
  Input input;
  std::string name() const { return image ? image->name : "a mid-gray input"; }
};

std::vector<Item> prepare_items(Engine& engine, const config::ModelManifest& manifest,
                                const GoldenSet& golden, std::int64_t max_file_bytes,
                                Reasons& reasons) {
  const auto& labels = engine.info().labels;
  const bool classification = manifest.postprocess.mode == config::PostprocessMode::classification;
  std::vector<Item> items(golden.images.size());
  for (std::size_t i = 0; i < golden.images.size(); ++i) {
    Item& item = items[i];
    item.image = &golden.images[i];
    item.input.path = item.image->name;
    if (classification) {
      const auto it = std::find(labels.begin(), labels.end(), item.image->label);
      if (it != labels.end()) {
        item.label = static_cast<std::size_t>(it - labels.begin());
      } else {
        reasons.add("golden_set_invalid",
                    labels.empty()
                        ? fmt::format("golden/{}: the model has no labels to match the "
                                      "folder names with",
                                      item.image->label)
                        : fmt::format("golden/{}: \"{}\" is not one of the model's {} "
                                      "labels",
                                      item.image->name, item.image->label, labels.size()));
      }
    }
    auto bytes = util::read_file(item.image->file, max_file_bytes);
    if (bytes)
      item.input.prepared = engine.prepare(*bytes);
    else
      item.input.prepared.input = bytes.error();
    if (!item.input.prepared.input) {
      const auto& e = item.input.prepared.input.error();
      reasons.add("golden_set_invalid",
                  fmt::format("golden/{}: {}: {}", item.image->name, e.code, e.message));
    }
  }
  if (items.empty()) {  // still look at one output: shapes, dtype, NaN
    Item& stand_in = items.emplace_back();
    stand_in.input.path = "mid-gray";
    stand_in.input.prepared.input = infer::zero_input(engine.info());
  }
  return items;
}

struct OutputFacts {
  std::size_t scored = 0, correct = 0;
  std::optional<double> max_diff;
  std::string worst_file;
  // Serving's postprocessing (top 1), for the drift reference; null unless classification.
  const infer::Postprocessor* classify = nullptr;
  DriftHistogram predictions;
};

void check_output(const Item& item, const results::Record& record, const Contract& contract,
                  OutputFacts& facts, Reasons& reasons) {
  if (!record.ok()) {
    reasons.add("inference_failed",
                fmt::format("{}: {}: {}", item.name(), record.error->code, record.error->message));
    return;
  }
  if (!record.output) return;
  auto tensor = output_tensor(*record.output);
  if (!tensor) {
    reasons.add("shape_mismatch", fmt::format("{}: {}", item.name(), tensor.error().message));
    return;
  }
  bool shape_ok = contract.shape.empty() || tensor->shape == contract.shape;
  if (contract.one_dimensional && tensor->shape.size() != 1) shape_ok = false;
  if (!shape_ok) {
    reasons.add(
        "shape_mismatch",
        fmt::format("the output per image is {}, model.toml says {}", shape_text(tensor->shape),
                    contract.shape.empty() ? "[classes]" : shape_text(contract.shape)));
  }
  if (!contract.dtype.empty() && tensor->dtype != contract.dtype) {
    reasons.add("dtype_mismatch",
                fmt::format("the output is {}, model.toml says {}", tensor->dtype, contract.dtype));
  }
  if (tensor->non_finite > 0) {
    reasons.add("non_finite_output",
                fmt::format("{}: {} of {} output values are NaN or infinite", item.name(),
                            tensor->non_finite, tensor->values.size()));
  }
  if (facts.classify && shape_ok && tensor->non_finite == 0 && item.image) {
    const std::vector<float> scores(tensor->values.begin(), tensor->values.end());
    const auto top = facts.classify->classify(scores);
    if (!top.empty()) facts.predictions.add(drift_sample(top.front().index, top.front().score));
  }
  if (item.label) {
    ++facts.scored;
    if (shape_ok && top1(tensor->values) == item.label) ++facts.correct;
  }
  if (item.image && item.image->expected) {
    const auto diff = max_abs_diff(tensor->values, *item.image->expected);
    if (!diff) {
      reasons.add("expected_output_mismatch",
                  fmt::format("{}: the model gives {} values, expected.jsonl has {}", item.name(),
                              tensor->values.size(), item.image->expected->size()));
      return;
    }
    if (!facts.max_diff || *diff > *facts.max_diff) {
      facts.max_diff = *diff;
      facts.worst_file = item.name();
    }
  }
}

// One-image forwards over every prepared input, `rounds` times.
std::vector<double> forward_times(Engine& engine, const std::vector<Item>& items, int rounds) {
  std::vector<double> samples;
  for (int round = 0; round < rounds; ++round) {
    for (const Item& item : items) {
      if (!item.input.prepared.input) continue;
      const infer::InputTensor* one = &item.input.prepared.input.value();
      const auto started = Clock::now();
      const auto out = engine.model().forward(std::span<const infer::InputTensor* const>(&one, 1));
      if (!out) return samples;  // already reported by the golden-set pass
      samples.push_back(util::ms_between(started, Clock::now()));
    }
  }
  return samples;
}

}  // namespace

bool GateVerdict::has(std::string_view code) const {
  return std::any_of(reasons.begin(), reasons.end(),
                     [&](const GateReason& r) { return r.code == code; });
}

GateVerdict Gate::judge(Engine& engine, const config::ModelManifest& manifest,
                        const GoldenSet& golden, GateVerdict verdict) const {
  const auto started = Clock::now();
  const infer::ModelInfo& info = engine.info();
  const config::GatePolicy& policy = manifest.gate;
  verdict.model_version = info.version;
  verdict.policy = policy;
  GateNumbers& n = verdict.numbers;
  n.golden_images = golden.images.size();
  n.expected_outputs = golden.expected_outputs;
  n.live_accuracy = m_options.live_accuracy;
  Reasons reasons;

  if (info.non_finite_parameters > 0) {
    reasons.add("non_finite_weights",
                fmt::format("{} value(s) in the model's weights and buffers are NaN or infinite",
                            info.non_finite_parameters));
  }
  for (const auto& problem : golden.problems) reasons.add("golden_set_invalid", problem);
  if (policy.min_accuracy > 0 && golden.images.empty()) {
    reasons.add("golden_set_invalid",
                fmt::format("[gate] min_accuracy = {} needs a golden set (golden/<label>/<image>)",
                            policy.min_accuracy));
  }

  std::vector<Item> items =
      prepare_items(engine, manifest, golden, m_options.max_file_bytes, reasons);
  const Contract contract = contract_of(manifest, info);
  OutputFacts facts;
  std::optional<infer::Postprocessor> classify;
  if (contract.one_dimensional) {
    config::Postprocess top1 = manifest.postprocess;
    top1.top_k = 1;
    classify.emplace(top1, info.labels);
    facts.classify = &*classify;
  }
  const auto batch_size = static_cast<std::size_t>(std::max(1, info.max_batch_size));
  for (std::size_t first = 0; first < items.size(); first += batch_size) {
    const std::size_t last = std::min(items.size(), first + batch_size);
    std::vector<Input*> batch;
    for (std::size_t i = first; i < last; ++i) batch.push_back(&items[i].input);
    const std::vector<results::Record> records = engine.run(batch);
    for (std::size_t i = first; i < last; ++i) {
      if (items[i].input.prepared.input)  // a failed preparation is reported already
        check_output(items[i], records[i - first], contract, facts, reasons);
    }
  }

  if (facts.scored > 0) {
    n.accuracy = static_cast<double>(facts.correct) / static_cast<double>(facts.scored);
    constexpr double k_slack = 1e-9;  // accuracies are ratios of counts
    if (policy.min_accuracy > 0 && *n.accuracy + k_slack < policy.min_accuracy) {
      reasons.add("accuracy_below_threshold",
                  fmt::format("golden-set accuracy {:.4f} ({} of {}) is below min_accuracy {}",
                              *n.accuracy, facts.correct, facts.scored, policy.min_accuracy));
    }
    if (n.live_accuracy && *n.accuracy + k_slack < *n.live_accuracy - policy.max_accuracy_drop) {
      reasons.add("accuracy_drop",
                  fmt::format("golden-set accuracy {:.4f} is more than max_accuracy_drop {} below "
                              "the live version's {:.4f}",
                              *n.accuracy, policy.max_accuracy_drop, *n.live_accuracy));
    }
  }
  verdict.golden_predictions = facts.predictions;
  n.max_output_diff = facts.max_diff;
  n.worst_file = facts.worst_file;
  if (facts.max_diff && *facts.max_diff > policy.output_tolerance) {
    reasons.add("expected_output_mismatch",
                fmt::format("{}: the output differs from expected.jsonl by up to {:.6g} (tolerance "
                            "{}); training and serving probably preprocess differently",
                            facts.worst_file, *facts.max_diff, policy.output_tolerance));
  }

  const std::vector<double> samples = forward_times(engine, items, m_options.latency_rounds);
  n.latency_samples = samples.size();
  if (!samples.empty()) {
    n.p50_ms = percentile(samples, 50);
    n.p99_ms = percentile(samples, 99);
    if (policy.max_p50_ms > 0 && *n.p50_ms > policy.max_p50_ms) {
      reasons.add("latency_over_budget",
                  fmt::format("p50 {:.2f} ms is over max_p50_ms {}", *n.p50_ms, policy.max_p50_ms));
    }
    if (policy.max_p99_ms > 0 && *n.p99_ms > policy.max_p99_ms) {
      reasons.add("latency_over_budget",
                  fmt::format("p99 {:.2f} ms is over max_p99_ms {}", *n.p99_ms, policy.max_p99_ms));
    }
  }

  for (auto& r : reasons.take()) verdict.reasons.push_back(std::move(r));
  verdict.passed = verdict.reasons.empty();
  n.elapsed_ms += util::ms_between(started, Clock::now());
  return verdict;
}

GateVerdict Gate::run(const config::ModelManifest& manifest, const config::Config& base) const {
  const auto started = Clock::now();
  GateVerdict verdict;
  verdict.name = manifest.name;
  verdict.version = manifest.version;
  verdict.policy = manifest.gate;
  const GoldenSet golden = load_golden_set(manifest.directory);

  // Raw outputs: the gate compares what the model gives, before any softmax or top-k.
  config::Config config = config::to_config(manifest, base);
  config.postprocess.mode = config::PostprocessMode::raw;
  auto model = infer::load_torch_model(config);
  if (!model) {
    // model_invalid: the warm-up forward on the configured input shape failed.
    const bool rejected_input = model.error().code == "model_invalid";
    verdict.reasons.push_back(
        GateReason{rejected_input ? "shape_mismatch" : "load_failed", model.error().message});
    verdict.numbers.golden_images = golden.images.size();
    verdict.numbers.elapsed_ms = util::ms_between(started, Clock::now());
    return verdict;
  }
  verdict.numbers.load_ms = (*model)->info().load_ms + (*model)->info().warmup_ms;
  Engine engine(std::move(*model), config.preprocess, config.postprocess);
  verdict.numbers.elapsed_ms = util::ms_between(started, Clock::now());
  return judge(engine, manifest, golden, std::move(verdict));
}

boost::json::object to_json(const GateVerdict& v) {
  const auto optional = [](const std::optional<double>& x) {
    return x ? boost::json::value(*x) : boost::json::value(nullptr);
  };
  boost::json::array reasons;
  for (const auto& r : v.reasons)
    reasons.push_back(boost::json::object{{"code", r.code}, {"message", r.message}});
  const GateNumbers& n = v.numbers;
  boost::json::object numbers{
      {"golden_images", n.golden_images},
      {"expected_outputs", n.expected_outputs},
      {"accuracy", optional(n.accuracy)},
      {"live_accuracy", optional(n.live_accuracy)},
      {"max_output_diff", optional(n.max_output_diff)},
      {"worst_file",
       n.worst_file.empty() ? boost::json::value(nullptr) : boost::json::value(n.worst_file)},
      {"p50_ms", optional(n.p50_ms)},
      {"p99_ms", optional(n.p99_ms)},
      {"latency_samples", n.latency_samples},
      {"load_ms", n.load_ms},
      {"elapsed_ms", n.elapsed_ms},
  };
  const config::GatePolicy& p = v.policy;
  boost::json::object policy{
      {"min_accuracy", p.min_accuracy},
      {"max_accuracy_drop", p.max_accuracy_drop},
      {"output_tolerance", p.output_tolerance},
      {"max_p50_ms", p.max_p50_ms},
      {"max_p99_ms", p.max_p99_ms},
  };
  return boost::json::object{
      {"name", v.name},
      {"version", v.version},
      {"model_version", v.model_version},
      {"passed", v.passed},
      {"reasons", std::move(reasons)},
      {"numbers", std::move(numbers)},
      {"policy", std::move(policy)},
  };
}

}  // namespace inferwatch::models
