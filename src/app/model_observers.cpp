#include <inferwatch/app/model_observers.hpp>

#include <boost/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace inferwatch::app {

void record_registry_event(metrics::Metrics& metrics, const models::RegistryEvent& event) {
  if (event.verdict) metrics.model_gate_verdict(event.model, event.verdict->passed);
  if (!event.transition) return;
  const models::RolloutEvent& t = *event.transition;
  if (t.from == t.to) return;  // a first version going live: stable → stable, nothing promoted
  if (t.to == models::RolloutState::promoted) metrics.model_promotion(event.model);
  if (t.to == models::RolloutState::rolled_back) metrics.model_rollback(event.model, t.reason);
}

void refresh_model_gauges(metrics::Metrics& metrics, const models::Registry& registry) {
  for (const models::RolloutSnapshot& s : registry.rollouts()) {
    metrics.model_rollout(s.model, models::to_string(s.state), s.started_at, s.counters.files,
                          s.counters.agreement());
  }
  // The versions' states are the catalog's, which only describe() shows.
  const boost::json::object all = registry.describe();
  for (const auto& m : all.at("models").as_array()) {
    const auto& model = m.as_object();
    std::vector<std::pair<std::string, std::string>> states;
    for (const auto& v : model.at("versions").as_array()) {
      const auto& version = v.as_object();
      states.emplace_back(std::string(version.at("version").as_string()),
                          std::string(version.at("state").as_string()));
    }
    metrics.model_versions(std::string(model.at("name").as_string()), states);
  }
}

void install_model_observers(models::Registry& registry, metrics::Metrics& metrics) {
  registry.on_event(
      [&metrics](const models::RegistryEvent& event) { record_registry_event(metrics, event); });
  metrics.before_scrape([&metrics, &registry] { refresh_model_gauges(metrics, registry); });
}

}  // namespace inferwatch::app
