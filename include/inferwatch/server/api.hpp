#pragma once

// The REST endpoints of SPEC §6: health, readiness, results, inference, model (and its reload),
// status, and feedback on results.

#include <inferwatch/infer/model_info.hpp>
#include <inferwatch/metrics/metrics.hpp>
#include <inferwatch/results/record.hpp>
#include <inferwatch/server/broadcaster.hpp>
#include <inferwatch/server/router.hpp>
#include <inferwatch/store/feedback_store.hpp>
#include <inferwatch/store/reader.hpp>
#include <inferwatch/util/result.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace inferwatch::server {

struct ApiContext {
  store::Reader& reader;
  std::function<infer::ModelInfo()> model;  // the model serving now (it changes on reload)
  std::string version;                      // "0.1.0 (abc1234)"
  std::vector<std::filesystem::path> roots;
  std::function<std::int64_t()> in_flight;              // files decoding, batching or writing
  std::function<std::vector<std::string>()> not_ready;  // reasons; empty when ready
  metrics::Metrics& metrics;
  // POST /v1/infer: run on the interactive lane; false when the lane is full (503).
  std::function<bool(std::string bytes, std::function<void(results::Record)> reply)> infer;
  // POST /v1/model/reload: `done` gets the new model's info, or the error (code
  // `reload_in_progress` → 409, anything else → 422; the old model keeps serving).
  std::function<void(std::function<void(util::Result<infer::ModelInfo>)> done)> reload_model;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // POST /v1/results/{id}/feedback (SPEC §11): where feedback is stored (null: the route answers
  // 503), where its event goes (may be null), and the labels of the model version that made a
  // result (nullopt for a version not loaded now: the result's own predictions bound the label).
  store::FeedbackStore* feedback = nullptr;
  Broadcaster* broadcaster = nullptr;
  std::function<std::optional<std::vector<std::string>>(const std::string& model_version)>
      labels_of{};
  // Told of each feedback stored (quality metrics, a canary's feedback judgement), on the
  // request's thread: the `<model>@<version>` that made the result, and the row. May be empty.
  std::function<void(const std::string& model_version, const store::FeedbackRow& row)>
      on_feedback{};
};

// Register the endpoints; `context` must outlive the router.
void add_api_routes(Router& router, const ApiContext& context);

// What the result stream does with a client's message (StreamOptions::on_message): feedback, as
// POST /v1/results/{id}/feedback gives it; the text returned is the reply. `context` must
// outlive the server.
std::function<std::string(std::string_view)> stream_message_handler(const ApiContext& context);

}  // namespace inferwatch::server
