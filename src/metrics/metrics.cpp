#include <inferwatch/metrics/metrics.hpp>

#include "process_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <sstream>

namespace inferwatch::metrics {
namespace {

using prometheus::Histogram;

// Seconds, from 0.5 ms (a decode of a small crop) to 30 s (a stuck writer).
Histogram::BucketBoundaries latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

constexpr std::array<std::string_view, 5> k_stages = {"settle", "queue", "decode", "infer",
                                                      "write"};
constexpr std::array<std::string_view, 7> k_rescan_reasons = {
    "startup", "periodic", "overflow", "unknown_watch", "watch_failed", "retry", "requested"};
constexpr std::array<std::string_view, 5> k_code_classes = {"1xx", "2xx", "3xx", "4xx", "5xx"};
constexpr std::array<std::string_view, 3> k_arms = {"live", "shadow", "canary"};
constexpr std::array<std::string_view, 5> k_rollout_states = {"stable", "shadow", "canary",
                                                              "promoted", "rolled_back"};
constexpr std::array<std::string_view, 5> k_rollback_reasons = {"manual", "error_rate", "agreement",
                                                                "latency", "feedback_accuracy"};

// `value` when it is one of `known`, else `fallback`: label values stay a closed set.
template <std::size_t N>
std::string closed(std::string_view value, const std::array<std::string_view, N>& known,
                   std::string_view fallback) {
  const bool ok = std::find(known.begin(), known.end(), value) != known.end();
  return std::string(ok ? value : fallback);
}

}  // namespace

struct Metrics::Families {
  explicit Families(prometheus::Registry& r)
      : detected(prometheus::BuildCounter()
                     .Name("inferwatch_files_detected_total")
                     .Help("Candidate files reported by inotify events or scans")
                     .Register(r)
                     .Add({})),
        results(prometheus::BuildCounter()
                    .Name("inferwatch_results_total")
                    .Help("Results committed, by status")
                    .Register(r)),
        results_ok(results.Add({{"status", "ok"}})),
        results_error(results.Add({{"status", "error"}})),
        queue(prometheus::BuildGauge()
                  .Name("inferwatch_queue_depth")
                  .Help("Files waiting or being processed, by state")
                  .Register(r)),
        pending(queue.Add({{"state", "pending"}})),
        in_flight(queue.Add({{"state", "in_flight"}})),
        settling(queue.Add({{"state", "settling"}})),
        batch_size(prometheus::BuildHistogram()
                       .Name("inferwatch_batch_size")
                       .Help("Images per model forward pass")
                       .Register(r)
                       .Add({}, Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256})),
        stages(
            prometheus::BuildHistogram()
                .Name("inferwatch_stage_duration_seconds")
                .Help("Time spent per pipeline stage (infer and write per batch, others per file)")
                .Register(r)),
        end_to_end(prometheus::BuildHistogram()
                       .Name("inferwatch_end_to_end_latency_seconds")
                       .Help("From a file being detected to its result being committed")
                       .Register(r)
                       .Add({}, latency_buckets())),
        overflows(prometheus::BuildCounter()
                      .Name("inferwatch_inotify_overflows_total")
                      .Help("inotify queue overflows (each triggers a full rescan)")
                      .Register(r)
                      .Add({})),
        rescans(prometheus::BuildCounter()
                    .Name("inferwatch_rescans_total")
                    .Help("Full rescans of the watch roots, by reason")
                    .Register(r)),
        http(prometheus::BuildCounter()
                 .Name("inferwatch_http_requests_total")
                 .Help("HTTP requests, by route and status class")
                 .Register(r)),
        ws_clients(prometheus::BuildGauge()
                       .Name("inferwatch_websocket_clients")
                       .Help("Connected WebSocket result streams")
                       .Register(r)
                       .Add({})),
        ws_disconnects(prometheus::BuildCounter()
                           .Name("inferwatch_websocket_disconnects_total")
                           .Help("WebSocket streams ended, by reason")
                           .Register(r)),
        model_info(prometheus::BuildGauge()
                       .Name("inferwatch_model_info")
                       .Help("The model in use (value 1), by name, version and device")
                       .Register(r)),
        reloads(prometheus::BuildCounter()
                    .Name("inferwatch_model_reloads_total")
                    .Help("Model reloads, by result")
                    .Register(r)),
        config_reloads(prometheus::BuildCounter()
                           .Name("inferwatch_config_reloads_total")
                           .Help("Configuration reloads (SIGHUP), by result")
                           .Register(r)),
        store_failures(prometheus::BuildCounter()
                           .Name("inferwatch_store_failures_total")
                           .Help("Store rounds that failed (database busy, full or failing) and "
                                 "are retried with backoff")
                           .Register(r)
                           .Add({})),
        model_results(prometheus::BuildCounter()
                          .Name("inferwatch_model_results_total")
                          .Help("Results made by each model version, by arm (live, shadow, "
                                "canary) and status")
                          .Register(r)),
        model_latency(prometheus::BuildHistogram()
                          .Name("inferwatch_model_inference_seconds")
                          .Help("One file's share of a model version's forward pass, by arm")
                          .Register(r)),
        gate_verdicts(prometheus::BuildCounter()
                          .Name("inferwatch_model_gate_verdicts_total")
                          .Help("Gate verdicts on new model versions, by result (passed, refused)")
                          .Register(r)),
        promotions(prometheus::BuildCounter()
                       .Name("inferwatch_model_promotions_total")
                       .Help("Candidate versions made live, automatically or by hand")
                       .Register(r)),
        rollbacks(prometheus::BuildCounter()
                      .Name("inferwatch_model_rollbacks_total")
                      .Help("Rollbacks, by reason (manual, error_rate, agreement, latency)")
                      .Register(r)),
        rollout_files(prometheus::BuildGauge()
                          .Name("inferwatch_model_rollout_files")
                          .Help("Files counted in the model's current (or last) rollout")
                          .Register(r)),
        rollout_started(prometheus::BuildGauge()
                            .Name("inferwatch_model_rollout_started_timestamp_seconds")
                            .Help("When the model's current (or last) rollout started (Unix time)")
                            .Register(r)),
        rollout_agreement(prometheus::BuildGauge()
                              .Name("inferwatch_model_rollout_agreement_ratio")
                              .Help("Top-1 agreement of the shadow candidate with the live "
                                    "version so far (absent until measured)")
                              .Register(r)),
        rollout_state(prometheus::BuildGauge()
                          .Name("inferwatch_model_rollout_state")
                          .Help("1 for the model's current rollout state, 0 for the others")
                          .Register(r)),
        predictions(prometheus::BuildCounter()
                        .Name("inferwatch_model_predictions_total")
                        .Help("Top-1 predictions of each model version, by label (the version's "
                              "labels, past the first 100 other)")
                        .Register(r)),
        top1_score(prometheus::BuildHistogram()
                       .Name("inferwatch_model_top1_score")
                       .Help("Top-1 probability of each model version's results")
                       .Register(r)),
        drift(prometheus::BuildGauge()
                  .Name("inferwatch_model_drift_score")
                  .Help("Population stability index of a model version's latest results "
                        "against its reference, by signal (labels: top-1 labels, scores: "
                        "binned top-1 scores); absent until measured")
                  .Register(r)),
        version_info(prometheus::BuildGauge()
                         .Name("inferwatch_model_version_info")
                         .Help("1 for each version of each model, by its state")
                         .Register(r)) {
    for (std::size_t i = 0; i < k_stages.size(); ++i) {
      stage[i] = &stages.Add({{"stage", std::string(k_stages[i])}}, latency_buckets());
    }
    for (const auto reason : k_rescan_reasons) rescans.Add({{"reason", std::string(reason)}});
    for (const auto reason : {"slow_consumer", "client_closed", "error", "shutdown"}) {
      ws_disconnects.Add({{"reason", reason}});
    }
    reloads.Add({{"result", "ok"}});
    reloads.Add({{"result", "failed"}});
    config_reloads.Add({{"result", "ok"}});
    config_reloads.Add({{"result", "failed"}});
  }

