#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace inferwatch::util {

// RFC 3339 UTC with milliseconds, e.g. "2026-11-23T10:00:00.123Z".
std::string format_utc(std::chrono::system_clock::time_point t);

// An RFC 3339 timestamp ("2026-11-23T10:00:00Z", "...T11:00:00.5+01:00"; "t" or a space for
// "T"), or a date alone ("2026-11-23", its midnight UTC); nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

// Milliseconds between two steady-clock points, as a double.
inline double ms_between(std::chrono::steady_clock::time_point from,
                         std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace inferwatch::util
