#include <inferwatch/config/problem.hpp>

#include <fmt/format.h>

namespace inferwatch::config {

std::string Problem::to_string() const {
  std::string out = file;
  if (line > 0) out += fmt::format(":{}", line);
  if (line > 0 && column > 0) out += fmt::format(":{}", column);
  if (!out.empty()) out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

}  // namespace inferwatch::config
