#pragma once

// One model's rollout of a candidate version beside its live one (SPEC §10; docs/models.md,
// "Rollouts"). Pure bookkeeping: it says which version(s) a file goes to, counts what the
// versions made of the files, judges the counts against the version's [rollout] policy and moves
// between states. It runs no model and reads no clock: every method that records a time takes
// `now`. Not thread-safe: its owner serializes calls.
//
//   stable ──start──▶ shadow | canary ──decide/promote──▶ promoted (the candidate is live)
//      │                     └──────decide/roll_back──▶ rolled_back (the candidate retired)
//      └──start (immediate)──────────────────────────▶ promoted
// promoted and rolled_back serve like stable; the next start begins a new rollout.

#include <inferwatch/config/model_manifest.hpp>
#include <inferwatch/util/result.hpp>

#include <boost/json/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace inferwatch::models {

using TimePoint = std::chrono::system_clock::time_point;

enum class RolloutState { stable, shadow, canary, promoted, rolled_back };

// "stable", "shadow", "canary", "promoted", "rolled_back".
std::string_view to_string(RolloutState state);

// Where a file's work goes during a rollout.
enum class Arm {
  live,    // the live version only; its result is current
  shadow,  // the live version's result is current; the candidate runs beside it, compared only
  canary,  // the candidate only; its result is current
};

// A point in [0, 1) fixed by the raw bytes of `path` (its path relative to its watch root):
// FNV-1a 64 of the bytes, mixed by the splitmix64 finalizer, top 53 bits / 2^53. The same on
// every machine and every run.
double canary_point(std::string_view path);

// Whether `path` is in the canary share `fraction` (0: none, 1: all): canary_point < fraction.
bool in_canary(std::string_view path, double fraction);

// What one version made of one file, as far as a rollout compares versions.
struct Outcome {
  bool ok = true;
  // The top-1 label and score; an empty label (raw output) is never compared.
  std::string label{};
  double score = 0.0;
  // This file's share of the forward, in ms; counted for ok outcomes only.
  double latency_ms = 0.0;
};

// The running counts of one rollout. Sums, not averages, so a restored rollout resumes exactly.
struct RolloutCounters {
  // Candidate outcomes judged: shadow pairs, or canary files.
  std::int64_t files = 0;
  std::int64_t candidate_errors = 0;
  // Shadow pairs in which both versions gave a top-1 label, and those whose labels were equal.
  std::int64_t compared = 0;
  std::int64_t agreed = 0;
  // Σ |candidate score − live score| of the top-1 over the compared pairs.
  double score_delta_sum = 0.0;
  // Live outcomes seen beside the candidate (shadow pairs, or files outside the canary).
  std::int64_t live_files = 0;
  std::int64_t live_errors = 0;
  std::int64_t candidate_latency_count = 0;
  double candidate_latency_sum_ms = 0.0;
  std::int64_t live_latency_count = 0;
  double live_latency_sum_ms = 0.0;

  // Each is empty while there is nothing to divide by.
  std::optional<double> agreement() const;
  std::optional<double> mean_score_delta() const;
  std::optional<double> error_rate() const;
  std::optional<double> live_error_rate() const;
  // Mean candidate latency over mean live latency.
  std::optional<double> latency_ratio() const;

  bool operator==(const RolloutCounters&) const = default;
};

enum class Decision { wait, promote, roll_back };

// What the counts say under the policy.
struct Judgement {
  Decision decision = Decision::wait;
  // A stable code: collecting, no_agreement, awaiting_promotion (all met, auto_promote off),
  // policy_met, error_rate, agreement, latency; no_rollout outside shadow and canary.
  std::string reason{};
  // For people: the numbers behind the reason.
  std::string detail{};
};

// One state change, for the log, the metrics and the history.
struct RolloutEvent {
  std::string model{};
  RolloutState from = RolloutState::stable;
  RolloutState to = RolloutState::stable;
  // started, immediate, policy_met, manual, or a breach: error_rate, agreement, latency,
  // feedback_accuracy.
  std::string reason{};
  std::string detail{};
  std::string live_version{};       // after the change
  std::string candidate_version{};  // the version rolled out (or retired)
  RolloutCounters counters{};
  TimePoint at{};
};

