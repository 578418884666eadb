#include <inferwatch/models/rollout.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace inferwatch::models {
namespace {

constexpr std::uint64_t k_fnv_offset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t k_fnv_prime = 0x100000001b3ULL;

std::uint64_t fnv1a_64(std::string_view bytes) {
  std::uint64_t h = k_fnv_offset;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= k_fnv_prime;
  }
  return h;
}

// FNV-1a alone leaves the top bits of similar names (a_0001.png, a_0002.png) close together;
// the finalizer spreads every input bit over every output bit.
std::uint64_t splitmix64_mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// How many of `n` may fail a rate limit: floor(rate × n), with a hair of slack so that
// 0.05 × 200 is 10 and not 9.
std::int64_t allowed(double rate, std::int64_t n) {
  return static_cast<std::int64_t>(std::floor(rate * static_cast<double>(n) + 1e-9));
}

std::optional<double> ratio(double over, double under) {
  if (under <= 0.0) return std::nullopt;
  return over / under;
}

}  // namespace

std::string_view to_string(RolloutState state) {
  switch (state) {
    case RolloutState::stable:
      return "stable";
    case RolloutState::shadow:
      return "shadow";
    case RolloutState::canary:
      return "canary";
    case RolloutState::promoted:
      return "promoted";
    case RolloutState::rolled_back:
      return "rolled_back";
  }
  return "?";
}

double canary_point(std::string_view path) {
  return static_cast<double>(splitmix64_mix(fnv1a_64(path)) >> 11) * 0x1.0p-53;
}

bool in_canary(std::string_view path, double fraction) { return canary_point(path) < fraction; }

std::optional<double> RolloutCounters::agreement() const {
  return ratio(static_cast<double>(agreed), static_cast<double>(compared));
}
std::optional<double> RolloutCounters::mean_score_delta() const {
  return ratio(score_delta_sum, static_cast<double>(compared));
}
std::optional<double> RolloutCounters::error_rate() const {
  return ratio(static_cast<double>(candidate_errors), static_cast<double>(files));
}
std::optional<double> RolloutCounters::live_error_rate() const {
  return ratio(static_cast<double>(live_errors), static_cast<double>(live_files));
}
std::optional<double> RolloutCounters::latency_ratio() const {
  if (candidate_latency_count == 0 || live_latency_count == 0) return std::nullopt;
  return ratio(candidate_latency_sum_ms / static_cast<double>(candidate_latency_count),
               live_latency_sum_ms / static_cast<double>(live_latency_count));
}

Rollout::Rollout(std::string model, std::string live_version, TimePoint now) {
  m_s.model = std::move(model);
  m_s.live_version = std::move(live_version);
  m_s.started_at = now;
  m_s.changed_at = now;
}

bool Rollout::in_progress() const {
  return m_s.state == RolloutState::shadow || m_s.state == RolloutState::canary;
}

RolloutEvent Rollout::transition(RolloutState to, std::string reason, std::string detail,
                                 TimePoint now) {
  RolloutEvent event{m_s.model,    m_s.state, to, reason, detail, {}, m_s.candidate_version,
                     m_s.counters, now};
  m_s.state = to;
  m_s.changed_at = now;
  m_s.reason = std::move(reason);
  m_s.detail = std::move(detail);
  event.live_version = m_s.live_version;
  return event;
}

util::Result<RolloutEvent> Rollout::start(std::string candidate_version,
                                          const config::RolloutPolicy& policy, TimePoint now) {
  if (in_progress()) {
    return util::Error{"rollout_in_progress",
                       fmt::format("model {}: version {} is already being rolled out ({})",
                                   m_s.model, m_s.candidate_version, to_string(m_s.state))};
  }
  if (candidate_version == m_s.live_version) {
    return util::Error{"already_live", fmt::format("model {}: version {} is already live",
                                                   m_s.model, candidate_version)};
  }
  m_s.candidate_version = std::move(candidate_version);
  m_s.policy = policy;
  m_s.counters = {};
  m_s.started_at = now;
  switch (policy.mode) {
    case config::RolloutMode::immediate: {
      m_s.previous_version = m_s.live_version;
      m_s.live_version = m_s.candidate_version;
      return transition(RolloutState::promoted, "immediate", "rollout mode immediate", now);
    }
    case config::RolloutMode::shadow:
      return transition(RolloutState::shadow, "started",
                        fmt::format("shadow beside version {}", m_s.live_version), now);
    case config::RolloutMode::canary:
      return transition(RolloutState::canary, "started",
                        fmt::format("canary on {:g} % of files", policy.canary_fraction * 100.0),
                        now);
  }
  return util::Error{"bad_rollout_mode", "unknown rollout mode"};
}

