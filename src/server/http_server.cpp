// The only translation unit that includes Boost.Beast (HTTP); WebSocket comes beside it.
#include <inferwatch/server/connection_slots.hpp>
#include <inferwatch/server/http_server.hpp>
#include <inferwatch/server/request_target.hpp>
#include <inferwatch/util/thread_name.hpp>

#include "stream_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <array>
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
  ConnectionSlots slots;
};

// One HTTP connection, on its own strand. A request is taken in two steps: its header, within
// the header timeout; then, only once the router has admitted it (route, method, token), its body
// with the route's limit. A refused request is answered at once with Connection: close and its
// body is never read (SPEC §6: the token is checked before a request body is read).
class Session : public Connection, public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Shared& shared)
      : m_stream(std::move(socket)), m_strand(m_stream.get_executor()), m_shared(shared) {}
  ~Session() override { m_shared.slots.release(m_slot); }

  void run(std::uint64_t slot) {
    m_slot = slot;
    net::dispatch(m_stream.get_executor(), [self = shared_from_this()] { self->read_header(); });
  }

  void evict() override {
    net::post(m_strand, [self = shared_from_this()] {
      self->m_closed = true;
      self->m_stream.close();  // pending operations end with operation_aborted
    });
  }

 private:
  // Between requests: a keep-alive connection may wait idle_timeout for the next one to start.
  void do_wait() {
    if (m_buffer.size() > 0) return read_header();  // a pipelined request is already here
    if (!enter(ConnectionPhase::idle)) return;
    m_stream.expires_after(m_shared.options.idle_timeout);
    m_stream.async_read_some(
        m_buffer.prepare(4096),
        [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->on_wait(ec, n); });
  }

  void on_wait(beast::error_code ec, std::size_t n) {
    if (m_closed || ec) return;  // idle timeout, client gone or evicted: the session ends
    m_buffer.commit(n);
    read_header();
  }

  void read_header() {
    if (!enter(ConnectionPhase::request)) return;
    m_parser.emplace();
    m_parser->header_limit(m_shared.options.max_header_bytes);
    // Over the server's largest body at all: 413 from the header alone, whatever the route.
    m_body_limit = m_shared.options.max_body_bytes;
    m_parser->body_limit(m_body_limit);
    m_stream.expires_after(header_timeout());  // a trickled header is cut off here
    http::async_read_header(
        m_stream, m_buffer, *m_parser,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (m_closed) return;
    if (ec) return on_read_error(ec);
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

    auto admission = m_shared.router.admit(request);
    if (admission.refusal) return send(std::move(*admission.refusal), false);
    const std::uint64_t limit =
        admission.body == Body::large
            ? m_shared.options.max_body_bytes
            : std::min<std::uint64_t>(m_shared.options.max_body_bytes, Router::k_small_body_bytes);
    m_body_limit = limit;
    if (m_parser->content_length().value_or(0) > limit) return body_too_large();
    m_parser->body_limit(limit);  // a chunked body is counted as it comes
    // Without the token (open routes when one is configured) the small body must come within
    // the header's time, the connection stays evictable, and it is closed after the answer.
    m_trusted = admission.authenticated || m_shared.router.authorized({});
    m_keep_alive = message.keep_alive() && m_trusted;
    m_request = std::move(request);
    if (m_trusted) {
      if (!enter(ConnectionPhase::busy)) return;
      m_stream.expires_after(m_shared.options.idle_timeout);  // bounds a slowly sent body
    }
    if (m_parser->is_done()) return run_request();
    if (beast::iequals(message[http::field::expect], "100-continue")) {
      // Only now, admitted, is the client told to send its body.
      auto res = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      return http::async_write(
          m_stream, *res, [self = shared_from_this(), res](beast::error_code written, std::size_t) {
            if (self->m_closed || written) return self->close();
            self->read_body();
          });
    }
    read_body();
  }

  void read_body() {
    http::async_read(
        m_stream, m_buffer, *m_parser,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
  }

  void on_body(beast::error_code ec) {
    if (m_closed) return;
    if (ec) return on_read_error(ec);
    run_request();
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::eof ||
        ec == net::error::operation_aborted)
      return close();
    if (ec == http::error::body_limit) return body_too_large();
    if (ec == http::error::header_limit) {
      return send(error_response(431, "headers_too_large", "the request headers are too large"),
                  false);
    }
    send(
        error_response(400, "bad_request", fmt::format("malformed HTTP request: {}", ec.message())),
        false);
  }

  void body_too_large() {
    send(error_response(413, "body_too_large",
                        fmt::format("the body is over the limit of {} bytes", m_body_limit)),
         false);
  }

  void run_request() {
    if (!enter(ConnectionPhase::busy)) return;
    m_request.body = std::move(m_parser->get().body());
    // The reply may come from another thread (POST /v1/infer): hop back onto this strand.
    m_shared.router.handle(std::move(m_request), [self = shared_from_this()](Response response) {
      net::post(self->m_strand, [self, response = std::move(response)]() mutable {
        self->send(std::move(response), self->m_keep_alive);
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
    // Busy connections are never evicted, so no evict() can touch the stream once it has moved.
    if (!enter(ConnectionPhase::busy)) return;
    // The stream leaves the connection slots: max_ws_clients bounds it from here on.
    start_stream(std::move(m_stream), m_parser->release(), after,
                 prefix == request.query.end() ? std::string() : prefix->second, stream);
  }

  void send(Response response, bool keep_alive) {
    if (m_closed) return;
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
                        if (self->m_closed || ec) return self->close();
                        if (!res->keep_alive()) return self->linger();
                        self->do_wait();
                      });
  }

  // After Connection: close, read and drop what the client still sends (the body of a refused
  // request) until it closes, for at most the header timeout: closing with unread data would
  // reset the connection and could destroy the answer before the client has read it.
  void linger() {
    beast::error_code ignored;
    m_stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (!enter(ConnectionPhase::closing)) return;
    m_stream.expires_after(header_timeout());
    drain();
  }

  void drain() {
    m_stream.async_read_some(net::buffer(m_discard),
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               if (!self->m_closed && !ec) self->drain();
                             });
  }

  void close() {
    beast::error_code ignored;
    m_stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // False (and the connection closes) when the slot was given to a newer connection.
  bool enter(ConnectionPhase phase) {
    if (m_shared.slots.enter(m_slot, phase)) return true;
    m_closed = true;
    m_stream.close();
    return false;
  }

  std::chrono::seconds header_timeout() const {
    return std::min(m_shared.options.header_timeout, m_shared.options.idle_timeout);
  }

  beast::tcp_stream m_stream;
  const net::any_io_executor m_strand;  // m_stream's, for evict() from other threads
  beast::flat_buffer m_buffer;
  std::optional<http::request_parser<http::string_body>> m_parser;
  Request m_request;               // the admitted request, while its body is read
  std::uint64_t m_body_limit = 0;  // of the request being read
  bool m_trusted = false;
  bool m_keep_alive = false;
  bool m_closed = false;  // evicted: every handler returns at once
  std::array<char, 16 * 1024> m_discard{};
  std::uint64_t m_slot = 0;
  Shared& m_shared;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, const Router& router, StreamOptions stream)
      : m_stream{std::move(stream)},
        m_shared{options, router, m_stream,
                 ConnectionSlots(static_cast<std::size_t>(std::max(1, options.max_connections)))},
        m_acceptor(m_io) {}

  ~Impl() { stop(); }

  util::Result<void> start() {
    // Only a literal address: a name would be resolved again here, and could then stand for
    // another address than the one the caller judged (app::check_exposure).
    beast::error_code ec;
    const auto address = net::ip::make_address(m_shared.options.host, ec);
    if (ec) return fail("not an IP address (resolve the name first)");
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
            auto session = std::make_shared<Session>(std::move(socket), m_shared);
            // Full: the longest-waiting idle connection makes room, or this one is refused.
            if (const auto slot = m_shared.slots.acquire(session)) session->run(slot);
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
