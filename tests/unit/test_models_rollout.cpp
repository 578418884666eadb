// Rollout: the per-model state machine of a candidate version (shadow, canary, promotion,
// rollback), its canary split by path hash, and its snapshot for restarts.
#include <inferwatch/models/rollout.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <boost/json.hpp>

#include <cmath>
#include <string>

using namespace inferwatch;
using models::Arm;
using models::Decision;
using models::Outcome;
using models::Rollout;
using models::RolloutState;

namespace {

models::TimePoint at(int seconds) {
  return models::TimePoint{} + std::chrono::seconds(1'700'000'000 + seconds);
}

config::RolloutPolicy policy(config::RolloutMode mode) {
  config::RolloutPolicy p;
  p.mode = mode;
  p.canary_fraction = 0.2;
  p.min_files = 100;
  p.min_agreement = 0.9;
  p.max_error_rate = 0.05;
  p.max_latency_ratio = 2.0;
  p.auto_promote = true;
  return p;
}

Outcome ok(std::string label, double score = 0.9, double latency_ms = 10.0) {
  return Outcome{true, std::move(label), score, latency_ms};
}
Outcome failed() { return Outcome{false, "", 0.0, 0.0}; }

// A model live at version 1 with version 2 out under `p`.
Rollout started(const config::RolloutPolicy& p) {
  Rollout r("fruit", "1", at(0));
  REQUIRE(r.start("2", p, at(1)).ok());
  return r;
}

// Every field, as the JSON form prints it (RolloutPolicy has no ==).
std::string text_of(const models::RolloutSnapshot& s) {
  return boost::json::serialize(models::to_json(s));
}

void agreeing_pairs(Rollout& r, int n, double candidate_latency_ms = 10.0) {
  for (int i = 0; i < n; ++i)
    REQUIRE(r.observe_pair(ok("apple"), ok("apple", 0.8, candidate_latency_ms)));
}

}  // namespace

TEST_SUITE_BEGIN("models");

TEST_CASE("models::canary_point") {
  SUBCASE("pinned values: FNV-1a 64 of the raw bytes, splitmix64-mixed, top 53 bits") {
    CHECK(models::canary_point("") == 0.9576734252420561);
    CHECK(models::canary_point("a") == 0.010753497314070604);
    CHECK(models::canary_point("crops/apple_0001.png") == 0.574603629968408);
    CHECK(models::canary_point("crops/apple_0002.png") == 0.8536617446969235);
    CHECK(models::canary_point("lot-\xff/\xfe.png") == 0.3748441278706135);
  }
  SUBCASE("the same path gives the same point") {
    const std::string path = "line-3/batch-17/crop_00042.png";
    CHECK(models::canary_point(path) == models::canary_point(std::string(path)));
    CHECK(models::in_canary(path, 0.5) == models::in_canary(path, 0.5));
  }
}

TEST_CASE("models::in_canary") {
  SUBCASE("the share of 10,000 generated paths is the fraction, within 4 standard deviations") {
    for (const double fraction : {0.01, 0.1, 0.5}) {
      int in = 0;
      for (int i = 0; i < 10'000; ++i) {
        in += models::in_canary(fmt::format("line-{}/batch-{}/crop_{:05d}.png", i % 7, i / 100, i),
                                fraction);
      }
      const double expected = 10'000 * fraction;
      const double tolerance = 4 * std::sqrt(expected * (1 - fraction));
      INFO("fraction " << fraction << ": " << in << " of 10000");
      CHECK(std::abs(in - expected) <= tolerance);
    }
  }
  SUBCASE("a larger fraction keeps every path of a smaller one") {
    for (int i = 0; i < 1000; ++i) {
      const std::string path = fmt::format("p{}.png", i);
      if (models::in_canary(path, 0.1)) CHECK(models::in_canary(path, 0.3));
    }
  }
  SUBCASE("fraction 0 takes nothing, fraction 1 everything") {
    CHECK_FALSE(models::in_canary("a", 0.0));
    CHECK(models::in_canary("", 1.0));
  }
}

TEST_CASE("models::Rollout::start") {
  Rollout r("fruit", "1", at(0));
  SUBCASE("shadow: the candidate runs beside every file, the event says so") {
    const auto event = r.start("2", policy(config::RolloutMode::shadow), at(5));
    REQUIRE(event.ok());
    CHECK(event->from == RolloutState::stable);
    CHECK(event->to == RolloutState::shadow);
    CHECK(event->reason == "started");
    CHECK(event->model == "fruit");
    CHECK(event->candidate_version == "2");
    CHECK(event->at == at(5));
    CHECK(r.live_version() == "1");
    CHECK(r.arm("any/file.png") == Arm::shadow);
  }
  SUBCASE("immediate: promoted at once") {
    const auto event = r.start("2", policy(config::RolloutMode::immediate), at(5));
    REQUIRE(event.ok());
    CHECK(event->to == RolloutState::promoted);
    CHECK(event->reason == "immediate");
    CHECK(event->live_version == "2");
    CHECK(r.live_version() == "2");
    CHECK(r.arm("any/file.png") == Arm::live);
  }
  SUBCASE("a second candidate while one is out is refused") {
    REQUIRE(r.start("2", policy(config::RolloutMode::shadow), at(5)).ok());
    const auto again = r.start("3", policy(config::RolloutMode::shadow), at(6));
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code == "rollout_in_progress");
    CHECK(r.candidate_version() == "2");
  }
  SUBCASE("the live version is no candidate") {
    const auto same = r.start("1", policy(config::RolloutMode::shadow), at(5));
    REQUIRE_FALSE(same.ok());
    CHECK(same.error().code == "already_live");
  }
  SUBCASE("a new rollout after a finished one starts from zero") {
    REQUIRE(r.start("2", policy(config::RolloutMode::shadow), at(5)).ok());
    agreeing_pairs(r, 100);
    REQUIRE(r.decide(at(6)));
    REQUIRE(r.start("3", policy(config::RolloutMode::shadow), at(7)).ok());
    CHECK(r.counters().files == 0);
    CHECK(r.live_version() == "2");
  }
}

