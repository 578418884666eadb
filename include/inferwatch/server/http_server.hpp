#pragma once

// HTTP/1.1 on Boost.Beast: one strand per connection, keep-alive, and the limits of SPEC §6 —
// header and body size, number of connections, idle time (a half-sent request is cut off).
// Threading: start()/stop() from one thread; requests run on `threads` io threads.

#include <inferwatch/server/router.hpp>
#include <inferwatch/util/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace inferwatch::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see port())
  int threads = 2;
  std::uint64_t max_body_bytes = 32 * 1024 * 1024;
  std::uint32_t max_header_bytes = 16 * 1024;
  int max_connections = 1024;
  std::chrono::seconds idle_timeout{60};
};

class HttpServer {
 public:
  // `router` must outlive the server.
  HttpServer(HttpServerOptions options, const Router& router);
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
