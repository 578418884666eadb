#include <inferwatch/metrics/metrics.hpp>

#include "process_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
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
                           .Add({})) {
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
  std::mutex model_mutex;  // guards the model_info series swap
  prometheus::Gauge* model_current = nullptr;
};

Metrics::Metrics()
    : m_registry(std::make_shared<prometheus::Registry>()),
      m_f(std::make_unique<Families>(*m_registry)) {}
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

std::string Metrics::scrape() const {
  auto families = m_registry->Collect();
  append_process_metrics(families);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace inferwatch::metrics