  prometheus::Counter& detected;
  prometheus::Family<prometheus::Counter>& results;
  prometheus::Counter& results_ok;
  prometheus::Counter& results_error;
  prometheus::Family<prometheus::Gauge>& queue;
  prometheus::Gauge& pending;
  prometheus::Gauge& in_flight;
  prometheus::Gauge& settling;
  prometheus::Histogram& batch_size;
  prometheus::Family<prometheus::Histogram>& stages;
  std::array<prometheus::Histogram*, 5> stage{};
  prometheus::Histogram& end_to_end;
  prometheus::Counter& overflows;
  prometheus::Family<prometheus::Counter>& rescans;
  prometheus::Family<prometheus::Counter>& http;
  prometheus::Gauge& ws_clients;
  prometheus::Family<prometheus::Counter>& ws_disconnects;
  prometheus::Family<prometheus::Gauge>& model_info;
  prometheus::Family<prometheus::Counter>& reloads;
  prometheus::Family<prometheus::Counter>& config_reloads;
  prometheus::Counter& store_failures;
  prometheus::Family<prometheus::Counter>& model_results;
  prometheus::Family<prometheus::Histogram>& model_latency;
  prometheus::Family<prometheus::Counter>& gate_verdicts;
  prometheus::Family<prometheus::Counter>& promotions;
  prometheus::Family<prometheus::Counter>& rollbacks;
  prometheus::Family<prometheus::Gauge>& rollout_files;
  prometheus::Family<prometheus::Gauge>& rollout_started;
  prometheus::Family<prometheus::Gauge>& rollout_agreement;
  prometheus::Family<prometheus::Gauge>& rollout_state;
  prometheus::Family<prometheus::Counter>& predictions;
  prometheus::Family<prometheus::Histogram>& top1_score;
  prometheus::Family<prometheus::Gauge>& drift;
  prometheus::Family<prometheus::Gauge>& version_info;
  std::mutex model_mutex;  // guards the model_info series swap and the two maps below
  prometheus::Gauge* model_current = nullptr;
  std::map<std::string, prometheus::Gauge*> agreement_series;       // by model
  std::map<std::string, std::vector<prometheus::Gauge*>> versions;  // by model
};

