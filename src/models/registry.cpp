#include <inferwatch/models/registry.hpp>

#include "registry_impl.hpp"

#include <inferwatch/util/json_text.hpp>
#include <inferwatch/util/time.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <system_error>
#include <utility>

namespace inferwatch::models {

using detail::ModelSlot;
using detail::VersionEntry;
using store::ModelVersionState;
namespace fs = std::filesystem;

using detail::manifest_refusal;
using detail::read_verdict;

namespace {

Outcome outcome_of(const results::Record& record) {
  Outcome o;
  o.ok = record.ok();
  if (!record.predictions.empty()) {
    o.label = record.predictions.front().label;
    o.score = record.predictions.front().score;
  }
  o.latency_ms = record.timings.infer_ms;
  return o;
}

util::Error removed_error(const std::string& model, const VersionEntry& e,
                          const Registry::Options& options) {
  return util::Error{
      "version_unusable",
      fmt::format("model {} version {} was removed (its directory was deleted to keep "
                  "model.keep_versions = {} old versions; removed at {}): copy it back into the "
                  "repository under a new version name to serve it again",
                  model, e.version, options.keep_versions,
                  e.updated_at.empty() ? "an unknown time" : e.updated_at)};
}

}  // namespace

Registry::Registry(Options options, store::ModelCatalog& catalog, Loader loader, GateRunner gate)
    : m_impl(std::make_unique<Impl>(std::move(options), catalog, std::move(loader),
                                    std::move(gate))) {}

Registry::~Registry() { stop(); }

void Registry::on_event(Listener listener) {
  std::lock_guard lock(m_impl->listeners_mutex);
  m_impl->listeners.push_back(std::move(listener));
}

util::Result<void> Registry::start() {
  Impl& d = *m_impl;
  auto rows = d.catalog.versions();
  if (!rows) return rows.error();
  Impl::Events events;
  const TimePoint now = d.options.now();
  {
    std::unique_lock lock(d.mutex);
    for (store::ModelVersionRow& row : *rows) {
      VersionEntry e;
      e.version = std::move(row.version);
      e.directory = row.directory;
      e.state = row.state;
      e.gate_json = std::move(row.gate_json);
      e.rollout_json = std::move(row.rollout_json);
      e.created_at = std::move(row.created_at);
      e.updated_at = std::move(row.updated_at);
      read_verdict(e);
      d.models[row.model].versions.push_back(std::move(e));
    }
    for (auto& [name, m] : d.models) {
      const auto live = std::find_if(m.versions.rbegin(), m.versions.rend(), [](const auto& e) {
        return e.state == ModelVersionState::live;
      });
      if (live == m.versions.rend()) continue;
      m.rollout.emplace(name, live->version, now);
      auto snapshot = rollout_snapshot_from_json(live->rollout_json);
      if (snapshot && snapshot->live_version == live->version && snapshot->model == name) {
        m.rollout->restore(std::move(*snapshot));
      }
    }
  }

  if (d.options.mode == Options::Mode::offline) return {};  // the catalog is all it needs

  // Load what served before the restart, outside the lock (select() sees no engine meanwhile).
  std::vector<std::tuple<std::string, std::string, fs::path>> wanted;
  {
    std::shared_lock lock(d.mutex);
    for (const auto& [name, m] : d.models) {
      if (!m.rollout) continue;
      if (const VersionEntry* e = m.find(m.rollout->live_version())) {
        wanted.emplace_back(name, e->version, e->directory);
      }
      if (m.in_progress()) {
        const VersionEntry* c = m.find(m.rollout->candidate_version());
        wanted.emplace_back(name, m.rollout->candidate_version(), c ? c->directory : fs::path{});
      }
    }
  }
  for (const auto& [name, version, directory] : wanted) {
    auto engine = d.load(name, version, directory);
    std::unique_lock lock(d.mutex);
    ModelSlot& m = d.models[name];
    if (engine) {
      m.engines[version] = std::move(*engine);
      d.reconcile(m);
      continue;
    }
    const bool is_candidate = m.in_progress() && version == m.rollout->candidate_version();
    events.push_back(RegistryEvent{name, version, std::nullopt, std::nullopt, engine.error()});
    if (is_candidate) {
      auto back = m.rollout->roll_back(
          fmt::format("the candidate could not be loaded at start: {}", engine.error().message),
          now);
      if (back) {
        d.reconcile(m);
        events.push_back(RegistryEvent{name, version, std::nullopt, *back, std::nullopt});
      }
    }
  }

  {
    std::lock_guard admin(d.admin);
    d.clean_interrupted_removals();
    d.poll(events);
    d.prune();
    d.flush(events);
  }
  {
    std::shared_lock lock(d.mutex);
    for (const std::string& name : d.routes.model_names()) {
      if (name.empty()) continue;  // no model.default
      const auto it = d.models.find(name);
      if (it == d.models.end() || !it->second.live) {
        events.push_back(RegistryEvent{
            name, "", std::nullopt, std::nullopt,
            util::Error{"model_unavailable",
                        fmt::format("routes send files to model {}, but no version of it in {} "
                                    "passed the gate and loaded; its files get errors",
                                    name, d.options.repository.string())}});
      }
    }
  }
  d.emit(events);

  std::lock_guard lock(d.thread_mutex);
  if (!d.thread.joinable() && !d.stopping && d.options.poll.count() > 0) {
    d.thread = std::thread([&d, self = this] {
      while (true) {
        {
          std::unique_lock wait(d.thread_mutex);
          d.wake.wait_for(wait, d.options.poll, [&] { return d.stopping || d.woken; });
          if (d.stopping) return;
          d.woken = false;
        }
        self->poll_once();
      }
    });
  }
  return {};
}

void Registry::stop() {
  Impl& d = *m_impl;
  std::thread thread;
  {
    std::lock_guard lock(d.thread_mutex);
    d.stopping = true;
    thread = std::move(d.thread);
  }
  d.wake.notify_all();
  if (thread.joinable()) thread.join();
  Impl::Events events;
  {
    std::lock_guard admin(d.admin);
    d.flush(events);
  }
  d.emit(events);
}

void Registry::poll_once() {
  Impl& d = *m_impl;
  Impl::Events events;
  {
    std::lock_guard admin(d.admin);
    d.poll(events);
    d.prune();
    d.flush(events);
  }
  d.emit(events);
}

Selection Registry::select(std::string_view relative_path) const {
  const Impl& d = *m_impl;
  Selection s;
  s.model = d.routes.model_for(relative_path);
  std::shared_lock lock(d.mutex);
  const auto it = d.models.find(s.model);
  if (it == d.models.end() || !it->second.rollout) return s;
  const ModelSlot& m = it->second;
  s.generation = m.generation;
  s.arm = m.candidate ? m.rollout->arm(relative_path) : Arm::live;
  switch (s.arm) {
    case Arm::live:
      s.current = m.live;
      break;
    case Arm::shadow:
      s.current = m.live;
      s.shadow = m.candidate;
      break;
    case Arm::canary:
      s.current = m.candidate;
      break;
  }
  return s;
}

void Registry::observe(const Selection& selection, const results::Record& current,
                       const results::Record* shadow) {
  Impl& d = *m_impl;
  Impl::Events events;
  {
    std::unique_lock lock(d.mutex);
    const auto it = d.models.find(selection.model);
    if (it == d.models.end()) return;
    ModelSlot& m = it->second;
    if (!m.in_progress() || m.generation != selection.generation) return;
    bool counted = false;
    switch (selection.arm) {
      case Arm::live:
        counted = m.rollout->observe_live(outcome_of(current));
        break;
      case Arm::canary:
        counted = m.rollout->observe_canary(outcome_of(current));
        break;
      case Arm::shadow:
        if (shadow) counted = m.rollout->observe_pair(outcome_of(current), outcome_of(*shadow));
        break;
    }
    if (!counted) return;
    m.counts_dirty = true;
    auto event = m.rollout->decide(d.options.now());
    if (!event) return;
    const std::string version = event->candidate_version;
    d.reconcile(m);
    events.push_back(
        RegistryEvent{selection.model, version, std::nullopt, std::move(*event), std::nullopt});
  }
  d.wake_soon();  // the poll thread writes the catalog and starts the next waiting version
  d.emit(events);
}

void Registry::observe_feedback(const std::string& model, const std::string& version,
                                std::int64_t count, std::int64_t confirmed) {
  Impl& d = *m_impl;
  Impl::Events events;
  {
    std::unique_lock lock(d.mutex);
    const auto it = d.models.find(model);
    if (it == d.models.end()) return;
    ModelSlot& m = it->second;
    if (!m.in_progress()) return;
    auto event = m.rollout->judge_feedback(version, count, confirmed, d.options.now());
    if (!event) return;
    m.counts_dirty = true;
    d.reconcile(m);
    events.push_back(RegistryEvent{model, version, std::nullopt, std::move(*event), std::nullopt});
  }
  d.wake_soon();  // the poll thread writes the catalog and starts the next waiting version
  d.emit(events);
}

util::Result<RolloutEvent> Registry::promote(const std::string& model) {
  Impl& d = *m_impl;
  Impl::Events events;
  RolloutEvent result;
  {
    std::lock_guard admin(d.admin);
    {
      std::unique_lock lock(d.mutex);
      const auto it = d.models.find(model);
      if (it == d.models.end()) {
        return util::Error{"unknown_model", fmt::format("no model named {}", model)};
      }
      ModelSlot& m = it->second;
      if (!m.rollout) {
        return util::Error{"no_candidate", fmt::format("model {} has no version yet", model)};
      }
      auto event = m.rollout->promote(d.options.now());
      if (!event) return event.error();
      result = *event;
      d.reconcile(m);
      events.push_back(
          RegistryEvent{model, result.candidate_version, std::nullopt, result, std::nullopt});
    }
    d.prune();
    d.flush(events);
  }
  d.wake_soon();
  d.emit(events);
  return result;
}

util::Result<RolloutEvent> Registry::roll_back(const std::string& model,
                                               std::optional<std::string> to_version,
                                               std::string reason) {
  Impl& d = *m_impl;
  Impl::Events events;
  RolloutEvent result;
  {
    std::lock_guard admin(d.admin);
    // Which version will be live afterwards, and whether its engine must be loaded first.
    std::string target;
    fs::path directory;
    {
      std::shared_lock lock(d.mutex);
      const auto it = d.models.find(model);
      if (it == d.models.end()) {
        return util::Error{"unknown_model", fmt::format("no model named {}", model)};
      }
      const ModelSlot& m = it->second;
      if (!m.rollout) {
        return util::Error{"nothing_to_roll_back",
                           fmt::format("model {} has no live version", model)};
      }
      const RolloutSnapshot s = m.rollout->snapshot();
      if (to_version) {
        const VersionEntry* e = m.find(*to_version);
        if (!e) {
          return util::Error{"unknown_version",
                             fmt::format("model {} has no version {}", model, *to_version)};
        }
        if (m.in_progress() && *to_version == s.candidate_version) {
          return util::Error{"is_candidate",
                             fmt::format("version {} is model {}'s candidate: promote it instead",
                                         *to_version, model)};
        }
        if (e->state == ModelVersionState::removed) return removed_error(model, *e, d.options);
        std::error_code ec;
        if (!e->passed || !fs::is_directory(e->directory, ec)) {
          return util::Error{
              "version_unusable",
              fmt::format("model {} version {} {}", model, *to_version,
                          e->passed ? "has no directory any more" : "did not pass the gate")};
        }
        target = *to_version;
        directory = e->directory;
      } else if (!m.in_progress() && s.state == RolloutState::promoted &&
                 !s.previous_version.empty()) {
        const VersionEntry* e = m.find(s.previous_version);
        if (!e) {
          return util::Error{"version_unusable", fmt::format("model {} version {} is unknown",
                                                             model, s.previous_version)};
        }
        if (e->state == ModelVersionState::removed) return removed_error(model, *e, d.options);
        target = s.previous_version;
        directory = e->directory;
      }
      if (!target.empty() && (target == s.live_version || m.engines.contains(target))) {
        directory.clear();  // loaded already
      }
    }
    std::shared_ptr<Engine> engine;
    if (d.options.mode == Options::Mode::offline && !directory.empty()) {
      // Nothing is loaded offline; the daemon loads it at its next start.
      std::error_code ec;
      if (!fs::is_directory(directory, ec)) {
        return util::Error{"version_unusable",
                           fmt::format("model {} version {} has no directory any more ({})", model,
                                       target, directory.string())};
      }
      directory.clear();
    }
    if (!directory.empty()) {
      auto loaded = d.load(model, target, directory);
      if (!loaded) {
        return util::Error{"load_failed", fmt::format("model {} version {}: {}", model, target,
                                                      loaded.error().message)};
      }
      engine = std::move(*loaded);
    }
    {
      std::unique_lock lock(d.mutex);
      ModelSlot& m = d.models[model];
      auto event = m.rollout->roll_back(std::move(reason), d.options.now(), to_version);
      if (!event) return event.error();
      if (engine) m.engines[target] = std::move(engine);
      result = *event;
      d.reconcile(m);
      events.push_back(
          RegistryEvent{model, result.candidate_version, std::nullopt, result, std::nullopt});
    }
    d.prune();
    d.flush(events);
  }
  d.wake_soon();
  d.emit(events);
  return result;
}

util::Result<GateVerdict> Registry::add_version(const std::string& model,
                                                const std::string& version,
                                                const fs::path& staged_dir) {
  Impl& d = *m_impl;
  if (!valid_repository_name(model) || !valid_repository_name(version)) {
    return util::Error{"invalid_name",
                       fmt::format("\"{}/{}\": a model or version name is 1 to 64 of A-Z a-z 0-9 "
                                   ". _ -, starting with a letter or digit",
                                   model, version)};
  }
  Impl::Events events;
  GateVerdict verdict;
  {
    std::lock_guard admin(d.admin);
    const fs::path target = d.options.repository / model / version;
    bool known = false;
    {
      std::shared_lock lock(d.mutex);
      const auto it = d.models.find(model);
      known = it != d.models.end() && it->second.find(version) != nullptr;
    }
    std::error_code ec;
    if (known || fs::exists(fs::symlink_status(target, ec))) {
      return util::Error{"version_exists",
                         fmt::format("model {} already has a version {}", model, version)};
    }
    config::LoadedManifest loaded = config::load_manifest(staged_dir);
    if (!loaded.problems.empty()) {
      return util::Error{"manifest_invalid",
                         manifest_refusal(model, version, loaded.problems).reasons[0].message};
    }
    loaded.manifest.name = model;
    loaded.manifest.version = version;
    verdict = d.gate(loaded.manifest, d.live_accuracy(model));
    verdict.name = model;
    verdict.version = version;
    if (!verdict.passed) {
      events.push_back(RegistryEvent{model, version, verdict, std::nullopt, std::nullopt});
    } else {
      fs::create_directories(target.parent_path(), ec);
      if (!ec) fs::rename(staged_dir, target, ec);
      if (ec) {
        return util::Error{"move_failed",
                           fmt::format("cannot move {} to {}: {}", staged_dir.string(),
                                       target.string(), ec.message())};
      }
      d.admit(model, version, target, verdict, events);
      d.activate(model, events);
      d.prune();
      d.flush(events);
    }
  }
  d.emit(events);
  return verdict;
}

std::vector<RolloutSnapshot> Registry::rollouts() const {
  const Impl& d = *m_impl;
  std::vector<RolloutSnapshot> out;
  std::shared_lock lock(d.mutex);
  for (const auto& [name, m] : d.models) {
    if (m.rollout) out.push_back(m.rollout->snapshot());
  }
  return out;
}

Registry::GateRunner gate_runner(config::Config base) {
  return [base = std::move(base)](const config::ModelManifest& manifest,
                                  std::optional<double> live_accuracy) {
    GateOptions options;
    options.live_accuracy = live_accuracy;
    return Gate(options).run(manifest, base);
  };
}

}  // namespace inferwatch::models
