// RolloutSnapshot ⇄ JSON: what the daemon persists so a restart resumes a rollout mid-way.

#include <inferwatch/models/rollout.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>

namespace inferwatch::models {
namespace {

namespace json = boost::json;

// Spelled by config::to_string, the same words model.toml takes, so stored rows read back.
constexpr std::array<config::RolloutMode, 3> k_modes{
    config::RolloutMode::immediate, config::RolloutMode::shadow, config::RolloutMode::canary};

constexpr std::array<RolloutState, 5> k_states{RolloutState::stable, RolloutState::shadow,
                                               RolloutState::canary, RolloutState::promoted,
                                               RolloutState::rolled_back};

std::int64_t unix_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint from_unix_ms(std::int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

json::value optional_number(std::optional<double> v) {
  return v ? json::value(*v) : json::value(nullptr);
}

// Reads fields of one object, remembering the first thing wrong.
class Fields {
 public:
  explicit Fields(const json::object& o) : m_o(o) {}

  template <typename T>
  void get(std::string_view key, T& out) {
    const json::value* v = m_o.if_contains(key);
    if (!v) return fail(key, "missing");
    if constexpr (std::is_same_v<T, std::string>) {
      if (!v->is_string()) return fail(key, "not a string");
      out = std::string(v->get_string());
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!v->is_bool()) return fail(key, "not a boolean");
      out = v->get_bool();
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      if (!v->is_int64()) return fail(key, "not an integer");
      out = v->get_int64();
      if (out < 0) return fail(key, "negative");
    } else {
      static_assert(std::is_same_v<T, double>);
      if (!v->is_number()) return fail(key, "not a number");
      out = v->to_number<double>();
    }
  }

  const json::object* object(std::string_view key) {
    const json::value* v = m_o.if_contains(key);
    if (!v || !v->is_object()) {
      fail(key, v ? "not an object" : "missing");
      return nullptr;
    }
    return &v->get_object();
  }

  void fail(std::string_view key, std::string_view what) {
    if (m_error.empty()) m_error = std::string(key) + ": " + std::string(what);
  }
  const std::string& error() const { return m_error; }

 private:
  const json::object& m_o;
  std::string m_error;
};

void read_policy(Fields& f, const json::object* o, config::RolloutPolicy& p) {
  if (!o) return;
  Fields g(*o);
  std::string mode;
  g.get("mode", mode);
  bool known = false;
  for (const config::RolloutMode value : k_modes) {
    if (config::to_string(value) == mode) {
      p.mode = value;
      known = true;
    }
  }
  if (!known) g.fail("mode", "unknown");
  g.get("canary_fraction", p.canary_fraction);
  g.get("min_files", p.min_files);
  g.get("min_agreement", p.min_agreement);
  g.get("max_error_rate", p.max_error_rate);
  g.get("max_latency_ratio", p.max_latency_ratio);
  g.get("auto_promote", p.auto_promote);
  // Added with feedback (issue #15): a snapshot written before has neither and keeps the defaults.
  if (o->contains("min_feedback_accuracy")) g.get("min_feedback_accuracy", p.min_feedback_accuracy);
  if (o->contains("min_feedback_count")) g.get("min_feedback_count", p.min_feedback_count);
  if (!g.error().empty()) f.fail("policy", g.error());
}

void read_counters(Fields& f, const json::object* o, RolloutCounters& c) {
  if (!o) return;
  Fields g(*o);
  g.get("files", c.files);
  g.get("candidate_errors", c.candidate_errors);
  g.get("compared", c.compared);
  g.get("agreed", c.agreed);
  g.get("score_delta_sum", c.score_delta_sum);
  g.get("live_files", c.live_files);
  g.get("live_errors", c.live_errors);
  g.get("candidate_latency_count", c.candidate_latency_count);
  g.get("candidate_latency_sum_ms", c.candidate_latency_sum_ms);
  g.get("live_latency_count", c.live_latency_count);
  g.get("live_latency_sum_ms", c.live_latency_sum_ms);
  if (!g.error().empty()) return f.fail("counters", g.error());
  if (c.candidate_errors > c.files || c.agreed > c.compared || c.compared > c.files ||
      c.live_errors > c.live_files)
    f.fail("counters", "inconsistent counts");
}

}  // namespace

json::object to_json(const RolloutSnapshot& s) {
  const config::RolloutPolicy& p = s.policy;
  const RolloutCounters& c = s.counters;
  return json::object{
      {"model", s.model},
      {"state", to_string(s.state)},
      {"live_version", s.live_version},
      {"candidate_version", s.candidate_version},
      {"previous_version", s.previous_version},
      {"policy",
       {{"mode", config::to_string(p.mode)},
        {"canary_fraction", p.canary_fraction},
        {"min_files", p.min_files},
        {"min_agreement", p.min_agreement},
        {"max_error_rate", p.max_error_rate},
        {"max_latency_ratio", p.max_latency_ratio},
        {"auto_promote", p.auto_promote},
        {"min_feedback_accuracy", p.min_feedback_accuracy},
        {"min_feedback_count", p.min_feedback_count}}},
      {"counters",
       {{"files", c.files},
        {"candidate_errors", c.candidate_errors},
        {"compared", c.compared},
        {"agreed", c.agreed},
        {"score_delta_sum", c.score_delta_sum},
        {"live_files", c.live_files},
        {"live_errors", c.live_errors},
        {"candidate_latency_count", c.candidate_latency_count},
        {"candidate_latency_sum_ms", c.candidate_latency_sum_ms},
        {"live_latency_count", c.live_latency_count},
        {"live_latency_sum_ms", c.live_latency_sum_ms}}},
      {"agreement", optional_number(c.agreement())},
      {"mean_score_delta", optional_number(c.mean_score_delta())},
      {"error_rate", optional_number(c.error_rate())},
      {"live_error_rate", optional_number(c.live_error_rate())},
      {"latency_ratio", optional_number(c.latency_ratio())},
      {"started_at_ms", unix_ms(s.started_at)},
      {"changed_at_ms", unix_ms(s.changed_at)},
      {"reason", s.reason},
      {"detail", s.detail},
  };
}

util::Result<RolloutSnapshot> rollout_snapshot_from_json(const json::object& object) {
  RolloutSnapshot s;
  Fields f(object);
  f.get("model", s.model);
  std::string state;
  f.get("state", state);
  const auto it = std::find_if(k_states.begin(), k_states.end(),
                               [&](RolloutState st) { return to_string(st) == state; });
  if (it == k_states.end())
    f.fail("state", "unknown");
  else
    s.state = *it;
  f.get("live_version", s.live_version);
  f.get("candidate_version", s.candidate_version);
  f.get("previous_version", s.previous_version);
  read_policy(f, f.object("policy"), s.policy);
  read_counters(f, f.object("counters"), s.counters);
  std::int64_t started = 0, changed = 0;
  f.get("started_at_ms", started);
  f.get("changed_at_ms", changed);
  s.started_at = from_unix_ms(started);
  s.changed_at = from_unix_ms(changed);
  f.get("reason", s.reason);
  f.get("detail", s.detail);
  const bool in_progress = s.state == RolloutState::shadow || s.state == RolloutState::canary;
  if (s.live_version.empty()) f.fail("live_version", "empty");
  if (in_progress && s.candidate_version.empty()) f.fail("candidate_version", "empty mid-rollout");
  if (!f.error().empty()) return util::Error{"bad_rollout_snapshot", f.error()};
  return s;
}

util::Result<RolloutSnapshot> rollout_snapshot_from_json(std::string_view text) {
  boost::system::error_code ec;
  const json::value value = json::parse(text, ec);
  if (ec) return util::Error{"bad_rollout_snapshot", "not JSON: " + ec.message()};
  if (!value.is_object()) return util::Error{"bad_rollout_snapshot", "not a JSON object"};
  return rollout_snapshot_from_json(value.get_object());
}

}  // namespace inferwatch::models
