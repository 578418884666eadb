// The config loader on arbitrary TOML text: never throws or crashes, and a config it accepts
// survives printing and reloading unchanged (what `inferwatch check --print` shows is loadable).
#include <inferwatch/config/loader.hpp>
#include <inferwatch/config/printer.hpp>

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace inferwatch::config;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Loaded loaded = load_string(text, "/etc/inferwatch/fuzz.toml");
  for (const auto& problem : loaded.problems) FUZZ_CHECK(!problem.message.empty());
  if (!loaded.problems.empty()) return 0;
  const std::string printed = to_toml(loaded.config);
  const Loaded again = load_string(printed, "/etc/inferwatch/fuzz.toml");
  FUZZ_CHECK(again.problems.empty());
  FUZZ_CHECK(to_toml(again.config) == printed);
  return 0;
}
