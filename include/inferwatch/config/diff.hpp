#pragma once

#include <inferwatch/config/config.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::config {

// The keys ("section.key") whose effective values differ between `before` and `after`, in
// section and key order. Used by SIGHUP to say what changed and what needs a restart.
std::vector<std::string> changed_keys(const Config& before, const Config& after);

// Whether a SIGHUP applies a change of `key` (as changed_keys names it) to the running daemon;
// every other key keeps its running value until a restart.
bool applies_at_reload(std::string_view key);

}  // namespace inferwatch::config
