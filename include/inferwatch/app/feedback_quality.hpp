#pragma once

// What the daemon does with feedback once it is stored (SPEC §11): the feedback metrics per
// model version, and a canary candidate's feedback judgement (models::Registry::observe_feedback).
// The gauges are read from the store, so they are right after a restart: refresh_all() at start,
// then the version of each new feedback.
//
// Thread-safe (the store and the metrics are); called on HTTP threads.

#include <inferwatch/metrics/metrics.hpp>
#include <inferwatch/store/feedback_store.hpp>

#include <string>

namespace inferwatch::models {
class Registry;
}

namespace inferwatch::app {

class FeedbackQuality {
 public:
  // `registry` may be null (the single model); all must outlive this object.
  FeedbackQuality(store::FeedbackStore& store, metrics::Metrics& metrics,
                  models::Registry* registry);

  // Set the gauges of every model version with feedback from the store. A store error is
  // logged: the gauges then wait for the next feedback.
  void refresh_all();

  // Feedback `row` was stored on a result `model_version` (`<model>@<version>`) made: count it,
  // refresh that version's gauges, and let the registry judge a canary candidate.
  void recorded(const std::string& model_version, const store::FeedbackRow& row);

 private:
  void refresh(const std::string& model, const std::string& version);

  store::FeedbackStore& m_store;
  metrics::Metrics& m_metrics;
  models::Registry* m_registry;
};

}  // namespace inferwatch::app
