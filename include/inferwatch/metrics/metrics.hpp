#pragma once

// Every metric of SPEC §7, in one prometheus-cpp registry, served as text on /metrics by our own
// HTTP server. Names use the inferwatch_ prefix and base units; labels come only from small
// closed sets (no paths, no ids). Thread-safe: prometheus-cpp metrics are atomic.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace inferwatch::metrics {

enum class Stage { settle, queue, decode, infer, write };

class Metrics {
 public:
  Metrics();
  ~Metrics();

  void file_detected(std::uint64_t n = 1);
  void result_stored(bool ok);
  void batch_formed(std::size_t size);
  void stage(Stage stage, double seconds);
  // From a file's detection (or being taken from the backlog) to its result being committed.
  void end_to_end(double seconds);
  void inotify_overflow();
  // `reason`: startup, periodic, overflow, unknown_watch, watch_failed, retry, requested.
  void rescan(std::string_view reason);
  void http_request(std::string_view route, unsigned status);
  void websocket_clients(std::int64_t n);
  void websocket_disconnect(std::string_view reason);
  void queue_depth(std::int64_t pending, std::int64_t in_flight, std::int64_t settling);
  void model_loaded(const std::string& name, const std::string& version, const std::string& device);
  void model_reload(bool ok);
  void config_reload(bool ok);
  // A store round failed (busy, full, I/O error); it is retried with backoff.
  void store_failure();

  // Model lifecycle (SPEC §10). `model` and `version` are names from the model repository
  // (models::valid_repository_name: bounded by its contents).
  // One file's result made by `version` on `arm` (live, shadow or canary); `seconds` is its share
  // of the forward when known.
  void model_result(const std::string& model, const std::string& version, std::string_view arm,
                    bool ok, std::optional<double> seconds = std::nullopt);
  void model_gate_verdict(const std::string& model, bool passed);
  void model_promotion(const std::string& model);
  // `reason`: manual, error_rate, agreement, latency or feedback_accuracy (anything else counts
  // as other).
  void model_rollback(const std::string& model, std::string_view reason);
  // A model's rollout as it stands: its state (stable, shadow, canary, promoted, rolled_back),
  // when the current (or last) rollout started, the files counted, and the shadow agreement so
  // far (absent: not measured).
  void model_rollout(const std::string& model, std::string_view state,
                     std::chrono::system_clock::time_point started, std::int64_t files,
                     std::optional<double> agreement);
  // A model's versions and their states (live, candidate, waiting, retired, rolled_back,
  // refused), replacing the ones set before for it. Also creates the model's verdict, promotion
  // and rollback counters at 0, so that a rate or increase() sees their first event.
  void model_versions(const std::string& model,
                      const std::vector<std::pair<std::string, std::string>>& version_states);

  // Feedback (SPEC §11). `model` and `version` as above (a result's `<model>@<version>`).
  // One feedback recorded since this process started, confirming or correcting its result.
  void feedback_recorded(const std::string& model, const std::string& version, bool confirmed);
  // One label's precision and recall on feedback; empty while undefined (the series is absent).
  struct LabelRatios {
    std::string label;  // one of the version's labels
    std::optional<double> precision;
    std::optional<double> recall;
  };
  // A version's quality on its results' current feedback (read from the store, so it is right
  // after a restart too), replacing what was set for it: results confirmed and corrected, the
  // accuracy, and each label's precision and recall (at most k_max_feedback_labels labels).
  void feedback_quality(const std::string& model, const std::string& version,
                        std::int64_t confirmed, std::int64_t corrected,
                        const std::vector<LabelRatios>& labels);
  static constexpr std::size_t k_max_feedback_labels = 64;

  // Drift (SPEC §11). One result's top-1 prediction by `version` of `model`: counted by `label`
  // (from the version's label set; the caller sends labels past its first 100 to `other`), its
  // score observed in the top-1 score histogram (10 fixed buckets of 0.1).
  void model_prediction(const std::string& model, const std::string& version,
                        const std::string& label, double score);
  // A version's drift from its reference: the PSI of its top-1 labels and of its top-1 scores.
  // Absent (nullopt) until measured; the series is removed then.
  void model_drift(const std::string& model, const std::string& version,
                   std::optional<double> labels, std::optional<double> scores);

  // Run `refresh` at the start of every scrape (gauges read from elsewhere, e.g. the rollouts).
  // Call before the server starts; `refresh` runs on the scraping thread.
  void before_scrape(std::function<void()> refresh);

  // The Prometheus text exposition (format 0.0.4), process_* metrics included.
  std::string scrape() const;

 private:
  struct Families;
  std::shared_ptr<prometheus::Registry> m_registry;
  std::unique_ptr<Families> m_f;
  struct FeedbackFamilies;
  std::unique_ptr<FeedbackFamilies> m_feedback;
  std::vector<std::function<void()>> m_before_scrape;
};

}  // namespace inferwatch::metrics
