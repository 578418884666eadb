#pragma once

// HTTP/1.1 on Boost.Beast: one strand per connection, keep-alive, and the limits of SPEC §6 —
// header and body size (a body is read only after its header was admitted: route, method, token;
// only Body::large routes take more than 64 KiB), number of connections (when all are taken, a
// new one evicts the longest-waiting idle one), header time (a trickled header is cut off) and
// idle time between keep-alive requests.
// Threading: start()/stop() from one thread; requests run on `threads` io threads.

#include <inferwatch/metrics/metrics.hpp>
#include <inferwatch/server/broadcaster.hpp>
#include <inferwatch/server/router.hpp>
#include <inferwatch/store/reader.hpp>
#include <inferwatch/util/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace inferwatch::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // a literal IP address (names are resolved by the caller)
  std::uint16_t port = 8080;       // 0: any free port (see port())
  int threads = 2;
  std::uint64_t max_body_bytes = 32 * 1024 * 1024;
  std::uint32_t max_header_bytes = 16 * 1024;
  int max_connections = 1024;
  std::chrono::seconds idle_timeout{60};    // a keep-alive connection waiting for a request
  std::chrono::seconds header_timeout{10};  // a request header (capped at idle_timeout)
};

// GET /v1/stream (WebSocket): replay stored results with id > after, then live ones, with no gap
// and no duplicate; a heartbeat every `heartbeat`; a bounded queue per client (a client that falls
// behind is closed with 1013 "slow consumer" and resumes with ?after=).
struct StreamOptions {
  Broadcaster* broadcaster = nullptr;  // nullptr: no /v1/stream
  store::Reader* reader = nullptr;
  metrics::Metrics* metrics = nullptr;
  int max_clients = 1000;
  std::size_t queue_messages = 4096;
  std::size_t queue_bytes = 16 * 1024 * 1024;
  std::chrono::seconds heartbeat{15};
  std::uint64_t max_message_bytes = 64 * 1024;  // one message from the client
  // A client's text message → the reply sent back on its stream (api.hpp:
  // stream_message_handler); nullptr: messages are read and ignored.
  std::function<std::string(std::string_view)> on_message;
};

class HttpServer {
 public:
  // `router` and what `stream` points to must outlive the server.
  HttpServer(HttpServerOptions options, const Router& router, StreamOptions stream = {});
  ~HttpServer();

  // Bind, listen and start the io threads. Error: `listen_failed` (e.g. address in use).
  util::Result<void> start();
  // The port actually bound.
  std::uint16_t port() const;
  // Stop accepting, close connections, join the threads.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace inferwatch::server
