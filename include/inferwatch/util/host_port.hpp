#pragma once

#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::util {

struct HostPort {
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 0;
};

// Parse "HOST:PORT", "[V6]:PORT"; port 0 asks the OS for a free port.
Result<HostPort> parse_host_port(std::string_view text);

// True only for a literal IP address in 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104. A host name
// is never loopback here, whatever it looks like ("localhost", "127.evil.example"): resolve it
// first (resolve_host) and test every address it stands for.
bool is_loopback_address(std::string_view address);

// The numeric addresses `host` stands for, each once, in the resolver's order: a literal IP
// address is itself; a name goes through the system resolver (getaddrinfo: /etc/hosts, then DNS).
// Error: `unresolvable_host` (the message names the host and the resolver's reason).
Result<std::vector<std::string>> resolve_host(const std::string& host);

}  // namespace inferwatch::util
