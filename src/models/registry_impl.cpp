// The steps the Registry's operations share (registry_impl.hpp).

#include "registry_impl.hpp"

#include <inferwatch/util/json_text.hpp>
#include <inferwatch/util/log_fields.hpp>
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

namespace detail {

// What the registry needs of a stored verdict: passed, and the golden-set accuracy.
void read_verdict(VersionEntry& entry) {
  entry.passed = false;
  entry.accuracy.reset();
  if (entry.gate_json.empty()) return;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(entry.gate_json, ec);
  if (ec || !v.is_object()) return;
  const auto& o = v.get_object();
  if (const auto* p = o.if_contains("passed"); p && p->is_bool()) entry.passed = p->get_bool();
  if (const auto* n = o.if_contains("numbers"); n && n->is_object()) {
    if (const auto* a = n->get_object().if_contains("accuracy"); a && a->is_number()) {
      entry.accuracy = a->to_number<double>();
    }
  }
}

GateVerdict manifest_refusal(const std::string& model, const std::string& version,
                             const std::vector<config::Problem>& problems) {
  GateVerdict v;
  v.name = model;
  v.version = version;
  std::string message;
  for (const auto& p : problems) message += (message.empty() ? "" : "; ") + p.to_string();
  v.reasons.push_back(GateReason{"manifest_invalid", std::move(message)});
  return v;
}

}  // namespace detail

using detail::manifest_refusal;
using detail::read_verdict;

namespace {

std::string snapshot_json(const Rollout& rollout) {
  return util::to_json_text(to_json(rollout.snapshot()));
}

void log_event(const RegistryEvent& e) {
  const util::ScopedLogFields fields{{"model", e.model}, {"model_version", e.version}};
  if (e.verdict) {
    const GateVerdict& v = *e.verdict;
    if (v.passed) {
      spdlog::info("model {} version {}: passed the gate", e.model, e.version);
      return;
    }
    std::string reasons;
    for (const auto& r : v.reasons) reasons += fmt::format("\n  {}: {}", r.code, r.message);
    spdlog::error("model {} version {}: refused by the gate, it will not serve:{}", e.model,
                  e.version, reasons);
  } else if (e.transition) {
    const RolloutEvent& t = *e.transition;
    const bool breach = t.to == RolloutState::rolled_back && t.reason != "manual";
    spdlog::log(breach ? spdlog::level::warn : spdlog::level::info,
                "model {}: {} → {} ({}): {}; live {}, candidate {}", e.model, to_string(t.from),
                to_string(t.to), t.reason, t.detail, t.live_version,
                t.candidate_version.empty() ? "none" : t.candidate_version);
  } else if (e.error) {
    spdlog::error("model {} version {}: {}: {}", e.model, e.version, e.error->code,
                  e.error->message);
  }
}

}  // namespace

std::optional<double> Registry::Impl::live_accuracy(const std::string& model) const {
  std::shared_lock lock(mutex);
  const auto it = models.find(model);
  if (it == models.end() || !it->second.rollout) return std::nullopt;
  const VersionEntry* live = it->second.find(it->second.rollout->live_version());
  return live ? live->accuracy : std::nullopt;
}

util::Result<std::shared_ptr<Engine>> Registry::Impl::load(const std::string& model,
                                                           const std::string& version,
                                                           const fs::path& directory) const {
  config::LoadedManifest loaded = config::load_manifest(directory);
  if (!loaded.problems.empty()) {
    return util::Error{"manifest_invalid",
                       manifest_refusal(model, version, loaded.problems).reasons[0].message};
  }
  loaded.manifest.name = model;
  loaded.manifest.version = version;
  auto engine = loader(loaded.manifest);
  if (engine && !*engine) return util::Error{"load_failed", "the loader gave no engine"};
  return engine;
}

