#pragma once

// The daemon's model registry (SPEC §10, docs/models.md): everything between the repository
// folder and the pipeline. It finds complete version directories (`<repository>/<name>/<version>/`
// with model.toml), runs the gate on each, loads engines, keeps one models::Rollout per model,
// tells the pipeline which engine(s) a file goes to, counts what the versions made of the files,
// promotes and rolls back, and persists all of it in a store::ModelCatalog so that a restart
// resumes where it was.
//
// Threads:
// - the poll thread (started by start()) lists the repository, gates new versions, loads engines
//   and writes the catalog. Engines are never loaded on the pipeline's threads.
// - the pipeline calls select() (per file: copies two shared_ptrs under a shared lock) and
//   observe() (per finished file: counts, may decide a promotion or rollback; no I/O).
// - the API calls promote(), roll_back(), add_version() and describe(); these block while they
//   gate, load or write, and are serialized with the poll thread's work.
// An engine is freed when the last holder lets go: a file in flight keeps the engine it was
// selected with across any promotion or rollback.
//
// Version states (the catalog's `state`):
//   live         the version whose results are current (one per model)
//   candidate    being rolled out beside the live one (shadow or canary; at most one per model)
//   waiting      passed the gate while another candidate was out; the newest waiting version
//                starts its rollout when that one ends, older waiting ones become retired
//   retired      no longer serving (replaced by a promotion or a rollback, or superseded)
//   rolled_back  a candidate retired by a rollback (automatic or by hand)
//   refused      did not pass the gate (or its model.toml has problems): never serves
//   removed      its directory was deleted to keep `keep_versions` old versions (the row stays)
// A manual rollback may go to any version that passed the gate and whose directory still exists.
// Retention: after each poll, promotion, rollback or upload, the directories of the oldest
// retired, rolled_back and refused versions beyond `keep_versions` of each model are deleted
// (through descriptors, never following a symlink); the live version, the candidate, waiting
// versions and the version a rollback would return to are never deleted.

#include <inferwatch/config/config.hpp>
#include <inferwatch/config/model_manifest.hpp>
#include <inferwatch/models/engine.hpp>
#include <inferwatch/models/gate.hpp>
#include <inferwatch/models/repository_listing.hpp>
#include <inferwatch/models/rollout.hpp>
#include <inferwatch/models/route_table.hpp>
#include <inferwatch/results/record.hpp>
#include <inferwatch/util/result.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::store {
class ModelCatalog;
}

namespace inferwatch::models {

// What one routed file gets.
struct Selection {
  std::string model;  // the route's model
  Arm arm = Arm::live;
  // Makes the file's current result: the live version, or the candidate for a file in the
  // canary. Null when the model has no live version (none in the repository passed the gate):
  // the file then gets an error result (`model_unavailable`).
  std::shared_ptr<Engine> current;
  // Shadow mode only: the candidate, run on the same file; its result is stored and compared,
  // never current, never a sidecar. Null otherwise.
  std::shared_ptr<Engine> shadow;
  // The rollout this selection was made in; observe() ignores outcomes from an earlier one (a
  // file in flight across a promotion or rollback).
  std::uint64_t generation = 0;
};

// Something the registry did, for logs, metrics and the event stream. Exactly one of `verdict`,
// `transition` and `error` is set.
struct RegistryEvent {
  std::string model;
  std::string version;
  std::optional<GateVerdict> verdict;      // a version was gated (passed or refused)
  std::optional<RolloutEvent> transition;  // a rollout changed state; the first version of a
                                           // model to pass the gate goes live with
                                           // stable → stable, reason `first_version`
  std::optional<util::Error> error;        // a passed version could not be loaded, a catalog
                                           // write failed, ...
};

class Registry {
 public:
  struct Options {
    std::filesystem::path repository;  // model.repository
    std::vector<config::Route> routes;
    std::string default_model;  // model.default
    // How often the repository is listed (and rollout counts written to the catalog); 0: no
    // poll thread, the owner calls poll_once() (tests).
    std::chrono::milliseconds poll{2000};
    // model.keep_versions: old (retired, rolled_back, refused) version directories kept per
    // model; older ones are deleted. 0 keeps every one.
    std::int64_t keep_versions = 3;
    // offline (`inferwatch models --offline`): start() restores the catalog only (no engines
    // loaded, no poll, no thread); roll_back() checks the target's directory but loads nothing.
    // The daemon loads what the offline change made live at its next start.
    enum class Mode { daemon, offline };
    Mode mode = Mode::daemon;
    // Wall-clock time for rollout events and the catalog (tests fix it).
    std::function<TimePoint()> now = [] { return std::chrono::system_clock::now(); };
  };

