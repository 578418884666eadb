#pragma once

// Maps method + path to handlers, enforces the bearer token, and turns every failure into a
// SPEC §6 JSON error. Thread-safe once built: handle() is const and routes are not changed after
// the server starts.

#include <inferwatch/metrics/metrics.hpp>
#include <inferwatch/server/http_message.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace inferwatch::server {

enum class Access { open, token };
// How big a request body a route takes: `large` up to server.max_body_bytes (an image for
// POST /v1/infer), `small` up to Router::k_small_body_bytes.
enum class Body { small, large };

class Router {
 public:
  using Handler = std::function<Response(const Request&)>;
  using Reply = std::function<void(Response)>;
  // Replies later, from any thread (e.g. when an inference is done); exactly once.
  using AsyncHandler = std::function<void(const Request&, Reply)>;

  // `token` empty: no authentication anywhere. `metrics` (optional) counts requests by route.
  explicit Router(std::string token = {}, metrics::Metrics* metrics = nullptr)
      : m_token(std::move(token)), m_metrics(metrics) {}

  // `pattern` is a path whose segments may be "{name}" placeholders (filled into Request::params).
  void add(std::string method, std::string pattern, Handler handler, Access access = Access::token,
           Body body = Body::small);
  void add_async(std::string method, std::string pattern, AsyncHandler handler,
                 Access access = Access::token, Body body = Body::small);

  static constexpr std::uint64_t k_small_body_bytes = 64 * 1024;

  // What the server may do with a request, decided from its header alone (method, path, token),
  // before any of its body is read.
  struct Admission {
    std::optional<Response> refusal;  // 401/404/405, already counted: answer it and close
    Body body = Body::small;          // otherwise, how big a body the route takes
    bool authenticated = false;       // the request carries the configured token
  };
  Admission admit(const Request& request) const;

  // 404 for an unknown path, 405 for a known path with another method, 401 without the token,
  // 500 (logged) when a handler throws.
  void handle(Request request, Reply reply) const;
  // The same, waiting for the reply (for synchronous routes and tests).
  Response handle(Request request) const;

  // True when no token is configured or `given` is it (constant time).
  bool authorized(const std::string& given) const;

 private:
  struct Route {
    std::string pattern;
    std::string method;
    std::vector<std::string> segments;
    AsyncHandler handler;
    Access access;
    Body body;
  };
  // The route for `request` (params filled in), or nullptr with the error to answer in `early`.
  const Route* find(Request& request, std::string& label, std::optional<Response>& early) const;

  std::string m_token;
  metrics::Metrics* m_metrics;
  std::vector<Route> m_routes;
};

}  // namespace inferwatch::server
