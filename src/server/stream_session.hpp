#pragma once

// The WebSocket result stream; private to server/ (it exposes Boost.Beast types).

#include <inferwatch/server/http_server.hpp>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cstdint>
#include <string>

namespace inferwatch::server {

struct StreamShared {
  StreamOptions options;
  std::atomic<int> clients{0};
};

// Take over an upgraded HTTP connection and run the stream until either side closes.
void start_stream(boost::beast::tcp_stream stream,
                  boost::beast::http::request<boost::beast::http::string_body> request,
                  std::int64_t after, std::string path_prefix, StreamShared& shared);

}  // namespace inferwatch::server
