#pragma once

// Structured fields (a file's path, a result id, ...) attached to every log line the current
// thread emits while a ScopedLogFields is alive. Log sinks that can carry fields (journald, JSON)
// read them; the text sink ignores them because the message already says the same in words.

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace inferwatch::util {

struct LogField {
  std::string_view key;  // lower_snake_case, a string literal
  std::string value;
};

class ScopedLogFields {
 public:
  // Push `fields` for this thread until destruction (scopes nest).
  ScopedLogFields(std::initializer_list<LogField> fields);
  ~ScopedLogFields();
  ScopedLogFields(const ScopedLogFields&) = delete;
  ScopedLogFields& operator=(const ScopedLogFields&) = delete;

 private:
  std::size_t m_count;
};

// The fields in force on this thread, outermost scope first.
std::span<const LogField> current_log_fields();

}  // namespace inferwatch::util
