#pragma once

// GET /v1/models/{name}/quality?version=V&since=T (SPEC §11, docs/api.md "Quality"): a model
// version's accuracy on feedback, per-label precision/recall/support and confusion matrix
// (store::compute_quality over store::FeedbackStore::label_pairs). Token-protected like the other
// /v1/models routes; served the same way with a model repository and with the single model.

#include <inferwatch/infer/model_info.hpp>
#include <inferwatch/server/router.hpp>
#include <inferwatch/store/feedback_store.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::models {
class Registry;
}

namespace inferwatch::server {

// What the route knows of one model.
struct QualityModel {
  std::string live_version;           // empty while none serves
  std::vector<std::string> versions;  // the versions it knows (the repository's, or the one)
};

// Where the route learns about models; both functions are called on HTTP threads.
struct QualitySource {
  // The model called `name`, or nullopt when there is none.
  std::function<std::optional<QualityModel>(const std::string& name)> model;
  // Model `name`'s labels in its order for `version`; nullopt when unknown (the labels then come
  // from the feedback itself, sorted).
  std::function<std::optional<std::vector<std::string>>(const std::string& name,
                                                        const std::string& version)>
      labels;
};

// With a repository: models, versions and live versions from registry.describe(); labels from
// `loaded_labels` (the engines loaded now, by `<model>@<version>`), else the version's
// model.toml. `registry` must outlive the route.
QualitySource registry_quality_source(
    const models::Registry& registry,
    std::function<std::optional<std::vector<std::string>>(const std::string& model_version)>
        loaded_labels);

// The single model `model()` serves (its version is the part after '@' of ModelInfo::version).
QualitySource single_model_quality_source(std::function<infer::ModelInfo()> model);

// RFC 3339 (`2026-11-23T10:00:00Z`, fractions and ±hh:mm offsets allowed) as a time point;
// nullopt when `text` is not one.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

// Register the route; `feedback` must outlive the router.
void add_quality_route(Router& router, store::FeedbackStore& feedback, QualitySource source);

}  // namespace inferwatch::server