Arm Rollout::arm(std::string_view relative_path) const {
  switch (m_s.state) {
    case RolloutState::shadow:
      return Arm::shadow;
    case RolloutState::canary:
      return in_canary(relative_path, m_s.policy.canary_fraction) ? Arm::canary : Arm::live;
    default:
      return Arm::live;
  }
}

namespace {

void count_candidate(RolloutCounters& c, const Outcome& candidate) {
  ++c.files;
  if (!candidate.ok) {
    ++c.candidate_errors;
    return;
  }
  ++c.candidate_latency_count;
  c.candidate_latency_sum_ms += candidate.latency_ms;
}

void count_live(RolloutCounters& c, const Outcome& live) {
  ++c.live_files;
  if (!live.ok) {
    ++c.live_errors;
    return;
  }
  ++c.live_latency_count;
  c.live_latency_sum_ms += live.latency_ms;
}

}  // namespace

bool Rollout::observe_pair(const Outcome& live, const Outcome& candidate) {
  if (m_s.state != RolloutState::shadow) return false;
  RolloutCounters& c = m_s.counters;
  count_candidate(c, candidate);
  count_live(c, live);
  if (live.ok && candidate.ok && !live.label.empty() && !candidate.label.empty()) {
    ++c.compared;
    if (live.label == candidate.label) ++c.agreed;
    c.score_delta_sum += std::abs(candidate.score - live.score);
  }
  return true;
}

bool Rollout::observe_canary(const Outcome& candidate) {
  if (m_s.state != RolloutState::canary) return false;
  count_candidate(m_s.counters, candidate);
  return true;
}

bool Rollout::observe_live(const Outcome& live) {
  if (m_s.state != RolloutState::canary) return false;
  count_live(m_s.counters, live);
  return true;
}

// Before min_files a breach is declared only when it is certain: the error (or disagreement)
// count is already past what the policy allows over min_files, so no run of good files could
// bring the rate back within it. From min_files on, the rates themselves are judged. Latency is
// judged from min_files only (a mean over few files is mostly warm-up noise).
Judgement Rollout::judge() const {
  if (!in_progress()) return {Decision::wait, "no_rollout", "no candidate is being rolled out"};
  const config::RolloutPolicy& p = m_s.policy;
  const RolloutCounters& c = m_s.counters;
  const std::int64_t min_files = std::max<std::int64_t>(p.min_files, 1);
  const bool enough = c.files >= min_files;

  if (c.candidate_errors > allowed(p.max_error_rate, std::max(c.files, min_files))) {
    return {Decision::roll_back, "error_rate",
            fmt::format("{} errors in {} files ({:.4g}) exceed max_error_rate {:g} over {} files",
                        c.candidate_errors, c.files, c.error_rate().value_or(0.0), p.max_error_rate,
                        std::max(c.files, min_files))};
  }
  if (m_s.state == RolloutState::shadow) {
    const std::int64_t disagreed = c.compared - c.agreed;
    const std::int64_t over = enough ? c.compared : min_files;
    if (disagreed > allowed(1.0 - p.min_agreement, over)) {
      return {
          Decision::roll_back, "agreement",
          fmt::format(
              "top-1 agreement {} of {} ({:.4g}) {} below min_agreement {:g}", c.agreed, c.compared,
              c.agreement().value_or(0.0),
              enough ? "is" : fmt::format("can no longer reach {} files without going", min_files),
              p.min_agreement)};
    }
  }
  if (!enough) {
    return {Decision::wait, "collecting", fmt::format("{} of {} files", c.files, min_files)};
  }
  if (const auto latency = c.latency_ratio(); latency && *latency > p.max_latency_ratio) {
    return {Decision::roll_back, "latency",
            fmt::format("mean latency {:.4g} times the live version's exceeds "
                        "max_latency_ratio {:g}",
                        *latency, p.max_latency_ratio)};
  }
  if (m_s.state == RolloutState::shadow && c.compared == 0) {
    return {Decision::wait, "no_agreement",
            "no file gave both versions a top-1 label to compare; promote by hand"};
  }
  std::string met = fmt::format("{} files, error rate {:.4g}", c.files, c.error_rate().value_or(0));
  if (const auto a = c.agreement(); a && m_s.state == RolloutState::shadow)
    met += fmt::format(", agreement {:.4g}", *a);
  if (const auto l = c.latency_ratio()) met += fmt::format(", latency ratio {:.4g}", *l);
  if (!p.auto_promote) return {Decision::wait, "awaiting_promotion", met};
  return {Decision::promote, "policy_met", met};
}

