// A job whose starts never came back (the daemon died with it in flight) runs alone, and after
// the last allowed start it is given up instead of taking the daemon down again.
#include <inferwatch/pipeline/crash_guard.hpp>

#include <doctest/doctest.h>

using inferwatch::pipeline::CrashGuard;
using inferwatch::store::Job;
using Verdict = CrashGuard::Verdict;

namespace {
Job job(std::int64_t file_id, int attempts) {
  Job j;
  j.file_id = file_id;
  j.attempts = attempts;
  return j;
}
}  // namespace

TEST_SUITE_BEGIN("pipeline");

TEST_CASE("pipeline::CrashGuard") {
  CrashGuard guard(2);

  SUBCASE("a job never started before starts with the others") {
    CHECK(guard.judge(job(1, 0), 0) == Verdict::start);
    CHECK(guard.judge(job(1, 0), 10) == Verdict::start);
  }
  SUBCASE("a suspect starts only when nothing else is in flight") {
    CHECK(guard.judge(job(1, 1), 3) == Verdict::wait);
    CHECK(guard.judge(job(1, 1), 0) == Verdict::start_alone);
  }
  SUBCASE("while a suspect runs alone nothing else starts, until it is finished") {
    guard.running_alone(7);
    CHECK(guard.alone());
    guard.finished(8);  // another file's outcome does not end the solo run
    CHECK(guard.alone());
    guard.finished(7);
    CHECK_FALSE(guard.alone());
  }
  SUBCASE("a job that stopped the daemon max_attempts times is given up") {
    CHECK(guard.judge(job(1, 2), 0) == Verdict::give_up);
    CHECK(guard.judge(job(1, 5), 4) == Verdict::give_up);
  }
}

TEST_SUITE_END();
