// Sidecars the share refused are written later: soon after the failure, then with doubling waits
// while the share keeps refusing, at once when a scan passes, and never for a file that changed.
// Time is passed in: nothing here sleeps.
#include <inferwatch/pipeline/committer.hpp>
#include <inferwatch/pipeline/sidecar_retry.hpp>

#include "support/pipeline_rig.hpp"

#include <doctest/doctest.h>

using namespace inferwatch;
using namespace std::chrono_literals;
using inferwatch::test::ok;
using pipeline::SidecarRetry;

namespace {

struct RetryRig : test::StoreRig {
  pipeline::ResultIds ids{*store, 16};
  pipeline::Committer committer{*store, ids, sidecars, {}, {}, nullptr};
  SidecarRetry retry{roots, *store, sidecars, ".result.json", true};
  const SidecarRetry::Clock::time_point t0 = SidecarRetry::Clock::time_point{} + 1h;

  // Commit results for `names` while the share refuses their sidecars.
  void commit_without_sidecars(std::initializer_list<const char*> names) {
    sidecars.fail(true);
    std::vector<pipeline::ItemPtr> items;
    for (const char* name : names) items.push_back(finished(name));
    ok(committer.commit(items));
    sidecars.fail(false);
  }
};

}  // namespace

TEST_SUITE_BEGIN("pipeline");

TEST_CASE("pipeline::SidecarRetry") {
  RetryRig rig;
  rig.commit_without_sidecars({"a.png", "b.png"});

  SUBCASE("looks at start, writes what is missing and clears the stored reason") {
    CHECK(rig.retry.due() <= rig.t0);
    CHECK(ok(rig.retry.run(rig.t0)) == 2);
    CHECK(rig.exists("a.png.result.json"));
    const std::string stored = *rig.current("a.png");
    CHECK(stored.find("sidecar_error") == std::string::npos);
    CHECK(stored.find("\"predictions\"") != std::string::npos);
    CHECK(ok(rig.db->missing_sidecars(10)).empty());
    CHECK(rig.retry.due() == SidecarRetry::Clock::time_point::max());  // nothing left to do
  }
  SUBCASE("while the share refuses, the waits double; nothing is tried before they pass") {
    rig.sidecars.fail(true);
    CHECK(ok(rig.retry.run(rig.t0)) == 0);
    CHECK(rig.retry.due() == rig.t0 + 1s);
    const int attempts = rig.sidecars.attempts();
    CHECK(ok(rig.retry.run(rig.t0 + 999ms)) == 0);
    CHECK(rig.sidecars.attempts() == attempts);  // not due: not tried
    CHECK(ok(rig.retry.run(rig.t0 + 1s)) == 0);
    CHECK(rig.sidecars.attempts() > attempts);
    CHECK(rig.retry.due() == rig.t0 + 1s + 2s);
    rig.sidecars.fail(false);
    CHECK(ok(rig.retry.run(rig.t0 + 3s)) == 2);
  }
  SUBCASE("a failure schedules a try a second later; a scan passing by makes it due at once") {
    ok(rig.retry.run(rig.t0));  // the start's look: all written
    rig.commit_without_sidecars({"c.png"});
    rig.retry.missed(rig.t0 + 10s);
    CHECK(rig.retry.due() == rig.t0 + 11s);
    rig.retry.look_now(rig.t0 + 10500ms);
    CHECK(rig.retry.due() == rig.t0 + 10500ms);
    CHECK(ok(rig.retry.run(rig.t0 + 10500ms)) == 1);
  }
  SUBCASE("a file that changed since its result gets no old sidecar") {
    rig.dir.write("share/a.png", "a new drawing");
    CHECK(ok(rig.retry.run(rig.t0)) == 1);  // only b
    CHECK_FALSE(rig.exists("a.png.result.json"));
    CHECK(rig.exists("b.png.result.json"));
  }
  SUBCASE("a failing store is reported and the sidecars stay marked") {
    rig.store->set(test::Fault::everything);
    const auto failed = rig.retry.run(rig.t0);
    REQUIRE_FALSE(failed.ok());
    rig.store->set(test::Fault::none);
    CHECK(ok(rig.db->missing_sidecars(10)).size() == 2);
  }
  SUBCASE("with sidecars off nothing is ever due") {
    SidecarRetry off{rig.roots, *rig.store, rig.sidecars, ".result.json", false};
    CHECK(off.due() == SidecarRetry::Clock::time_point::max());
    off.missed(rig.t0);
    CHECK(ok(off.run(rig.t0 + 1h)) == 0);
    CHECK_FALSE(rig.exists("a.png.result.json"));
  }
}

TEST_SUITE_END();
