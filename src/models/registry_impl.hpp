#pragma once

// The Registry's state and the steps its operations share (registry.cpp, registry_describe.cpp).
//
// Locks, always taken in this order, never the other way:
//   admin        serializes the slow changes: poll, promote, roll_back, add_version (they gate,
//                load engines and write the catalog while holding it)
//   flush_mutex  so catalog writes land in the order their states were taken
//   mutex        (shared) guards `models`; held only for quick reads and changes, never across
//                a gate, a load or a catalog write. select() shares it; observe() takes it alone.
// listeners_mutex and thread_mutex are leaves.

#include <inferwatch/models/registry.hpp>

#include "registry_state.hpp"

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>

namespace inferwatch::models {

namespace detail {
// Read `passed` and the golden-set accuracy from `entry.gate_json`.
void read_verdict(VersionEntry& entry);
// The refusal of a version whose model.toml has problems (`manifest_invalid`, every problem).
GateVerdict manifest_refusal(const std::string& model, const std::string& version,
                             const std::vector<config::Problem>& problems);
}  // namespace detail

struct Registry::Impl {
  using Events = std::vector<RegistryEvent>;

  Impl(Options o, store::ModelCatalog& c, Loader l, GateRunner g)
      : options(std::move(o)),
        catalog(c),
        loader(std::move(l)),
        gate(std::move(g)),
        routes(options.routes, options.default_model) {}

  // The live version's golden-set accuracy, if `model` has one and it was measured.
  std::optional<double> live_accuracy(const std::string& model) const;
  // Read `directory`'s model.toml (as `model`/`version`) and load its engine. No lock needed.
  util::Result<std::shared_ptr<Engine>> load(const std::string& model, const std::string& version,
                                             const std::filesystem::path& directory) const;
  // The gate's verdict on a version directory (a refusal `manifest_invalid` when its model.toml
  // has problems). No lock needed.
  GateVerdict judge(const std::string& model, const std::string& version,
                    const std::filesystem::path& directory) const;
  // After a rollout changed: version states, engines, generation. `mutex` held alone.
  void reconcile(detail::ModelSlot& m);
  // Record a gated version: waiting when it passed, else refused. `admin` held.
  void admit(const std::string& model, const std::string& version,
             const std::filesystem::path& directory, const GateVerdict& verdict, Events& events);
  // Start the newest waiting version's rollout (or make it live) when none is in progress.
  // `admin` held.
  void activate(const std::string& model, Events& events);
  // List the repository, admit new versions, activate. `admin` held.
  void poll(Events& events);
  // Delete the directories of old versions beyond options.keep_versions and mark them removed
  // (registry_retention.cpp). `admin` held.
  void prune();
  // Delete what a removal interrupted by a crash left (`.removing.*` in each model folder).
  // `admin` held.
  void clean_interrupted_removals();
  // Write changed versions and rollout counts to the catalog. `admin` held (or stopping).
  void flush(Events& events);
  // Log and tell listeners, then clear. No lock held.
  void emit(Events& events);
  void wake_soon();

  Options options;
  store::ModelCatalog& catalog;
  Loader loader;
  GateRunner gate;
  RouteTable routes;

  mutable std::shared_mutex mutex;
  std::map<std::string, detail::ModelSlot, std::less<>> models;

  std::mutex admin;
  std::set<std::filesystem::path> reported_invalid;  // admin
  std::string reported_listing_error;                // admin
  std::set<std::string> reported_removal_failures;   // admin: "model/version"

  std::mutex flush_mutex;

  std::mutex listeners_mutex;
  std::vector<Listener> listeners;

  std::mutex thread_mutex;
  std::condition_variable wake;
  bool stopping = false;  // thread_mutex
  bool woken = false;     // thread_mutex
  std::thread thread;     // thread_mutex
};

}  // namespace inferwatch::models
