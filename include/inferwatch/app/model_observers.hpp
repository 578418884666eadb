#pragma once

// The model registry's outputs for operators: every RegistryEvent counted in the lifecycle
// metrics, and the rollout and version gauges read from the registry at each scrape.

#include <inferwatch/metrics/metrics.hpp>
#include <inferwatch/models/registry.hpp>

namespace inferwatch::app {

// Count `event`: a gate verdict (passed or refused), a promotion (any transition to promoted),
// a rollback (any transition to rolled_back, by its reason).
void record_registry_event(metrics::Metrics& metrics, const models::RegistryEvent& event);

// Set each model's rollout gauges (state, files, agreement) and version states from `registry`.
void refresh_model_gauges(metrics::Metrics& metrics, const models::Registry& registry);

// Wire both: record_registry_event on every event, refresh_model_gauges before every scrape.
// Call before registry.start() (so the first versions are counted) and before the HTTP server
// starts; both must outlive the daemon's use of them.
void install_model_observers(models::Registry& registry, metrics::Metrics& metrics);

}  // namespace inferwatch::app
