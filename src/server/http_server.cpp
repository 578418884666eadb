// The only translation unit that includes Boost.Beast (HTTP); WebSocket comes beside it.
#include <inferwatch/server/http_server.hpp>
#include <inferwatch/util/thread_name.hpp>

#include "stream_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>

#include <atomic>
#include <charconv>
#include <thread>
#include <vector>

namespace inferwatch::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Shared {
  HttpServerOptions options;
  const Router& router;
  StreamShared& stream;
  std::atomic<int> connections{0};
};

// Request target → path and query (percent-decoded); false when the target is not a valid URL.
bool parse_target(std::string_view target, Request& out) {
  const auto url = boost::urls::parse_origin_form(target);
  if (!url) return false;
  out.path = std::string(url->path());
  for (const auto& param : url->params())
    out.query[std::string(param.key)] = std::string(param.value);
  return true;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Shared& shared) : m_stream(std::move(socket)), m_shared(shared) {
    ++m_shared.connections;
  }
  ~Session() { --m_shared.connections; }

  void run() {
    net::dispatch(m_stream.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

 private:
  void do_read() {
    m_parser.emplace();
    m_parser->body_limit(m_shared.options.max_body_bytes);
    m_parser->header_limit(m_shared.options.max_header_bytes);
    m_stream.expires_after(m_shared.options.idle_timeout);  // also bounds a slowly sent request
    http::async_read(
        m_stream, m_buffer, *m_parser,
        [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::eof)
      return close();
    if (ec == http::error::body_limit) {
      return send(error_response(413, "body_too_large",
                                 fmt::format("the body is over the limit of {} bytes",
                                             m_shared.options.max_body_bytes)),
                  false);
    }
    if (ec == http::error::header_limit) {
      return send(error_response(431, "headers_too_large", "the request headers are too large"),
                  false);
    }
    if (ec)
      return send(error_response(400, "bad_request",
                                 fmt::format("malformed HTTP request: {}", ec.message())),
                  false);

    auto& message = m_parser->get();
    Request request;
    request.method = std::string(message.method_string());
    if (!parse_target(message.target(), request)) {
      return send(error_response(400, "bad_request", "the request target is not a valid URL"),
                  false);
    }
    const auto auth = message[http::field::authorization];
    if (auth.starts_with("Bearer "))
      request.bearer_token = std::string(auth.substr(7));
    else if (const auto it = request.query.find("access_token"); it != request.query.end())
      request.bearer_token = it->second;
    if (beast::websocket::is_upgrade(message)) return upgrade(request);
    request.body = std::move(message.body());
    const bool keep_alive = message.keep_alive();
    // The reply may come from another thread (POST /v1/infer): hop back onto this strand.
    m_shared.router.handle(
        std::move(request), [self = shared_from_this(), keep_alive](Response response) {
          net::post(self->m_stream.get_executor(),
                    [self, keep_alive, response = std::move(response)]() mutable {
                      self->send(std::move(response), keep_alive);
                    });
        });
  }

  // GET /v1/stream: checked here (token, client cap, parameters), refused before the upgrade.
  void upgrade(const Request& request) {
    StreamShared& stream = m_shared.stream;
    if (request.path != "/v1/stream" || !stream.options.broadcaster) {
      return send(error_response(404, "not_found", "WebSocket is only served at /v1/stream"),
                  false);
    }
    if (!m_shared.router.authorized(request.bearer_token)) {
      return send(error_response(401, "unauthorized", "a valid bearer token is required"), false);
    }
    if (stream.clients.load() >= stream.options.max_clients) {
      return send(error_response(503, "too_many_streams",
                                 fmt::format("the limit of {} result streams is reached",
                                             stream.options.max_clients)),
                  false);
    }
    std::int64_t after = 0;
    if (const auto it = request.query.find("after"); it != request.query.end()) {
      const auto [end, ec] =
          std::from_chars(it->second.data(), it->second.data() + it->second.size(), after);
      if (ec != std::errc{} || end != it->second.data() + it->second.size() || after < 0) {
        return send(error_response(400, "invalid_parameter",
                                   fmt::format("after must be a non-negative integer, got \"{}\"",
                                               it->second)),
                    false);
      }
    }
    const auto prefix = request.query.find("path_prefix");
    start_stream(std::move(m_stream), m_parser->release(), after,
                 prefix == request.query.end() ? std::string() : prefix->second, stream);
  }

  void send(Response response, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(response.status), 11);
    res->set(http::field::server, "inferwatch");
    res->set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    res->body() = std::move(response.body);
    res->prepare_payload();
    m_stream.expires_after(m_shared.options.idle_timeout);
    http::async_write(m_stream, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !res->keep_alive()) return self->close();
                        self->do_read();
                      });
  }

  void close() {
    beast::error_code ignored;
    m_stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream m_stream;
  beast::flat_buffer m_buffer;
  std::optional<http::request_parser<http::string_body>> m_parser;
  Shared& m_shared;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, const Router& router, StreamOptions stream)
      : m_stream{std::move(stream)},
        m_shared{std::move(options), router, m_stream},
        m_acceptor(m_io) {}

  ~Impl() { stop(); }

  util::Result<void> start() {
    beast::error_code ec;
    const auto address = net::ip::make_address(m_shared.options.host, ec);
    if (ec) {
      // A host name (e.g. localhost): resolve it.
      tcp::resolver resolver(m_io);
      const auto results =
          resolver.resolve(m_shared.options.host, std::to_string(m_shared.options.port), ec);
      if (ec || results.empty()) return fail(ec ? ec.message() : "no address");
      return listen(results.begin()->endpoint());
    }
    return listen(tcp::endpoint(address, m_shared.options.port));
  }

  std::uint16_t port() const { return m_port; }

  void stop() {
    if (m_threads.empty()) return;
    // Streams get a "going away" close frame first (bounded wait), so clients know to resume.
    if (m_stream.options.broadcaster) {
      m_stream.options.broadcaster->shut_down_all();
      for (int i = 0; i < 100 && m_stream.clients.load() > 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    net::post(m_io, [this] {
      beast::error_code ignored;
      m_acceptor.close(ignored);
    });
    m_io.stop();
    for (auto& t : m_threads) t.join();
    m_threads.clear();
  }

 private:
  util::Result<void> fail(const std::string& why) {
    return util::Error{"listen_failed",
                       fmt::format("cannot listen on {}:{}: {}", m_shared.options.host,
                                   m_shared.options.port, why)};
  }

  util::Result<void> listen(const tcp::endpoint& endpoint) {
    beast::error_code ec;
    m_acceptor.open(endpoint.protocol(), ec);
    if (!ec) m_acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) m_acceptor.bind(endpoint, ec);
    if (!ec) m_acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return fail(ec.message());
    m_port = m_acceptor.local_endpoint().port();
    do_accept();
    for (int i = 0; i < std::max(1, m_shared.options.threads); ++i) {
      m_threads.emplace_back([this] {
        util::name_this_thread("iw-http");
        m_io.run();
      });
    }
    return {};
  }

  void do_accept() {
    m_acceptor.async_accept(
        net::make_strand(m_io), [this](beast::error_code ec, tcp::socket socket) {
          if (ec == net::error::operation_aborted) return;
          if (!ec) {
            if (m_shared.connections.load() >= m_shared.options.max_connections) {
              beast::error_code ignored;
              socket.close(ignored);  // over the connection limit
            } else {
              std::make_shared<Session>(std::move(socket), m_shared)->run();
            }
          }
          do_accept();
        });
  }

  StreamShared m_stream;
  Shared m_shared;
  net::io_context m_io;
  tcp::acceptor m_acceptor;
  std::uint16_t m_port = 0;
  std::vector<std::thread> m_threads;
};

HttpServer::HttpServer(HttpServerOptions options, const Router& router, StreamOptions stream)
    : m_impl(std::make_unique<Impl>(std::move(options), router, std::move(stream))) {}
HttpServer::~HttpServer() = default;
util::Result<void> HttpServer::start() { return m_impl->start(); }
std::uint16_t HttpServer::port() const { return m_impl->port(); }
void HttpServer::stop() { m_impl->stop(); }

}  // namespace inferwatch::server
