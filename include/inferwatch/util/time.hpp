#pragma once

#include <chrono>
#include <string>

namespace inferwatch::util {

// RFC 3339 UTC with milliseconds, e.g. "2026-11-23T10:00:00.123Z".
std::string format_utc(std::chrono::system_clock::time_point t);

// Milliseconds between two steady-clock points, as a double.
inline double ms_between(std::chrono::steady_clock::time_point from,
                         std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace inferwatch::util