std::optional<RolloutEvent> Rollout::decide(TimePoint now) {
  Judgement j = judge();
  switch (j.decision) {
    case Decision::wait:
      return std::nullopt;
    case Decision::promote:
      m_s.previous_version = m_s.live_version;
      m_s.live_version = m_s.candidate_version;
      return transition(RolloutState::promoted, std::move(j.reason), std::move(j.detail), now);
    case Decision::roll_back:
      return transition(RolloutState::rolled_back, std::move(j.reason), std::move(j.detail), now);
  }
  return std::nullopt;
}

std::optional<RolloutEvent> Rollout::judge_feedback(std::string_view version, std::int64_t count,
                                                    std::int64_t confirmed, TimePoint now) {
  const config::RolloutPolicy& p = m_s.policy;
  if (m_s.state != RolloutState::canary || version != m_s.candidate_version ||
      p.min_feedback_accuracy <= 0.0 || count < std::max<std::int64_t>(p.min_feedback_count, 1))
    return std::nullopt;
  const double accuracy = static_cast<double>(confirmed) / static_cast<double>(count);
  if (accuracy >= p.min_feedback_accuracy) return std::nullopt;
  return transition(RolloutState::rolled_back, "feedback_accuracy",
                    fmt::format("feedback confirms {} of {} results ({:.4g}), below "
                                "min_feedback_accuracy {:g}",
                                confirmed, count, accuracy, p.min_feedback_accuracy),
                    now);
}

util::Result<RolloutEvent> Rollout::promote(TimePoint now) {
  if (!in_progress()) {
    return util::Error{
        "no_candidate",
        fmt::format("model {}: no candidate version is being rolled out", m_s.model)};
  }
  m_s.previous_version = m_s.live_version;
  m_s.live_version = m_s.candidate_version;
  return transition(RolloutState::promoted, "manual", "promoted by hand", now);
}

util::Result<RolloutEvent> Rollout::roll_back(std::string reason, TimePoint now,
                                              std::optional<std::string> to_version) {
  std::string detail = reason.empty() ? "rolled back by hand" : std::move(reason);
  if (to_version && *to_version == m_s.live_version) {
    if (!in_progress()) {
      return util::Error{"already_live", fmt::format("model {}: version {} is already live",
                                                     m_s.model, *to_version)};
    }
    to_version.reset();  // retiring the candidate keeps the live version live
  }
  if (to_version) {
    // The version leaving (the candidate, or else the live one) is the one retired.
    if (!in_progress()) m_s.candidate_version = m_s.live_version;
    m_s.previous_version = m_s.live_version;
    m_s.live_version = std::move(*to_version);
    return transition(RolloutState::rolled_back, "manual", std::move(detail), now);
  }
  if (in_progress()) return transition(RolloutState::rolled_back, "manual", std::move(detail), now);
  if (m_s.state == RolloutState::promoted && !m_s.previous_version.empty()) {
    // The promoted version is retired; the one before it is live again.
    m_s.candidate_version = m_s.live_version;
    m_s.live_version = std::exchange(m_s.previous_version, std::string{});
    return transition(RolloutState::rolled_back, "manual", std::move(detail), now);
  }
  return util::Error{"nothing_to_roll_back",
                     fmt::format("model {}: no candidate and no promotion to undo", m_s.model)};
}

}  // namespace inferwatch::models
