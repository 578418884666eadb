#pragma once

#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace inferwatch::util {

struct HostPort {
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 0;
};

// Parse "HOST:PORT", "[V6]:PORT"; port 0 asks the OS for a free port.
Result<HostPort> parse_host_port(std::string_view text);

// True for "localhost", "::1" and 127.0.0.0/8.
bool is_loopback(std::string_view host);

}  // namespace inferwatch::util