// Feedback (SPEC §11). Per model version: two counters, two result gauges, one accuracy gauge and
// two gauges per label (precision, recall), at most k_max_feedback_labels labels. The confusion
// matrix (labels² series per version) stays in GET /v1/models/{name}/quality.
struct Metrics::FeedbackFamilies {
  explicit FeedbackFamilies(prometheus::Registry& r)
      : recorded(prometheus::BuildCounter()
                     .Name("inferwatch_feedback_total")
                     .Help("Feedback recorded since the daemon started, by the model version that "
                           "made the result and outcome (confirmed, corrected)")
                     .Register(r)),
        results(prometheus::BuildGauge()
                    .Name("inferwatch_feedback_results")
                    .Help("Results whose current feedback confirms or corrects them, by model "
                          "version and outcome (read from the database: survives restarts)")
                    .Register(r)),
        accuracy(prometheus::BuildGauge()
                     .Name("inferwatch_feedback_accuracy_ratio")
                     .Help("Share of a model version's results with feedback whose current "
                           "feedback confirms the predicted label (absent without feedback)")
                     .Register(r)),
        precision(prometheus::BuildGauge()
                      .Name("inferwatch_feedback_label_precision_ratio")
                      .Help("Per label: results predicted this label that feedback confirms, over "
                            "those predicted it (absent while none was)")
                      .Register(r)),
        recall(prometheus::BuildGauge()
                   .Name("inferwatch_feedback_label_recall_ratio")
                   .Help("Per label: results feedback gives this label that were predicted it, "
                         "over those feedback gives it (absent while none)")
                   .Register(r)) {}

  prometheus::Family<prometheus::Counter>& recorded;
  prometheus::Family<prometheus::Gauge>& results;
  prometheus::Family<prometheus::Gauge>& accuracy;
  prometheus::Family<prometheus::Gauge>& precision;
  prometheus::Family<prometheus::Gauge>& recall;
  std::mutex mutex;  // guards series
  // The ratio series set for each "<model>@<version>", removed when replaced.
  std::map<std::string,
           std::vector<std::pair<prometheus::Family<prometheus::Gauge>*, prometheus::Gauge*>>>
      series;
};

Metrics::Metrics()
    : m_registry(std::make_shared<prometheus::Registry>()),
      m_f(std::make_unique<Families>(*m_registry)),
      m_feedback(std::make_unique<FeedbackFamilies>(*m_registry)) {}
Metrics::~Metrics() = default;

