// Candidates between the watcher and the store thread: order kept, events never wait, scans wait
// for room (bounded memory), and closing lets a waiting scan go.
#include <inferwatch/pipeline/intake.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using inferwatch::pipeline::Intake;
using inferwatch::watch::Candidate;
using inferwatch::watch::Origin;

namespace {

std::vector<Candidate> candidates(int n, Origin origin, const std::string& prefix = "f") {
  std::vector<Candidate> out;
  for (int i = 0; i < n; ++i) out.push_back({0, prefix + std::to_string(i), origin});
  return out;
}

// Spin until `done` (a condition another thread makes true), failing after a generous limit.
template <typename Predicate>
bool eventually(Predicate done) {
  for (int i = 0; i < 100000 && !done(); ++i) std::this_thread::yield();
  for (int i = 0; i < 2000 && !done(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

}  // namespace

TEST_SUITE_BEGIN("pipeline");

TEST_CASE("pipeline::Intake") {
  std::atomic<int> wakes{0};
  Intake intake(4, [&] { ++wakes; });

  SUBCASE("takes the oldest first, at most `max`, and wakes the store thread per add") {
    intake.add(candidates(3, Origin::closed_after_write, "a"));
    intake.add(candidates(2, Origin::moved_in, "b"));
    CHECK(wakes == 2);
    const auto first = intake.take(4);
    REQUIRE(first.size() == 4);
    CHECK(first[0].path == "a0");
    CHECK(first[3].path == "b0");
    CHECK(intake.take(4).front().path == "b1");
    CHECK(intake.empty());
  }
  SUBCASE("what is put back goes ahead of what came since") {
    intake.add(candidates(2, Origin::closed_after_write, "a"));
    auto taken = intake.take(10);
    intake.add(candidates(1, Origin::closed_after_write, "late"));
    intake.put_back(std::move(taken));
    const auto again = intake.take(10);
    REQUIRE(again.size() == 3);
    CHECK(again[0].path == "a0");
    CHECK(again[2].path == "late0");
  }
  SUBCASE("events are taken even when full; a scan waits for room") {
    intake.add(candidates(6, Origin::closed_after_write));  // events: never held up
    CHECK(intake.size() == 6);
    std::atomic<bool> added{false};
    std::thread scan([&] {
      intake.add(candidates(2, Origin::scan, "s"));
      added = true;
    });
    REQUIRE(eventually([&] { return intake.waiting() == 1; }));
    CHECK_FALSE(added);
    (void)intake.take(3);  // room again
    scan.join();
    CHECK(added);
    CHECK(intake.size() == 5);
  }
  SUBCASE("closing lets a waiting scan go and drops what comes after") {
    intake.add(candidates(4, Origin::closed_after_write));
    std::thread scan([&] { intake.add(candidates(2, Origin::scan, "s")); });
    REQUIRE(eventually([&] { return intake.waiting() == 1; }));
    intake.close();
    scan.join();
    intake.add(candidates(1, Origin::closed_after_write, "late"));
    CHECK(intake.size() == 4);
  }
}

TEST_SUITE_END();
