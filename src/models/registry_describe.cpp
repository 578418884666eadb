// Registry::describe(): the registry as GET /v1/models shows it.

#include <inferwatch/models/registry.hpp>

#include "registry_impl.hpp"

#include <boost/json.hpp>

#include <set>

namespace inferwatch::models {
namespace {

namespace json = boost::json;

json::value parsed_or_null(const std::string& text) {
  if (text.empty()) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

json::value text_or_null(const std::string& text) {
  return text.empty() ? json::value(nullptr) : json::value(text);
}

std::string_view decision_name(Decision d) {
  switch (d) {
    case Decision::wait:
      return "wait";
    case Decision::promote:
      return "promote";
    case Decision::roll_back:
      return "roll_back";
  }
  return "?";
}

json::object describe_model(const std::string& name, const detail::ModelSlot* m, bool routed) {
  json::object out{{"name", name}, {"routed", routed}};
  const bool in_progress = m && m->in_progress();
  out["live_version"] = m && m->rollout ? json::value(m->rollout->live_version()) : nullptr;
  out["candidate_version"] =
      in_progress ? json::value(m->rollout->candidate_version()) : json::value(nullptr);
  out["serving"] = m && m->live != nullptr;  // a live engine is loaded
  if (m && m->rollout) {
    out["state"] = to_string(m->rollout->state());
    out["rollout"] = to_json(m->rollout->snapshot());
    const Judgement j = m->rollout->judge();
    out["judgement"] = json::object{
        {"decision", decision_name(j.decision)}, {"reason", j.reason}, {"detail", j.detail}};
  } else {
    out["state"] = nullptr;
    out["rollout"] = nullptr;
    out["judgement"] = nullptr;
  }
  json::array versions;
  if (m) {
    for (const detail::VersionEntry& e : m->versions) {
      // The labels of a loaded version (live, candidate): what feedback on its results may say.
      json::value labels = nullptr;
      if (const auto engine = m->engines.find(e.version);
          engine != m->engines.end() && engine->second) {
        const auto& names = engine->second->info().labels;
        labels = json::array(names.begin(), names.end());
      }
      versions.push_back(json::object{
          {"version", e.version},
          {"state", store::to_string(e.state)},
          {"directory", e.directory.string()},
          {"labels", std::move(labels)},
          {"gate", parsed_or_null(e.gate_json)},
          {"created_at", text_or_null(e.created_at)},
          {"updated_at", text_or_null(e.updated_at)},
      });
    }
  }
  out["versions"] = std::move(versions);
  return out;
}

}  // namespace

json::object Registry::describe() const {
  const Impl& d = *m_impl;
  const std::vector<std::string> routed_names = d.routes.model_names();
  std::set<std::string, std::less<>> routed(routed_names.begin(), routed_names.end());
  routed.erase("");  // no model.default
  std::set<std::string, std::less<>> names(routed);
  json::array models;
  std::shared_lock lock(d.mutex);
  for (const auto& [name, slot] : d.models) names.insert(name);
  for (const std::string& name : names) {
    const auto it = d.models.find(name);
    models.push_back(
        describe_model(name, it == d.models.end() ? nullptr : &it->second, routed.contains(name)));
  }
  return json::object{{"models", std::move(models)}};
}

}  // namespace inferwatch::models