TEST_CASE("models::Rollout::arm") {
  SUBCASE("stable: live only") { CHECK(Rollout("m", "1", at(0)).arm("a.png") == Arm::live); }
  SUBCASE("canary: by the path's hash, with the policy's fraction") {
    Rollout r = started(policy(config::RolloutMode::canary));
    int canary = 0;
    for (int i = 0; i < 1000; ++i) {
      const std::string path = fmt::format("d/{}.png", i);
      const Arm arm = r.arm(path);
      CHECK(arm == (models::in_canary(path, 0.2) ? Arm::canary : Arm::live));
      canary += arm == Arm::canary;
    }
    CHECK(canary > 0);
    CHECK(canary < 1000);
  }
}

TEST_CASE("models::Rollout::decide shadow") {
  SUBCASE("no promotion before min_files, promotion at min_files agreeing files") {
    Rollout r = started(policy(config::RolloutMode::shadow));
    agreeing_pairs(r, 99);
    CHECK(r.judge().reason == "collecting");
    CHECK_FALSE(r.decide(at(2)));
    CHECK(r.state() == RolloutState::shadow);
    agreeing_pairs(r, 1);
    const auto event = r.decide(at(3));
    REQUIRE(event);
    CHECK(event->from == RolloutState::shadow);
    CHECK(event->to == RolloutState::promoted);
    CHECK(event->reason == "policy_met");
    CHECK(event->live_version == "2");
    CHECK(event->counters.files == 100);
    CHECK(event->counters.agreed == 100);
    CHECK(r.live_version() == "2");
    CHECK(r.arm("a.png") == Arm::live);
  }
  SUBCASE("auto_promote off: the policy is met, a person promotes") {
    auto p = policy(config::RolloutMode::shadow);
    p.auto_promote = false;
    Rollout r = started(p);
    agreeing_pairs(r, 150);
    CHECK(r.judge().decision == Decision::wait);
    CHECK(r.judge().reason == "awaiting_promotion");
    CHECK_FALSE(r.decide(at(2)));
    const auto event = r.promote(at(3));
    REQUIRE(event.ok());
    CHECK(event->reason == "manual");
    CHECK(r.live_version() == "2");
  }
  SUBCASE("counters: agreement, score delta, error rate, latency ratio") {
    Rollout r = started(policy(config::RolloutMode::shadow));
    r.observe_pair(ok("apple", 0.9, 10.0), ok("apple", 0.7, 30.0));
    r.observe_pair(ok("apple", 0.9, 10.0), ok("pear", 0.6, 30.0));
    r.observe_pair(ok("apple", 0.9, 20.0), failed());
    r.observe_pair(ok("", 0.0, 20.0), ok("", 0.0, 30.0));  // raw output: nothing to compare
    const auto& c = r.counters();
    CHECK(c.files == 4);
    CHECK(c.compared == 2);
    CHECK(*c.agreement() == doctest::Approx(0.5));
    CHECK(*c.mean_score_delta() == doctest::Approx(0.25));
    CHECK(*c.error_rate() == doctest::Approx(0.25));
    CHECK(*c.latency_ratio() == doctest::Approx(2.0));  // 30 over 15
  }
  SUBCASE("error-rate breach before min_files: once it is certain") {
    Rollout r = started(policy(config::RolloutMode::shadow));  // 5 % of 100: 5 errors allowed
    for (int i = 0; i < 5; ++i) r.observe_pair(ok("apple"), failed());
    CHECK_FALSE(r.decide(at(2)));
    r.observe_pair(ok("apple"), failed());
    const auto event = r.decide(at(3));
    REQUIRE(event);
    CHECK(event->to == RolloutState::rolled_back);
    CHECK(event->reason == "error_rate");
    CHECK(event->counters.candidate_errors == 6);
    CHECK(r.live_version() == "1");
    CHECK(r.arm("a.png") == Arm::live);
  }
  SUBCASE("error-rate breach after min_files: the rate itself") {
    auto p = policy(config::RolloutMode::shadow);
    p.auto_promote = false;
    Rollout r = started(p);
    agreeing_pairs(r, 200);
    for (int i = 0; i < 10; ++i) r.observe_pair(ok("apple"), failed());
    CHECK_FALSE(r.decide(at(2)));  // 10 of 210: 4.8 %
    r.observe_pair(ok("apple"), failed());
    const auto event = r.decide(at(3));  // 11 of 211: 5.2 %
    REQUIRE(event);
    CHECK(event->reason == "error_rate");
  }
  SUBCASE("latency breach, judged from min_files on") {
    Rollout r = started(policy(config::RolloutMode::shadow));
    agreeing_pairs(r, 99, 25.0);  // 2.5 times the live version's 10 ms
    CHECK(r.judge().reason == "collecting");
    agreeing_pairs(r, 1, 25.0);
    const auto event = r.decide(at(2));
    REQUIRE(event);
    CHECK(event->to == RolloutState::rolled_back);
    CHECK(event->reason == "latency");
  }
  SUBCASE("latency at the limit is no breach") {
    Rollout r = started(policy(config::RolloutMode::shadow));
    agreeing_pairs(r, 100, 20.0);
    const auto event = r.decide(at(2));
    REQUIRE(event);
    CHECK(event->reason == "policy_met");
  }
  SUBCASE("low agreement: rolled back as soon as min_agreement cannot be reached") {
    Rollout r = started(policy(config::RolloutMode::shadow));  // 90 %: 10 of 100 may disagree
    for (int i = 0; i < 10; ++i) r.observe_pair(ok("apple"), ok("pear"));
    CHECK_FALSE(r.decide(at(2)));
    r.observe_pair(ok("apple"), ok("pear"));
    const auto event = r.decide(at(3));
    REQUIRE(event);
    CHECK(event->reason == "agreement");
    CHECK(event->counters.agreed == 0);
  }
  SUBCASE("low agreement at min_files") {
    Rollout r = started(policy(config::RolloutMode::shadow));
    agreeing_pairs(r, 85);
    for (int i = 0; i < 10; ++i) r.observe_pair(ok("apple"), ok("pear"));
    for (int i = 0; i < 5; ++i) r.observe_pair(ok("apple"), failed());  // 85 of 95 compared
    const auto event = r.decide(at(2));
    REQUIRE(event);
    CHECK(event->reason == "agreement");
  }
  SUBCASE("nothing to compare (raw outputs): no automatic promotion") {
    Rollout r = started(policy(config::RolloutMode::shadow));
    for (int i = 0; i < 100; ++i) r.observe_pair(ok(""), ok(""));
    CHECK(r.judge().reason == "no_agreement");
    CHECK_FALSE(r.decide(at(2)));
  }
  SUBCASE("canary observations are not counted in shadow") {
    Rollout r = started(policy(config::RolloutMode::shadow));
    CHECK_FALSE(r.observe_canary(ok("apple")));
    CHECK_FALSE(r.observe_live(ok("apple")));
    CHECK(r.counters().files == 0);
  }
}

