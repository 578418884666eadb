// Exactly once, with a store and a share that fail: ids in commit order, the sidecar written once
// with the id its row gets, a round the store refused committed whole later, and a result whose
// sidecar cannot be written kept in the store with its predictions and the reason.
#include <inferwatch/pipeline/committer.hpp>

#include "support/pipeline_rig.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using namespace inferwatch;
using inferwatch::test::ok;
using pipeline::Committer;
using pipeline::ItemPtr;

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct CommitRig : test::StoreRig {
  pipeline::ResultIds ids{*store, 16};
  std::vector<std::int64_t> heard;
  Committer committer{
      *store,
      ids,
      sidecars,
      {},
      [this](std::int64_t id, const std::string&, const std::string&) { heard.push_back(id); },
      nullptr};

  std::vector<ItemPtr> items(std::initializer_list<const char*> names) {
    std::vector<ItemPtr> out;
    for (const char* name : names) out.push_back(finished(name));
    return out;
  }
};

}  // namespace

TEST_SUITE_BEGIN("pipeline");

TEST_CASE("pipeline::Committer") {
  CommitRig rig;

  SUBCASE("results get ids in commit order, sidecars carry the stored JSON, listeners hear them") {
    auto finished = rig.items({"a.png", "b.png"});
    const auto rounds = ok(rig.committer.commit(finished));
    REQUIRE(rounds.size() == 1);
    CHECK(rounds[0].ok == 2);
    CHECK(finished.empty());
    CHECK(rig.heard == std::vector<std::int64_t>{1, 2});
    CHECK(slurp(rig.dir.path() / "share/a.png.result.json") == *rig.current("a.png"));
    CHECK(ok(rig.db->pending_count()) == 0);
  }
  SUBCASE("a round the store refused is committed whole later, its sidecars not rewritten") {
    rig.store->set(test::Fault::commits);
    auto finished = rig.items({"a.png", "b.png"});
    REQUIRE_FALSE(rig.committer.commit(finished).ok());
    CHECK(rig.committer.holding());
    CHECK(rig.heard.empty());
    const auto sidecar = slurp(rig.dir.path() / "share/a.png.result.json");
    CHECK(rig.sidecars.attempts() == 2);
    auto later = rig.items({"c.png"});
    REQUIRE_FALSE(rig.committer.commit(later).ok());  // still failing: c waits too
    CHECK(later.size() == 1);
    rig.store->set(test::Fault::none);
    const auto rounds = ok(rig.committer.commit(later));
    REQUIRE(rounds.size() == 2);
    CHECK(rig.heard == std::vector<std::int64_t>{1, 2, 3});  // the held round first
    CHECK(rig.sidecars.attempts() == 3);                     // a and b once, c once
    CHECK(slurp(rig.dir.path() / "share/a.png.result.json") == sidecar);
    CHECK(*rig.current("a.png") == sidecar);
  }
  SUBCASE("no ids, nothing taken: a store that cannot reserve ids leaves the items") {
    rig.store->set(test::Fault::everything);
    auto finished = rig.items({"a.png"});
    REQUIRE_FALSE(rig.committer.commit(finished).ok());
    CHECK(finished.size() == 1);
    CHECK_FALSE(rig.committer.holding());
    CHECK(rig.sidecars.attempts() == 0);
  }
  SUBCASE("a sidecar the share refuses: the result is stored with its predictions and why") {
    rig.sidecars.fail(true);
    auto finished = rig.items({"a.png"});
    const auto rounds = ok(rig.committer.commit(finished));
    CHECK(rounds.at(0).sidecars_missing == 1);
    CHECK_FALSE(rig.exists("a.png.result.json"));
    const std::string stored = *rig.current("a.png");
    CHECK(stored.find("\"predictions\"") != std::string::npos);
    CHECK(stored.find("\"sidecar_error\"") != std::string::npos);
    CHECK(stored.find("Read-only file system") != std::string::npos);
    CHECK(ok(rig.db->missing_sidecars(10)).size() == 1);
  }
  SUBCASE("a file that vanished is forgotten; one that changed is pending again") {
    auto gone = rig.finished("gone.png");
    gone->record.reset();
    gone->vanished = true;
    auto changed = rig.finished("changed.png");
    changed->record.reset();
    changed->changed_to = changed->job.version;
    changed->changed_to->size += 1;
    std::vector<ItemPtr> finished;
    finished.push_back(std::move(gone));
    finished.push_back(std::move(changed));
    const auto rounds = ok(rig.committer.commit(finished));
    CHECK(rounds.at(0).items.size() == 2);
    CHECK(rig.heard.empty());
    const auto pending = ok(rig.db->pending(10));
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].path == "changed.png");
    CHECK_FALSE(ok(rig.db->file_state(rig.roots.name(0), "gone.png")).has_value());
  }
}

TEST_SUITE_END();