  // Load the engine of a version (with its manifest's processing, warmed up). Called on the poll
  // thread (or the API's, for a manual rollback to a version not loaded).
  using Loader =
      std::function<util::Result<std::shared_ptr<Engine>>(const config::ModelManifest& manifest)>;
  // Judge a version; `live_accuracy` is the live version's golden-set accuracy when known.
  using GateRunner = std::function<GateVerdict(const config::ModelManifest& manifest,
                                               std::optional<double> live_accuracy)>;
  using Listener = std::function<void(const RegistryEvent& event)>;

  // `catalog` must outlive the Registry.
  Registry(Options options, store::ModelCatalog& catalog, Loader loader, GateRunner gate);
  ~Registry();  // stop()
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Call before start(). Listeners run on the thread that caused the event (poll, API or
  // pipeline), outside the registry's locks; they must be quick and may call back in.
  void on_event(Listener listener);

  // Restore every model's versions and rollout from the catalog and load the live (and
  // candidate) engines; then run one poll on the calling thread (so a first start serves the
  // newest version of each model that passes the gate, the older passed ones retired), and
  // start the poll thread. Error only when the catalog cannot be read (a live version that
  // fails to load is an event, and its model serves nothing until a version loads).
  util::Result<void> start();

  // Stop the poll thread and write the rollout counts to the catalog. Idempotent.
  void stop();

  // One poll, on the calling thread: list the repository, gate and admit new versions, start the
  // next waiting rollout after one ended, write changed state to the catalog. The poll thread
  // calls this every `poll`; tests call it directly.
  void poll_once();

  // The engine(s) for the file at `relative_path` (relative to its watch root). Cheap.
  Selection select(std::string_view relative_path) const;

  // Count what the versions made of one file selected by select(): `current` is its current
  // record, `shadow` the shadow engine's record (shadow arm only, may be null if it was not
  // run). May promote or roll back (listeners told; the catalog is written by the poll thread
  // soon after). No I/O; cheap.
  void observe(const Selection& selection, const results::Record& current,
               const results::Record* shadow = nullptr);

  // Feedback on results of `model`'s `version` (SPEC §11): `count` of them have feedback,
  // `confirmed` of those confirm the prediction. May roll a canary candidate back
  // (Rollout::judge_feedback, reason `feedback_accuracy`; listeners told). No I/O; cheap.
  void observe_feedback(const std::string& model, const std::string& version, std::int64_t count,
                        std::int64_t confirmed);

  // By hand: make `model`'s candidate live. Errors: `unknown_model`, `no_candidate`. The catalog
  // is written before it returns; a failed write is an event and is retried by the next poll.
  util::Result<RolloutEvent> promote(const std::string& model);

  // By hand: retire the candidate, or undo the last promotion, or (with `to_version`) make that
  // version live. Errors: `unknown_model`, `unknown_version`, `version_unusable` (refused, or
  // its directory is gone), `is_candidate` (promote it instead), `load_failed`,
  // `nothing_to_roll_back`, `already_live`. `reason` is kept with the transition. A version
  // removed by keep_versions is `version_unusable`, and the message says so.
  util::Result<RolloutEvent> roll_back(const std::string& model,
                                       std::optional<std::string> to_version, std::string reason);

  // An uploaded version: gate the directory `staged_dir` (on the repository's file system,
  // e.g. under `<repository>/.staging/`) as `model`/`version`; when it passes, move it to
  // `<repository>/<model>/<version>` and admit it like a version found by the poll (candidate,
  // waiting, or live at once). A refused version is neither moved nor stored (the caller deletes
  // it); its verdict is returned with passed = false and told to listeners. Errors:
  // `invalid_name`, `version_exists`, `manifest_invalid` (problems with file:line in the
  // message), `move_failed`.
  util::Result<GateVerdict> add_version(const std::string& model, const std::string& version,
                                        const std::filesystem::path& staged_dir);

  // For GET /v1/models: {"models": [{"name", "routed" (routes name it), "live_version",
  // "candidate_version", "serving" (a live engine is loaded), "state", "rollout": <snapshot
  // JSON>, "judgement": {"decision", "reason", "detail"}, "versions": [{"version", "state",
  // "directory", "gate": <verdict JSON or null>, "created_at", "updated_at"}, ...]}, ...]}:
  // every model in the repository or named by the routes, by name; versions in the order found.
  // What is unknown is null.
  boost::json::object describe() const;

  // Each model's rollout as it stands (for metrics gauges), by model name.
  std::vector<RolloutSnapshot> rollouts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// The daemon's GateRunner: models::Gate on the version, with `base` for what its manifest does
// not set.
Registry::GateRunner gate_runner(config::Config base);

}  // namespace inferwatch::models
