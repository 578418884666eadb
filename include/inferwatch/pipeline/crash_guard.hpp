#pragma once

// Which backlog jobs may start now, so that a file that takes the daemon down (a decoder crash,
// the out-of-memory killer) cannot do it at every start. Each start is counted durably before
// the work begins and the count is cleared with the job's outcome, so a count left over at
// startup means the daemon died with that job in flight. Such a suspect runs alone: if the daemon
// dies again, the count can only be its own, and at `max_attempts` it gets an error result
// instead of another try. Jobs that were merely in flight beside the culprit pass their solo run.
//
// Thread-safety: none (the pipeline's store thread owns it).

#include <inferwatch/store/job.hpp>

#include <cstdint>

namespace inferwatch::pipeline {

class CrashGuard {
 public:
  enum class Verdict {
    start,        // start it with the others
    start_alone,  // a suspect: start it, and nothing else until it is done
    give_up,      // it stopped the daemon max_attempts times: an error result, no decode
    wait,         // a suspect that must wait until nothing else is in flight
  };

  explicit CrashGuard(int max_attempts) : m_max_attempts(max_attempts) {}

  // For `job`, with `busy` jobs already in flight or chosen in this round.
  Verdict judge(const store::Job& job, std::int64_t busy) const {
    if (job.attempts >= m_max_attempts) return Verdict::give_up;
    if (job.attempts == 0) return Verdict::start;
    return busy == 0 ? Verdict::start_alone : Verdict::wait;
  }

  // A suspect started alone; nothing else may start until finished(its file id).
  void running_alone(std::int64_t file_id) { m_alone = file_id; }
  bool alone() const { return m_alone != 0; }
  void finished(std::int64_t file_id) {
    if (file_id == m_alone) m_alone = 0;
  }

  int max_attempts() const { return m_max_attempts; }

 private:
  int m_max_attempts;
  std::int64_t m_alone = 0;  // file id of the suspect running alone, else 0
};

}  // namespace inferwatch::pipeline
