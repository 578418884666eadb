#include <inferwatch/util/host_port.hpp>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <algorithm>
#include <charconv>
#include <memory>

namespace inferwatch::util {

Result<HostPort> parse_host_port(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Error{"invalid_address", fmt::format("\"{}\" is not HOST:PORT: {}", text, why)};
  };
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("write IPv6 addresses in brackets, e.g. [::1]:8080");
  }
  if (host.empty()) return bad("no host");
  if (host.find_first_of(" \t\r\n") != std::string_view::npos)
    return bad("the host contains spaces");
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return bad("the port must be a number from 0 to 65535");
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(port)};
}

bool is_loopback_address(std::string_view address) {
  // inet_pton takes only the strict dotted-quad and RFC 4291 forms: no "127.1", no names, no
  // trailing text, so "127.evil.example" or "127.0.0.1.nip.io" is not an address at all.
  const std::string text(address);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  }
  return false;
}

Result<std::vector<std::string>> resolve_host(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address instead of one per socket type
  // No AI_ADDRCONFIG: every address the name stands for is returned, so every one can be judged.
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    return Error{"unresolvable_host",
                 fmt::format("cannot resolve \"{}\": {}", host, ::gai_strerror(rc))};
  }
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, &::freeaddrinfo);
  std::vector<std::string> out;
  for (const addrinfo* a = found; a; a = a->ai_next) {
    char text[NI_MAXHOST];
    if (::getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) !=
        0)
      continue;
    if (std::find(out.begin(), out.end(), text) == out.end()) out.emplace_back(text);
  }
  if (out.empty())
    return Error{"unresolvable_host", fmt::format("cannot resolve \"{}\": no address", host)};
  return out;
}

}  // namespace inferwatch::util