void Registry::Impl::reconcile(ModelSlot& m) {
  const Rollout& r = *m.rollout;
  const bool in_progress = m.in_progress();
  const std::string snapshot = snapshot_json(r);
  for (VersionEntry& e : m.versions) {
    ModelVersionState want = e.state;
    const bool was_serving =
        e.state == ModelVersionState::live || e.state == ModelVersionState::candidate;
    if (e.version == r.live_version()) {
      want = ModelVersionState::live;
    } else if (in_progress && e.version == r.candidate_version()) {
      want = ModelVersionState::candidate;
    } else if (was_serving) {
      // It left: rolled back when it is the version the last rollback retired.
      want = r.state() == RolloutState::rolled_back && e.version == r.candidate_version()
                 ? ModelVersionState::rolled_back
                 : ModelVersionState::retired;
      e.rollout_json = snapshot;
    }
    if (want != e.state || want == ModelVersionState::live ||
        want == ModelVersionState::candidate) {
      e.state = want;
      e.dirty = true;
    }
  }
  m.live = nullptr;
  m.candidate = nullptr;
  if (auto it = m.engines.find(r.live_version()); it != m.engines.end()) m.live = it->second;
  if (in_progress) {
    if (auto it = m.engines.find(r.candidate_version()); it != m.engines.end()) {
      m.candidate = it->second;
    }
  }
  // Engines of versions that no longer serve are freed once the files holding them are done.
  std::erase_if(m.engines, [&](const auto& kv) {
    return kv.first != r.live_version() && !(in_progress && kv.first == r.candidate_version());
  });
  ++m.generation;
}

void Registry::Impl::admit(const std::string& model, const std::string& version,
                           const fs::path& directory, const GateVerdict& verdict, Events& events) {
  {
    std::unique_lock lock(mutex);
    ModelSlot& m = models[model];
    VersionEntry entry;
    entry.version = version;
    entry.directory = directory;
    entry.state = verdict.passed ? ModelVersionState::waiting : ModelVersionState::refused;
    entry.gate_json = util::to_json_text(to_json(verdict));
    entry.dirty = true;
    read_verdict(entry);
    entry.passed = verdict.passed;
    m.versions.push_back(std::move(entry));
  }
  events.push_back(RegistryEvent{model, version, verdict, std::nullopt, std::nullopt});
}

GateVerdict Registry::Impl::judge(const std::string& model, const std::string& version,
                                  const fs::path& directory) const {
  config::LoadedManifest loaded = config::load_manifest(directory);
  if (!loaded.problems.empty()) return manifest_refusal(model, version, loaded.problems);
  loaded.manifest.name = model;
  loaded.manifest.version = version;
  GateVerdict verdict = gate(loaded.manifest, live_accuracy(model));
  verdict.name = model;
  verdict.version = version;
  return verdict;
}

// The newest waiting version becomes live (the model's first) or starts its rollout, once no
// other rollout is in progress; older waiting versions are superseded. A version that passed the
// gate but does not load is refused with `load_failed`, and the next newest is tried.
void Registry::Impl::activate(const std::string& model, Events& events) {
  while (true) {
    std::string version;
    fs::path directory;
    {
      std::shared_lock lock(mutex);
      const auto it = models.find(model);
      if (it == models.end() || it->second.in_progress()) return;
      for (auto v = it->second.versions.rbegin(); v != it->second.versions.rend(); ++v) {
        if (v->state == ModelVersionState::waiting) {
          version = v->version;
          directory = v->directory;
          break;
        }
      }
    }
    if (version.empty()) return;

    config::LoadedManifest loaded = config::load_manifest(directory);
    auto engine = load(model, version, directory);
    std::unique_lock lock(mutex);
    ModelSlot& m = models[model];
    VersionEntry* entry = m.find(version);
    if (!engine || !loaded.problems.empty()) {
      const util::Error error = engine ? util::Error{"manifest_invalid",
                                                     "model.toml changed while "
                                                     "it was being loaded"}
                                       : engine.error();
      // Refused after all: record why beside the gate's numbers.
      boost::system::error_code ec;
      boost::json::value verdict = boost::json::parse(entry->gate_json, ec);
      if (!ec && verdict.is_object()) {
        auto& o = verdict.get_object();
        o["passed"] = false;
        if (!o["reasons"].is_array()) o["reasons"] = boost::json::array{};
        o["reasons"].get_array().push_back(
            boost::json::object{{"code", "load_failed"}, {"message", error.message}});
        entry->gate_json = util::to_json_text(verdict);
      }
      entry->state = ModelVersionState::refused;
      entry->passed = false;
      entry->dirty = true;
      events.push_back(RegistryEvent{model, version, std::nullopt, std::nullopt,
                                     util::Error{"load_failed", error.message}});
      continue;
    }
    for (VersionEntry& older : m.versions) {
      if (older.state == ModelVersionState::waiting && older.version != version) {
        older.state = ModelVersionState::retired;
        older.dirty = true;
      }
    }
    m.engines[version] = std::move(*engine);
    const TimePoint now = options.now();
    RolloutEvent event;
    if (!m.rollout) {
      m.rollout.emplace(model, version, now);
      event = RolloutEvent{model,
                           RolloutState::stable,
                           RolloutState::stable,
                           "first_version",
                           "the model's first version to pass the gate",
                           version,
                           "",
                           {},
                           now};
    } else {
      auto started = m.rollout->start(version, loaded.manifest.rollout, now);
      if (!started) {
        entry->state = ModelVersionState::retired;
        entry->dirty = true;
        m.engines.erase(version);
        events.push_back(
            RegistryEvent{model, version, std::nullopt, std::nullopt, started.error()});
        return;
      }
      event = std::move(*started);
    }
    reconcile(m);
    events.push_back(RegistryEvent{model, version, std::nullopt, std::move(event), std::nullopt});
    return;
  }
}

