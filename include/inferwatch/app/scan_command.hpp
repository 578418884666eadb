#pragma once

#include <inferwatch/config/config.hpp>

#include <filesystem>

namespace inferwatch::app {

// `inferwatch scan DIR`: process every image under DIR that lacks a current result (sidecars and
// database as in serve), with a progress line on a terminal and a summary at the end.
// Exit 0 when every file processed succeeded, 1 when some got error results, 2 on startup errors.
int scan_command(const config::Config& config, const std::filesystem::path& dir);

}  // namespace inferwatch::app