TEST_CASE("models::Rollout::decide canary") {
  SUBCASE("promoted after min_files canary files within error rate and latency") {
    Rollout r = started(policy(config::RolloutMode::canary));
    for (int i = 0; i < 400; ++i) r.observe_live(ok("apple", 0.9, 10.0));
    for (int i = 0; i < 99; ++i) r.observe_canary(ok("apple", 0.9, 12.0));
    CHECK_FALSE(r.decide(at(2)));
    r.observe_canary(ok("apple", 0.9, 12.0));
    const auto event = r.decide(at(3));
    REQUIRE(event);
    CHECK(event->from == RolloutState::canary);
    CHECK(event->reason == "policy_met");
    CHECK(r.live_version() == "2");
  }
  SUBCASE("error-rate breach") {
    Rollout r = started(policy(config::RolloutMode::canary));
    for (int i = 0; i < 6; ++i) r.observe_canary(failed());
    const auto event = r.decide(at(2));
    REQUIRE(event);
    CHECK(event->reason == "error_rate");
  }
  SUBCASE("latency breach against the live files outside the canary") {
    Rollout r = started(policy(config::RolloutMode::canary));
    for (int i = 0; i < 400; ++i) r.observe_live(ok("apple", 0.9, 10.0));
    for (int i = 0; i < 100; ++i) r.observe_canary(ok("apple", 0.9, 21.0));
    const auto event = r.decide(at(2));
    REQUIRE(event);
    CHECK(event->reason == "latency");
  }
  SUBCASE("shadow pairs are not counted in a canary") {
    Rollout r = started(policy(config::RolloutMode::canary));
    CHECK_FALSE(r.observe_pair(ok("apple"), ok("apple")));
    CHECK(r.counters().files == 0);
  }
}