void Metrics::file_detected(std::uint64_t n) { m_f->detected.Increment(static_cast<double>(n)); }
void Metrics::result_stored(bool ok) { (ok ? m_f->results_ok : m_f->results_error).Increment(); }
void Metrics::batch_formed(std::size_t size) { m_f->batch_size.Observe(static_cast<double>(size)); }
void Metrics::stage(Stage s, double seconds) {
  m_f->stage[static_cast<std::size_t>(s)]->Observe(seconds);
}
void Metrics::end_to_end(double seconds) { m_f->end_to_end.Observe(seconds); }
void Metrics::inotify_overflow() { m_f->overflows.Increment(); }

void Metrics::rescan(std::string_view reason) {
  const bool known =
      std::find(k_rescan_reasons.begin(), k_rescan_reasons.end(), reason) != k_rescan_reasons.end();
  m_f->rescans.Add({{"reason", known ? std::string(reason) : "requested"}}).Increment();
}

void Metrics::http_request(std::string_view route, unsigned status) {
  const unsigned cls = std::clamp(status / 100, 1u, 5u);
  m_f->http.Add({{"route", std::string(route)}, {"code", std::string(k_code_classes[cls - 1])}})
      .Increment();
}

void Metrics::websocket_clients(std::int64_t n) { m_f->ws_clients.Set(static_cast<double>(n)); }
void Metrics::websocket_disconnect(std::string_view reason) {
  m_f->ws_disconnects.Add({{"reason", std::string(reason)}}).Increment();
}

void Metrics::queue_depth(std::int64_t pending, std::int64_t in_flight, std::int64_t settling) {
  m_f->pending.Set(static_cast<double>(pending));
  m_f->in_flight.Set(static_cast<double>(in_flight));
  m_f->settling.Set(static_cast<double>(settling));
}

void Metrics::model_loaded(const std::string& name, const std::string& version,
                           const std::string& device) {
  std::lock_guard lock(m_f->model_mutex);
  if (m_f->model_current) m_f->model_info.Remove(m_f->model_current);
  m_f->model_current =
      &m_f->model_info.Add({{"name", name}, {"version", version}, {"device", device}});
  m_f->model_current->Set(1);
}

void Metrics::model_reload(bool ok) {
  m_f->reloads.Add({{"result", ok ? "ok" : "failed"}}).Increment();
}

void Metrics::store_failure() { m_f->store_failures.Increment(); }

void Metrics::config_reload(bool ok) {
  m_f->config_reloads.Add({{"result", ok ? "ok" : "failed"}}).Increment();
}

void Metrics::model_result(const std::string& model, const std::string& version,
                           std::string_view arm, bool ok, std::optional<double> seconds) {
  const std::string a = closed(arm, k_arms, "live");
  m_f->model_results
      .Add({{"model", model}, {"version", version}, {"arm", a}, {"status", ok ? "ok" : "error"}})
      .Increment();
  if (seconds) {
    m_f->model_latency.Add({{"model", model}, {"version", version}, {"arm", a}}, latency_buckets())
        .Observe(*seconds);
  }
}

void Metrics::model_gate_verdict(const std::string& model, bool passed) {
  m_f->gate_verdicts.Add({{"model", model}, {"result", passed ? "passed" : "refused"}}).Increment();
}

void Metrics::model_promotion(const std::string& model) {
  m_f->promotions.Add({{"model", model}}).Increment();
}

void Metrics::model_rollback(const std::string& model, std::string_view reason) {
  m_f->rollbacks.Add({{"model", model}, {"reason", closed(reason, k_rollback_reasons, "other")}})
      .Increment();
}

void Metrics::model_rollout(const std::string& model, std::string_view state,
                            std::chrono::system_clock::time_point started, std::int64_t files,
                            std::optional<double> agreement) {
  m_f->rollout_files.Add({{"model", model}}).Set(static_cast<double>(files));
  m_f->rollout_started.Add({{"model", model}})
      .Set(std::chrono::duration<double>(started.time_since_epoch()).count());
  for (const auto s : k_rollout_states) {
    m_f->rollout_state.Add({{"model", model}, {"state", std::string(s)}}).Set(s == state ? 1 : 0);
  }
  std::lock_guard lock(m_f->model_mutex);
  auto& series = m_f->agreement_series[model];
  if (agreement) {
    if (!series) series = &m_f->rollout_agreement.Add({{"model", model}});
    series->Set(*agreement);
  } else if (series) {
    m_f->rollout_agreement.Remove(series);
    series = nullptr;
  }
}

