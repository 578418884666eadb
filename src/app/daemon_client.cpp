#include <inferwatch/app/daemon_client.hpp>

#include <inferwatch/app/server_access.hpp>
#include <inferwatch/util/host_port.hpp>

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace inferwatch::app {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// The largest reply read: GET /v1/models of a big repository stays far below.
constexpr std::uint64_t k_max_reply_bytes = 64ULL * 1024 * 1024;

}  // namespace

util::Result<DaemonAddress> daemon_address(const config::Server& server,
                                           const std::optional<std::string>& listen) {
  const std::string text = listen.value_or(server.listen);
  const auto parsed = util::parse_host_port(text);
  if (!parsed) {
    return util::Error{"invalid_address", fmt::format("server.listen: {}", parsed.error().message)};
  }
  if (parsed->port == 0) {
    return util::Error{"invalid_address",
                       fmt::format("server.listen is {}: port 0 is chosen by the daemon at start; "
                                   "give the port it logged with --listen HOST:PORT",
                                   text)};
  }
  auto token = read_token(server);
  if (!token) return token.error();
  DaemonAddress out{parsed->host, parsed->port, std::move(*token)};
  if (out.host == "0.0.0.0" || out.host.empty()) out.host = "127.0.0.1";
  if (out.host == "::") out.host = "::1";
  return out;
}

util::Result<HttpReply> http_request(const DaemonAddress& to, const std::string& method,
                                     const std::string& target, std::string body,
                                     const std::string& content_type,
                                     std::chrono::seconds timeout) {
  net::io_context io;
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, to.host);
  request.set(http::field::user_agent, "inferwatch-cli");
  if (!to.token.empty()) request.set(http::field::authorization, "Bearer " + to.token);
  if (!body.empty()) request.set(http::field::content_type, content_type);
  request.body() = std::move(body);
  request.prepare_payload();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(k_max_reply_bytes);
  beast::error_code failure;
  std::string step = "resolve";

  // One chain of asynchronous steps, so the stream's deadline bounds each of them.
  auto fail = [&](beast::error_code ec, std::string_view what) {
    failure = ec;
    step = what;
  };
  resolver.async_resolve(
      to.host, std::to_string(to.port), [&](beast::error_code ec, tcp::resolver::results_type r) {
        if (ec) return fail(ec, "resolve");
        stream.expires_after(timeout);
        stream.async_connect(r, [&](beast::error_code ec2, const tcp::endpoint&) {
          if (ec2) return fail(ec2, "connect");
          http::async_write(stream, request, [&](beast::error_code ec3, std::size_t) {
            // A refusal (401, 413) may come, and the connection close, before the whole body
            // is sent: read what the daemon said before calling the write a failure.
            http::async_read(stream, buffer, parser, [&, ec3](beast::error_code ec4, std::size_t) {
              if (ec4) return fail(ec3 ? ec3 : ec4, ec3 ? "send the request" : "read the reply");
              beast::error_code ignored;
              stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
            });
          });
        });
      });
  io.run();
  if (failure) {
    return util::Error{"unreachable",
                       fmt::format("cannot {} at {}:{} (is `inferwatch serve` running there?): {}",
                                   step, to.host, to.port, failure.message())};
  }
  return HttpReply{parser.get().result_int(), std::move(parser.get().body())};
}

}  // namespace inferwatch::app