TEST_CASE("models::Rollout::promote") {
  SUBCASE("by hand before min_files") {
    Rollout r = started(policy(config::RolloutMode::shadow));
    agreeing_pairs(r, 3);
    const auto event = r.promote(at(2));
    REQUIRE(event.ok());
    CHECK(event->from == RolloutState::shadow);
    CHECK(event->to == RolloutState::promoted);
    CHECK(event->reason == "manual");
    CHECK(event->counters.files == 3);
    CHECK(r.live_version() == "2");
  }
  SUBCASE("nothing to promote while stable") {
    Rollout r("fruit", "1", at(0));
    const auto event = r.promote(at(1));
    REQUIRE_FALSE(event.ok());
    CHECK(event.error().code == "no_candidate");
  }
  SUBCASE("results arriving after the promotion are not counted") {
    Rollout r = started(policy(config::RolloutMode::shadow));
    REQUIRE(r.promote(at(2)).ok());
    CHECK_FALSE(r.observe_pair(ok("apple"), ok("apple")));
    CHECK_FALSE(r.decide(at(3)));
  }
}

TEST_CASE("models::Rollout::roll_back") {
  SUBCASE("by hand mid-rollout: the candidate is retired, the reason kept") {
    Rollout r = started(policy(config::RolloutMode::canary));
    const auto event = r.roll_back("labels look wrong on line 3", at(2));
    REQUIRE(event.ok());
    CHECK(event->from == RolloutState::canary);
    CHECK(event->to == RolloutState::rolled_back);
    CHECK(event->reason == "manual");
    CHECK(event->detail == "labels look wrong on line 3");
    CHECK(event->candidate_version == "2");
    CHECK(r.live_version() == "1");
    CHECK(r.snapshot().detail == "labels look wrong on line 3");
    CHECK(r.arm("a.png") == Arm::live);
  }
  SUBCASE("after a promotion: the version before it is live again") {
    Rollout r = started(policy(config::RolloutMode::immediate));
    REQUIRE(r.live_version() == "2");
    const auto event = r.roll_back("", at(2));
    REQUIRE(event.ok());
    CHECK(event->from == RolloutState::promoted);
    CHECK(event->live_version == "1");
    CHECK(event->candidate_version == "2");
    CHECK(r.live_version() == "1");
  }
  SUBCASE("to a named retained version") {
    Rollout r = started(policy(config::RolloutMode::immediate));
    const auto event = r.roll_back("back to the March model", at(2), "0");
    REQUIRE(event.ok());
    CHECK(r.live_version() == "0");
    CHECK(event->candidate_version == "2");
  }
  SUBCASE("nothing to roll back while stable") {
    Rollout r("fruit", "1", at(0));
    const auto event = r.roll_back("", at(1));
    REQUIRE_FALSE(event.ok());
    CHECK(event.error().code == "nothing_to_roll_back");
  }
}

