#pragma once

#include <inferwatch/config/config.hpp>

#include <string>
#include <vector>

namespace inferwatch::config {

// The keys ("section.key") whose effective values differ between `before` and `after`, in
// section and key order. Used by SIGHUP to say what changed and what needs a restart.
std::vector<std::string> changed_keys(const Config& before, const Config& after);

}  // namespace inferwatch::config