// Everything a rollout is, as plain values: persisted (as JSON) so a restart resumes it.
struct RolloutSnapshot {
  std::string model{};
  RolloutState state = RolloutState::stable;
  std::string live_version{};
  // The version being (or last) rolled out; empty while stable.
  std::string candidate_version{};
  // The live version before the last promotion, for a rollback after it; empty when none.
  std::string previous_version{};
  config::RolloutPolicy policy{};
  RolloutCounters counters{};
  TimePoint started_at{};  // when the current (or last) rollout began
  TimePoint changed_at{};  // the last transition
  std::string reason{};    // of the last transition
  std::string detail{};
};

// The snapshot as a JSON object (times as Unix milliseconds), with the derived ratios added for
// readers; from_json ignores those.
boost::json::object to_json(const RolloutSnapshot& snapshot);
// Error code `bad_rollout_snapshot` for anything missing, mistyped or inconsistent.
util::Result<RolloutSnapshot> rollout_snapshot_from_json(const boost::json::object& json);
util::Result<RolloutSnapshot> rollout_snapshot_from_json(std::string_view text);

class Rollout {
 public:
  // A model serving `live_version` alone.
  Rollout(std::string model, std::string live_version, TimePoint now);

  // Begin rolling `candidate_version` out under `policy`: into shadow or canary, or straight to
  // promoted for `immediate`. Error `rollout_in_progress` while another candidate is out,
  // `already_live` for the live version itself.
  util::Result<RolloutEvent> start(std::string candidate_version,
                                   const config::RolloutPolicy& policy, TimePoint now);

  // Which version(s) the file at `relative_path` goes to now.
  Arm arm(std::string_view relative_path) const;

  // Record one file's outcomes; false (and nothing counted) outside the matching state, e.g. a
  // file that was in flight across a promotion.
  // Shadow: both versions on the same file.
  bool observe_pair(const Outcome& live, const Outcome& candidate);
  // Canary: the candidate on a file in the canary; the live version on a file outside it.
  bool observe_canary(const Outcome& candidate);
  bool observe_live(const Outcome& live);

  // What the counts say now; changes nothing.
  Judgement judge() const;

  // Apply judge(): promote or roll back when it says so.
  std::optional<RolloutEvent> decide(TimePoint now);

  // Feedback on `version`'s results: `count` of them have feedback, `confirmed` of those confirm
  // the prediction (store::compute_quality). While `version` is the canary candidate and the
  // policy sets min_feedback_accuracy, an accuracy below it over at least min_feedback_count
  // results rolls the candidate back with reason `feedback_accuracy`. Shadow results are never
  // current, so they get no feedback.
  std::optional<RolloutEvent> judge_feedback(std::string_view version, std::int64_t count,
                                             std::int64_t confirmed, TimePoint now);

  // By hand: make the candidate live (shadow or canary; else error `no_candidate`).
  util::Result<RolloutEvent> promote(TimePoint now);

  // By hand: retire the candidate (shadow or canary), or after a promotion return to the
  // version live before it; with `to_version`, make that (retained) version live instead.
  // Error `nothing_to_roll_back` when neither applies.
  util::Result<RolloutEvent> roll_back(std::string reason, TimePoint now,
                                       std::optional<std::string> to_version = std::nullopt);

  RolloutSnapshot snapshot() const { return m_s; }
  // Continue from `snapshot` (as taken by snapshot(), possibly in an earlier process).
  void restore(RolloutSnapshot snapshot) { m_s = std::move(snapshot); }

  RolloutState state() const { return m_s.state; }
  const std::string& live_version() const { return m_s.live_version; }
  const std::string& candidate_version() const { return m_s.candidate_version; }
  const RolloutCounters& counters() const { return m_s.counters; }
  const config::RolloutPolicy& policy() const { return m_s.policy; }

 private:
  bool in_progress() const;
  RolloutEvent transition(RolloutState to, std::string reason, std::string detail, TimePoint now);

  RolloutSnapshot m_s;
};

}  // namespace inferwatch::models