TEST_CASE("models::Rollout::judge_feedback") {
  auto canary = policy(config::RolloutMode::canary);
  canary.min_feedback_accuracy = 0.8;
  canary.min_feedback_count = 10;

  SUBCASE("a canary candidate below min_feedback_accuracy with enough feedback is rolled back") {
    Rollout r = started(canary);
    const auto event = r.judge_feedback("2", 10, 7, at(5));  // 0.7 < 0.8
    REQUIRE(event);
    CHECK(event->reason == "feedback_accuracy");
    CHECK(event->from == RolloutState::canary);
    CHECK(event->to == RolloutState::rolled_back);
    CHECK(event->candidate_version == "2");
    CHECK(event->live_version == "1");
    CHECK(event->detail.find("7 of 10") != std::string::npos);
    CHECK(r.state() == RolloutState::rolled_back);
    CHECK(r.live_version() == "1");
    CHECK(r.snapshot().reason == "feedback_accuracy");
  }
  SUBCASE("fewer results with feedback than min_feedback_count are not judged") {
    Rollout r = started(canary);
    CHECK_FALSE(r.judge_feedback("2", 9, 0, at(5)));
    CHECK(r.state() == RolloutState::canary);
  }
  SUBCASE("an accuracy at the threshold keeps the canary") {
    Rollout r = started(canary);
    CHECK_FALSE(r.judge_feedback("2", 10, 8, at(5)));
    CHECK(r.state() == RolloutState::canary);
  }
  SUBCASE("feedback on the live version's results does not judge the candidate") {
    Rollout r = started(canary);
    CHECK_FALSE(r.judge_feedback("1", 100, 0, at(5)));
    CHECK(r.state() == RolloutState::canary);
  }
  SUBCASE("min_feedback_accuracy 0 (the default) never judges feedback") {
    Rollout r = started(policy(config::RolloutMode::canary));
    CHECK_FALSE(r.judge_feedback("2", 100, 0, at(5)));
    CHECK(r.state() == RolloutState::canary);
  }
  SUBCASE("outside a canary nothing is judged") {
    auto shadow = canary;
    shadow.mode = config::RolloutMode::shadow;
    Rollout r = started(shadow);
    CHECK_FALSE(r.judge_feedback("2", 100, 0, at(5)));
    CHECK(r.state() == RolloutState::shadow);
  }
  SUBCASE("the policy's feedback keys survive a snapshot") {
    const auto json = models::to_json(started(canary).snapshot());
    const auto back = models::rollout_snapshot_from_json(boost::json::serialize(json));
    REQUIRE(back.ok());
    CHECK(back->policy.min_feedback_accuracy == doctest::Approx(0.8));
    CHECK(back->policy.min_feedback_count == 10);
  }
}

