#include <inferwatch/app/server_access.hpp>

#include <inferwatch/util/file.hpp>
#include <inferwatch/util/host_port.hpp>

#include <fmt/format.h>

#include <cctype>
#include <string>
#include <vector>

namespace inferwatch::app {

util::Result<std::string> read_token(const config::Server& server) {
  if (server.token_file.empty()) return std::string();
  auto text = util::read_file(server.token_file, 4096);
  if (!text)
    return util::Error{"token_unusable",
                       fmt::format("server.token_file: {}", text.error().message)};
  std::string token = std::move(*text);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) {
    return util::Error{"token_unusable",
                       fmt::format("server.token_file: {} is empty", server.token_file.string())};
  }
  return token;
}

util::Result<ListenAddress> check_exposure(const config::Server& server) {
  const auto listen = util::parse_host_port(server.listen);
  if (!listen)
    return util::Error{"invalid_address", fmt::format("server.listen: {}", listen.error().message)};
  const auto addresses = util::resolve_host(listen->host);
  const bool token = !server.token_file.empty();
  if (!addresses && token) {
    return util::Error{addresses.error().code,
                       fmt::format("server.listen: {}", addresses.error().message)};
  }
  if (!token) {
    // The name itself proves nothing ("127.evil.example" is a name): judge what it stands for.
    std::string why = addresses ? std::string() : addresses.error().message;
    for (const auto& address : addresses ? *addresses : std::vector<std::string>{}) {
      if (!util::is_loopback_address(address)) {
        why = fmt::format("it stands for {}", address);
        break;
      }
    }
    if (!why.empty()) {
      return util::Error{"exposed_without_token",
                         fmt::format("server.listen: {} is not a loopback address and no "
                                     "server.token_file is set ({}); set a token or listen on "
                                     "127.0.0.1",
                                     server.listen, why)};
    }
  }
  return ListenAddress{addresses->front(), listen->port};
}

}  // namespace inferwatch::app
