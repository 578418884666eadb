#pragma once

// Who may reach the HTTP server (SPEC §6), shared by `serve` (refuses to start) and `check`.

#include <inferwatch/config/config.hpp>
#include <inferwatch/util/result.hpp>

#include <string>

namespace inferwatch::app {

// The bearer token from server.token_file, trailing whitespace removed; "" when none is set.
// Errors (unreadable or empty file) name the file.
util::Result<std::string> read_token(const config::Server& server);

// A non-loopback listen address without a token is refused; the error says what to do.
util::Result<void> check_exposure(const config::Server& server);

}  // namespace inferwatch::app
