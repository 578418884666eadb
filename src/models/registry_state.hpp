#pragma once

// The registry's in-memory picture of one model (registry.cpp owns it; registry_describe.cpp
// reads it). Plain data: the Registry's locks guard it.

#include <inferwatch/models/engine.hpp>
#include <inferwatch/models/rollout.hpp>
#include <inferwatch/store/model_catalog.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::models::detail {

// One version as the catalog stores it, plus what the registry reads from its verdict.
struct VersionEntry {
  std::string version;
  std::filesystem::path directory;
  store::ModelVersionState state = store::ModelVersionState::waiting;
  std::string gate_json;  // the verdict as stored; empty if never gated
  bool passed = false;
  std::optional<double> accuracy;  // golden-set accuracy, from the verdict
  // The last rollout it took part in, kept once it left it (a live or candidate row is written
  // with the rollout as it stands).
  std::string rollout_json;
  std::string created_at;
  std::string updated_at;
  bool dirty = false;  // changed since the catalog was last written
};

struct ModelSlot {
  std::vector<VersionEntry> versions;  // in the order found
  std::optional<Rollout> rollout;      // empty until a version is live
  // The engines loaded, by version: the live one and the candidate's (or one being made live).
  std::map<std::string, std::shared_ptr<Engine>, std::less<>> engines;
  std::shared_ptr<Engine> live;       // engines[live version]
  std::shared_ptr<Engine> candidate;  // engines[candidate version] while shadow or canary
  // Bumped at every transition; observe() counts only outcomes of the current one.
  std::uint64_t generation = 1;
  bool counts_dirty = false;  // counters changed since the catalog was last written

  VersionEntry* find(std::string_view version) {
    for (auto& v : versions) {
      if (v.version == version) return &v;
    }
    return nullptr;
  }
  const VersionEntry* find(std::string_view version) const {
    return const_cast<ModelSlot*>(this)->find(version);
  }
  bool in_progress() const {
    return rollout &&
           (rollout->state() == RolloutState::shadow || rollout->state() == RolloutState::canary);
  }
};

}  // namespace inferwatch::models::detail