void Metrics::model_versions(const std::string& model,
                             const std::vector<std::pair<std::string, std::string>>& states) {
  m_f->gate_verdicts.Add({{"model", model}, {"result", "passed"}});
  m_f->gate_verdicts.Add({{"model", model}, {"result", "refused"}});
  m_f->promotions.Add({{"model", model}});
  for (const auto reason : k_rollback_reasons) {
    m_f->rollbacks.Add({{"model", model}, {"reason", std::string(reason)}});
  }
  std::lock_guard lock(m_f->model_mutex);
  auto& series = m_f->versions[model];
  for (auto* gauge : series) m_f->version_info.Remove(gauge);
  series.clear();
  for (const auto& [version, state] : states) {
    series.push_back(
        &m_f->version_info.Add({{"model", model}, {"version", version}, {"state", state}}));
    series.back()->Set(1);
  }
}

void Metrics::feedback_recorded(const std::string& model, const std::string& version,
                                bool confirmed) {
  m_feedback->recorded
      .Add({{"model", model},
            {"version", version},
            {"outcome", confirmed ? "confirmed" : "corrected"}})
      .Increment();
}

void Metrics::feedback_quality(const std::string& model, const std::string& version,
                               std::int64_t confirmed, std::int64_t corrected,
                               const std::vector<LabelRatios>& labels) {
  const prometheus::Labels base{{"model", model}, {"version", version}};
  auto with_outcome = [&](const char* outcome) {
    auto with = base;
    with.emplace("outcome", outcome);
    return with;
  };
  // Both counters exist from the first feedback on, so increase() sees each one's first event.
  m_feedback->recorded.Add(with_outcome("confirmed"));
  m_feedback->recorded.Add(with_outcome("corrected"));
  m_feedback->results.Add(with_outcome("confirmed")).Set(static_cast<double>(confirmed));
  m_feedback->results.Add(with_outcome("corrected")).Set(static_cast<double>(corrected));
  std::lock_guard lock(m_feedback->mutex);
  auto& series = m_feedback->series[model + "@" + version];
  for (auto [family, gauge] : series) family->Remove(gauge);
  series.clear();
  auto set = [&](prometheus::Family<prometheus::Gauge>& family, prometheus::Labels key,
                 double value) {
    auto* gauge = &family.Add(key);
    gauge->Set(value);
    series.emplace_back(&family, gauge);
  };
  if (confirmed + corrected > 0) {
    set(m_feedback->accuracy, base,
        static_cast<double>(confirmed) / static_cast<double>(confirmed + corrected));
  }
  for (std::size_t i = 0; i < labels.size() && i < k_max_feedback_labels; ++i) {
    auto with = base;
    with.emplace("label", labels[i].label);
    if (labels[i].precision) set(m_feedback->precision, with, *labels[i].precision);
    if (labels[i].recall) set(m_feedback->recall, with, *labels[i].recall);
  }
}

void Metrics::model_prediction(const std::string& model, const std::string& version,
                               const std::string& label, double score) {
  m_f->predictions.Add({{"model", model}, {"version", version}, {"label", label}}).Increment();
  // Fixed buckets, never fitted to data, so every version's histogram reads alike.
  static const Histogram::BucketBoundaries k_tenths = {0.1, 0.2, 0.3, 0.4, 0.5,
                                                       0.6, 0.7, 0.8, 0.9, 1.0};
  m_f->top1_score.Add({{"model", model}, {"version", version}}, k_tenths).Observe(score);
}

void Metrics::model_drift(const std::string& model, const std::string& version,
                          std::optional<double> labels, std::optional<double> scores) {
  const std::pair<std::string_view, std::optional<double>> signals[] = {{"labels", labels},
                                                                        {"scores", scores}};
  for (const auto& [signal, value] : signals) {
    const prometheus::Labels key{
        {"model", model}, {"version", version}, {"signal", std::string(signal)}};
    if (value) {
      m_f->drift.Add(key).Set(*value);
    } else if (m_f->drift.Has(key)) {
      m_f->drift.Remove(&m_f->drift.Add(key));
    }
  }
}

void Metrics::before_scrape(std::function<void()> refresh) {
  m_before_scrape.push_back(std::move(refresh));
}

std::string Metrics::scrape() const {
  for (const auto& refresh : m_before_scrape) refresh();
  auto families = m_registry->Collect();
  append_process_metrics(families);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace inferwatch::metrics
