#pragma once

#include <string_view>

namespace inferwatch::app {

// The project version, e.g. "0.1.0".
std::string_view version();
// The git revision the binary was built from, or "unknown".
std::string_view git_revision();

}  // namespace inferwatch::app
