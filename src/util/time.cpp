#include <inferwatch/util/time.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstdint>

namespace inferwatch::util {

std::string format_utc(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
  const auto secs = std::chrono::floor<std::chrono::seconds>(ms);
  const auto frac = (ms - secs).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(secs)),
                     static_cast<int>(frac));
}

namespace {

// The digits of text[pos, pos + n) as a number; nullopt when any is not a digit.
std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t n) {
  if (pos + n > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  using namespace std::chrono;
  const auto year = digits(text, 0, 4);
  const auto month = digits(text, 5, 2);
  const auto day = digits(text, 8, 2);
  if (!year || !month || !day || text[4] != '-' || text[7] != '-') return std::nullopt;
  const year_month_day date{std::chrono::year(*year),
                            std::chrono::month(static_cast<unsigned>(*month)),
                            std::chrono::day(static_cast<unsigned>(*day))};
  // system_clock counts nanoseconds in 64 bits: it ends in April 2262.
  if (!date.ok() || *year > 2261) return std::nullopt;
  system_clock::time_point t = sys_days(date);
  if (text.size() == 10) return t;  // a date alone: its midnight, UTC

  const char sep = text.size() > 10 ? text[10] : '\0';
  const auto hour = digits(text, 11, 2);
  const auto minute = digits(text, 14, 2);
  const auto second = digits(text, 17, 2);
  if ((sep != 'T' && sep != 't' && sep != ' ') || !hour || !minute || !second || text[13] != ':' ||
      text[16] != ':' || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  t += hours(*hour) + minutes(*minute) + seconds(*second);
  std::size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    std::int64_t nanos = 0;
    int scale = 100'000'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      nanos += (text[pos] - '0') * static_cast<std::int64_t>(scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
    t += duration_cast<system_clock::duration>(nanoseconds(nanos));
  }
  if (pos == text.size()) return std::nullopt;  // RFC 3339 requires the offset
  if (text[pos] == 'Z' || text[pos] == 'z')
    return pos + 1 == text.size() ? std::optional(t) : std::nullopt;
  if (text[pos] != '+' && text[pos] != '-') return std::nullopt;
  const auto off_h = digits(text, pos + 1, 2);
  const auto off_m = digits(text, pos + 4, 2);
  if (!off_h || !off_m || text[pos + 3] != ':' || pos + 6 != text.size() || *off_h > 23 ||
      *off_m > 59) {
    return std::nullopt;
  }
  const auto offset = hours(*off_h) + minutes(*off_m);
  return text[pos] == '+' ? t - offset : t + offset;
}

}  // namespace inferwatch::util
