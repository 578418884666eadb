#pragma once

// Who may reach the HTTP server (SPEC §6), shared by `serve` (refuses to start) and `check`.

#include <inferwatch/config/config.hpp>
#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <string>

namespace inferwatch::app {

// The bearer token from server.token_file, trailing whitespace removed; "" when none is set.
// Errors (unreadable or empty file) name the file.
util::Result<std::string> read_token(const config::Server& server);

// The address the server binds: server.listen resolved once, so what was checked is what is bound
// (a name is never resolved a second time, e.g. by a DNS answer that changed in between).
struct ListenAddress {
  std::string address;  // a literal IP address
  std::uint16_t port = 0;
};

// Resolve server.listen once. Without a token, every address it stands for must be a loopback
// address: a name that resolves to anything else, or does not resolve, is refused with
// `exposed_without_token` (the error says what to do). Other errors: `invalid_address`,
// `unresolvable_host` (with a token).
util::Result<ListenAddress> check_exposure(const config::Server& server);

}  // namespace inferwatch::app
