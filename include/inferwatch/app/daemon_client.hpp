#pragma once

// A minimal HTTP/1.1 client for the local daemon's REST API (the CLI's `models` command): one
// request per connection, bounded by a timeout.

#include <inferwatch/config/config.hpp>
#include <inferwatch/util/result.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace inferwatch::app {

struct DaemonAddress {
  std::string host;  // an address or a name to resolve
  std::uint16_t port = 0;
  std::string token;  // empty: no Authorization header
};

// Where the daemon of `server` listens, as a client reaches it: a wildcard bind address
// (0.0.0.0, ::) becomes loopback. `listen` overrides server.listen. Errors: `invalid_address`
// (also for port 0, which only the daemon knows), `token_unusable`.
util::Result<DaemonAddress> daemon_address(const config::Server& server,
                                           const std::optional<std::string>& listen);

struct HttpReply {
  unsigned status = 0;
  std::string body;
};

// Send one request and read the whole reply. Error `unreachable` (resolve, connect, write or
// read failed, or `timeout` passed), with the address in the message.
util::Result<HttpReply> http_request(const DaemonAddress& to, const std::string& method,
                                     const std::string& target, std::string body = {},
                                     const std::string& content_type = "application/json",
                                     std::chrono::seconds timeout = std::chrono::seconds(600));

}  // namespace inferwatch::app
