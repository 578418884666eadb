#include <inferwatch/app/server_access.hpp>

#include <inferwatch/util/file.hpp>
#include <inferwatch/util/host_port.hpp>

#include <fmt/format.h>

#include <cctype>

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

util::Result<void> check_exposure(const config::Server& server) {
  const auto listen = util::parse_host_port(server.listen);
  if (!listen)
    return util::Error{"invalid_address", fmt::format("server.listen: {}", listen.error().message)};
  if (!util::is_loopback(listen->host) && server.token_file.empty()) {
    return util::Error{
        "exposed_without_token",
        fmt::format("server.listen: {} is not a loopback address and no server.token_file is "
                    "set; set a token or listen on 127.0.0.1",
                    server.listen)};
  }
  return {};
}

}  // namespace inferwatch::app
