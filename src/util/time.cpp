#include <inferwatch/util/time.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace inferwatch::util {

std::string format_utc(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
  const auto secs = std::chrono::floor<std::chrono::seconds>(ms);
  const auto frac = (ms - secs).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(secs)),
                     static_cast<int>(frac));
}

}  // namespace inferwatch::util
