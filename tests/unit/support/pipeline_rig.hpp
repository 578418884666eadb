#pragma once

// A real SQLite store (behind a FaultyStore), a real share folder and real sidecars (behind
// FaultySidecars), for the pipeline parts that work on the store thread. Jobs are made as the
// pipeline makes them: files written, recorded, taken from the backlog.

#include <inferwatch/pipeline/watch_roots.hpp>
#include <inferwatch/pipeline/work_item.hpp>
#include <inferwatch/store/database.hpp>

#include "faulty_sidecars.hpp"
#include "faulty_store.hpp"
#include "ok.hpp"
#include "temp_dir.hpp"

#include <memory>

namespace inferwatch::test {

struct StoreRig {
  TempDir dir;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<FaultyStore> store;
  FaultySidecars sidecars;
  pipeline::WatchRoots roots;

  StoreRig() {
    std::filesystem::create_directories(dir.path() / "share");
    db = ok(store::Database::open(dir.path() / "db.sqlite"));
    store = std::make_unique<FaultyStore>(*db);
    roots = ok(pipeline::WatchRoots::open({dir.path() / "share"}));
  }

  // Write share/<name>, record it, and return its job from the backlog.
  store::Job job(const std::string& name, const std::string& bytes = "image") {
    dir.write("share/" + name, bytes);
    const auto version = ok(roots[0].stat(name));
    const store::FileSighting sighting{roots.name(0), name, version};
    ok(db->record(std::span(&sighting, 1)));
    for (auto& j : ok(db->pending(1000))) {
      if (j.path == name) return j;
    }
    FAIL("no job for " << name);
    return {};
  }

  // A finished work item for `name` with an ok result.
  pipeline::ItemPtr finished(const std::string& name) {
    auto item = std::make_unique<pipeline::WorkItem>();
    item->job = job(name);
    item->root = &roots[0];
    item->input.path = name;
    results::Record record;
    record.path = name;
    record.sha256 = "00";
    record.model_name = "fake";
    record.model_version = "fake@000000000000";
    record.predictions = {{"yes", 0, 0.9}, {"no", 1, 0.1}};
    record.created_at = "2026-12-02T00:00:00.000Z";
    item->record = std::move(record);
    return item;
  }

  std::optional<std::string> current(const std::string& name) {
    return ok(db->current_result(roots.name(0), name));
  }
  bool exists(const std::string& name) const {
    return std::filesystem::exists(dir.path() / "share" / name);
  }
};

}  // namespace inferwatch::test
