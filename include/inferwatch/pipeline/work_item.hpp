#pragma once

// One backlog job's trip through the pipeline, from feed to commit. Exactly one outcome is set
// when it comes back to the store thread: a record, a newer version, or "vanished".
// Ownership: one thread at a time holds the item (store → decode pool → batcher → store).

#include <inferwatch/models/engine.hpp>
#include <inferwatch/models/registry.hpp>
#include <inferwatch/results/record.hpp>
#include <inferwatch/store/file_version.hpp>
#include <inferwatch/store/job.hpp>
#include <inferwatch/util/root_dir.hpp>

#include <functional>
#include <memory>
#include <optional>

namespace inferwatch::pipeline {

struct WorkItem {
  store::Job job;
  const util::RootDir* root = nullptr;     // the watch root the job's path is relative to
  models::Input input;                     // path, prepared tensor, when it was fed
  std::shared_ptr<models::Engine> engine;  // the model it is prepared for, from decode to result
  std::optional<results::Record> record;   // a result to commit (ok or error)
  std::optional<store::FileVersion> changed_to;  // the file changed: no result for this version
  bool vanished = false;                         // the file is gone: no result
  std::function<void(results::Record)> reply;    // interactive: answer here, store nothing
  // With a model repository: the route's model and arm; `engine` is its `current`.
  std::optional<models::Selection> selection;
  std::optional<models::Input> shadow_input;     // shadow arm: prepared for the candidate
  std::optional<results::Record> shadow_record;  // the candidate's result, compared, stored apart

  // True when the item carries a result to store (not a change or a disappearance).
  bool has_result() const { return record && !vanished && !changed_to; }
};

using ItemPtr = std::unique_ptr<WorkItem>;

}  // namespace inferwatch::pipeline