void Registry::Impl::poll(Events& events) {
  const RepositoryListing listing = list_repository(options.repository);
  if (!listing.error.empty()) {
    if (listing.error != reported_listing_error) {
      events.push_back(RegistryEvent{"", "", std::nullopt, std::nullopt,
                                     util::Error{"repository_unreadable", listing.error}});
    }
  }
  reported_listing_error = listing.error;
  for (const fs::path& bad : listing.invalid) {
    if (reported_invalid.insert(bad).second) {
      spdlog::warn(
          "model repository: {} is skipped: a model or version name is 1 to 64 of "
          "A-Z a-z 0-9 . _ -, starting with a letter or digit",
          bad.string());
    }
  }
  for (const FoundVersion& found : listing.versions) {
    bool known = false;
    {
      std::shared_lock lock(mutex);
      const auto it = models.find(found.model);
      known = it != models.end() && it->second.find(found.version) != nullptr;
    }
    if (known) continue;
    admit(found.model, found.version, found.directory,
          judge(found.model, found.version, found.directory), events);
  }
  // Every model: a rollout may have ended since the last poll (observe() or by hand).
  std::vector<std::string> names;
  {
    std::shared_lock lock(mutex);
    for (const auto& [name, slot] : models) names.push_back(name);
  }
  for (const std::string& name : names) activate(name, events);
}

void Registry::Impl::flush(Events& events) {
  std::lock_guard order(flush_mutex);  // writes land in the order their states were taken
  std::vector<store::ModelVersionRow> rows;
  const TimePoint now = options.now();
  const std::string stamp = util::format_utc(now);
  {
    std::unique_lock lock(mutex);
    for (auto& [name, m] : models) {
      std::string snapshot;
      if (m.rollout) snapshot = snapshot_json(*m.rollout);
      for (VersionEntry& e : m.versions) {
        const bool serving =
            e.state == ModelVersionState::live || e.state == ModelVersionState::candidate;
        if (!e.dirty && !(serving && m.counts_dirty)) continue;
        store::ModelVersionRow row;
        row.model = name;
        row.version = e.version;
        row.directory = e.directory.string();
        row.state = e.state;
        row.gate_json = e.gate_json;
        row.rollout_json = serving ? snapshot : e.rollout_json;
        rows.push_back(std::move(row));
        e.dirty = false;
        if (e.created_at.empty()) e.created_at = stamp;
        e.updated_at = stamp;
      }
      m.counts_dirty = false;
    }
  }
  if (rows.empty()) return;
  if (auto written = catalog.put(rows, stamp); !written) {
    // Written again by the next poll.
    std::unique_lock lock(mutex);
    for (const auto& row : rows) {
      if (auto it = models.find(row.model); it != models.end()) {
        if (VersionEntry* e = it->second.find(row.version)) e->dirty = true;
      }
    }
    events.push_back(RegistryEvent{"", "", std::nullopt, std::nullopt, written.error()});
  }
}

void Registry::Impl::emit(Events& events) {
  if (events.empty()) return;
  std::vector<Listener> copy;
  {
    std::lock_guard lock(listeners_mutex);
    copy = listeners;
  }
  for (const RegistryEvent& e : events) {
    log_event(e);
    for (const auto& listener : copy) listener(e);
  }
  events.clear();
}

void Registry::Impl::wake_soon() {
  {
    std::lock_guard lock(thread_mutex);
    woken = true;
  }
  wake.notify_one();
}

}  // namespace inferwatch::models