TEST_CASE("models::Rollout::snapshot") {
  SUBCASE("a restored rollout resumes its counters and promotes at min_files in total") {
    Rollout r = started(policy(config::RolloutMode::shadow));
    agreeing_pairs(r, 60);
    r.observe_pair(ok("apple", 0.9, 10.0), failed());
    const std::string text = boost::json::serialize(models::to_json(r.snapshot()));
    INFO(text);
    const auto parsed = models::rollout_snapshot_from_json(text);
    REQUIRE(parsed.ok());
    CHECK(text_of(*parsed) == text_of(r.snapshot()));

    Rollout resumed("fruit", "1", at(100));
    resumed.restore(*parsed);
    CHECK(resumed.state() == RolloutState::shadow);
    CHECK(resumed.counters().files == 61);
    agreeing_pairs(resumed, 38);
    CHECK_FALSE(resumed.decide(at(101)));
    agreeing_pairs(resumed, 1);
    const auto event = resumed.decide(at(102));
    REQUIRE(event);
    CHECK(event->reason == "policy_met");
    CHECK(event->counters.files == 100);
    CHECK(event->counters.candidate_errors == 1);
  }
  SUBCASE("every field survives JSON, fractional values exactly") {
    auto p = policy(config::RolloutMode::canary);
    p.canary_fraction = 0.1 + 0.2;
    p.auto_promote = false;
    Rollout r = started(p);
    r.observe_canary(ok("apple", 0.9, 1.0 / 3.0));
    r.observe_live(failed());
    REQUIRE(r.roll_back("why \"not\" ü", at(9)).ok());
    const auto parsed =
        models::rollout_snapshot_from_json(boost::json::serialize(models::to_json(r.snapshot())));
    REQUIRE(parsed.ok());
    CHECK(text_of(*parsed) == text_of(r.snapshot()));
    CHECK(parsed->counters == r.snapshot().counters);
    CHECK(parsed->counters.candidate_latency_sum_ms == 1.0 / 3.0);
    CHECK(parsed->policy.mode == config::RolloutMode::canary);
    CHECK(parsed->policy.canary_fraction == 0.1 + 0.2);
    CHECK_FALSE(parsed->policy.auto_promote);
    CHECK(parsed->detail == "why \"not\" ü");
    CHECK(parsed->state == RolloutState::rolled_back);
    CHECK(parsed->changed_at == at(9));
  }
  SUBCASE("the JSON carries the ratios for readers") {
    Rollout r = started(policy(config::RolloutMode::shadow));
    r.observe_pair(ok("apple"), ok("pear"));
    r.observe_pair(ok("apple"), ok("apple"));
    const auto json = models::to_json(r.snapshot());
    CHECK(json.at("state").as_string() == "shadow");
    CHECK(json.at("agreement").as_double() == 0.5);
    CHECK(json.at("policy").at("mode").as_string() == "shadow");
    CHECK(json.at("started_at_ms").as_int64() == 1'700'000'001'000);
  }
  SUBCASE("a row stored by an earlier release reads back, each mode by its model.toml word") {
    for (const auto& [word, mode] : {std::pair{"immediate", config::RolloutMode::immediate},
                                     std::pair{"shadow", config::RolloutMode::shadow},
                                     std::pair{"canary", config::RolloutMode::canary}}) {
      const std::string stored = std::string(R"({"model":"fruit","state":"stable",)") +
                                 R"("live_version":"1","candidate_version":"",)" +
                                 R"("previous_version":"","policy":{"mode":")" + word +
                                 R"(","canary_fraction":0.1,"min_files":200,)" +
                                 R"("min_agreement":0.9,"max_error_rate":0.05,)" +
                                 R"("max_latency_ratio":2.0,"auto_promote":true},)" +
                                 R"("counters":{"files":0,"candidate_errors":0,"compared":0,)" +
                                 R"("agreed":0,"score_delta_sum":0.0,"live_files":0,)" +
                                 R"("live_errors":0,"candidate_latency_count":0,)" +
                                 R"("candidate_latency_sum_ms":0.0,"live_latency_count":0,)" +
                                 R"("live_latency_sum_ms":0.0},"started_at_ms":0,)" +
                                 R"("changed_at_ms":0,"reason":"","detail":""})";
      const auto parsed = models::rollout_snapshot_from_json(stored);
      REQUIRE(parsed.ok());
      CHECK(parsed->policy.mode == mode);
      CHECK(models::to_json(*parsed).at("policy").at("mode").as_string() == word);
    }
  }
  SUBCASE("bad snapshots are refused with bad_rollout_snapshot") {
    const auto good = models::to_json(started(policy(config::RolloutMode::shadow)).snapshot());
    CHECK(models::rollout_snapshot_from_json("{").error().code == "bad_rollout_snapshot");
    auto no_state = good;
    no_state.erase("state");
    CHECK(models::rollout_snapshot_from_json(no_state).error().message == "state: missing");
    auto odd_state = good;
    odd_state["state"] = "paused";
    CHECK(models::rollout_snapshot_from_json(odd_state).error().message == "state: unknown");
    auto no_candidate = good;
    no_candidate["candidate_version"] = "";
    CHECK(models::rollout_snapshot_from_json(no_candidate).error().message ==
          "candidate_version: empty mid-rollout");
    auto odd_counts = good;
    odd_counts["counters"].as_object()["agreed"] = 5;
    CHECK(models::rollout_snapshot_from_json(odd_counts).error().message ==
          "counters: inconsistent counts");
  }
}

TEST_SUITE_END();
