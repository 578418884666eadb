#pragma once

#include <inferwatch/config/config.hpp>

#include <string>

namespace inferwatch::config {

// The effective configuration as a TOML document that loads back to the same Config.
std::string to_toml(const Config& config);

// Canonical spellings of the enum values, as written in TOML.
std::string_view to_string(ResizeMode value);
std::string_view to_string(Colour value);
std::string_view to_string(PostprocessMode value);
std::string_view to_string(Softmax value);
std::string_view to_string(Precision value);
std::string_view to_string(LogFormat value);

}  // namespace inferwatch::config
