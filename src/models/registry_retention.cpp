// Registry retention (model.keep_versions): the directories of old versions are deleted, their
// catalog rows kept as `removed`.
//
// A version directory is first renamed to `.removing.<version>` in its model folder (one atomic
// step: the repository poll skips dot names, so it never sees a half-deleted version), then
// deleted through descriptors: the repository is opened as configured, every folder beneath it
// with O_NOFOLLOW (util::remove_tree_at), so a symlink swapped in anywhere is never followed out.

#include "registry_impl.hpp"

#include <inferwatch/util/log_fields.hpp>
#include <inferwatch/util/remove_tree.hpp>
#include <inferwatch/util/root_dir.hpp>
#include <inferwatch/util/unique_fd.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <stdio.h>
#include <cerrno>
#include <cstring>

namespace inferwatch::models {

using detail::ModelSlot;
using detail::VersionEntry;
using store::ModelVersionState;

namespace {

constexpr std::string_view k_removing_prefix = ".removing.";

bool is_old(ModelVersionState s) {
  return s == ModelVersionState::retired || s == ModelVersionState::rolled_back ||
         s == ModelVersionState::refused;
}

struct Doomed {
  std::string model;
  std::string version;
  ModelVersionState was;
};

util::UniqueFd open_dir(int parent, const char* name) {
  return util::UniqueFd(
      ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
}

// Delete `<repository>/<model>/<version>`; a version already gone is success.
util::Result<void> remove_version(int repository, const std::string& model,
                                  const std::string& version) {
  const util::UniqueFd folder = open_dir(repository, model.c_str());
  if (!folder) {
    if (errno == ENOENT) return {};
    return util::Error{"remove_failed",
                       fmt::format("cannot open {}: {}", model, std::strerror(errno))};
  }
  const std::string aside = std::string(k_removing_prefix) + version;
  // What an interrupted removal of the same name left goes first.
  if (auto cleared = util::remove_tree_at(folder.get(), aside); !cleared) return cleared;
  if (::renameat(folder.get(), version.c_str(), folder.get(), aside.c_str()) != 0) {
    if (errno == ENOENT) return {};
    return util::Error{"remove_failed", fmt::format("cannot rename {}/{} to {}: {}", model, version,
                                                    aside, std::strerror(errno))};
  }
  return util::remove_tree_at(folder.get(), aside);
}

}  // namespace

void Registry::Impl::prune() {
  if (options.keep_versions <= 0) return;
  std::vector<Doomed> doomed;
  {
    std::shared_lock lock(mutex);
    for (const auto& [name, m] : models) {
      // A plain rollback after a promotion returns to this one.
      const std::string back_to = m.rollout ? m.rollout->snapshot().previous_version : "";
      std::vector<const VersionEntry*> old;
      for (const VersionEntry& e : m.versions) {
        if (is_old(e.state) && e.version != back_to) old.push_back(&e);
      }
      // Oldest first: versions are in the order found.
      const auto keep = static_cast<std::size_t>(options.keep_versions);
      for (std::size_t i = 0; i + keep < old.size(); ++i) {
        doomed.push_back(Doomed{name, old[i]->version, old[i]->state});
      }
    }
  }
  if (doomed.empty()) return;

  const util::UniqueFd repository(
      ::open(options.repository.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!repository) return;  // the poll reports an unreadable repository
  for (const Doomed& d : doomed) {
    const util::ScopedLogFields fields{{"model", d.model}, {"model_version", d.version}};
    if (!valid_repository_name(d.model) || !valid_repository_name(d.version)) continue;
    const auto removed = remove_version(repository.get(), d.model, d.version);
    const std::string key = d.model + "/" + d.version;
    if (!removed) {
      if (reported_removal_failures.insert(key).second) {
        spdlog::warn(
            "model {} version {}: cannot remove its directory (model.keep_versions = {}), "
            "retrying at every poll: {}",
            d.model, d.version, options.keep_versions, removed.error().message);
      }
      continue;
    }
    reported_removal_failures.erase(key);
    {
      std::unique_lock lock(mutex);
      const auto it = models.find(d.model);
      if (it == models.end()) continue;
      VersionEntry* e = it->second.find(d.version);
      if (!e) continue;
      e->state = ModelVersionState::removed;
      e->dirty = true;
    }
    spdlog::info(
        "model {} version {}: removed its directory {} (it was {}; model.keep_versions = {} old "
        "versions are kept)",
        d.model, d.version, (options.repository / d.model / d.version).string(),
        store::to_string(d.was), options.keep_versions);
  }
}

void Registry::Impl::clean_interrupted_removals() {
  const util::UniqueFd repository(
      ::open(options.repository.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!repository) return;
  std::vector<std::string> names;
  {
    std::shared_lock lock(mutex);
    for (const auto& [name, m] : models) names.push_back(name);
  }
  for (const std::string& model : names) {
    if (!valid_repository_name(model)) continue;
    const util::UniqueFd folder = open_dir(repository.get(), model.c_str());
    if (!folder) continue;
    std::vector<std::string> leftovers;
    (void)util::for_each_entry(folder.get(), [&](const util::DirEntry& e) {
      if (e.name.starts_with(k_removing_prefix)) leftovers.emplace_back(e.name);
    });
    for (const std::string& name : leftovers) {
      if (auto removed = util::remove_tree_at(folder.get(), name); !removed) {
        spdlog::warn("model {}: cannot remove {} (left by an interrupted removal): {}", model, name,
                     removed.error().message);
      }
    }
  }
}

}  // namespace inferwatch::models
