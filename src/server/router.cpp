#include <inferwatch/server/router.hpp>

#include <inferwatch/util/json_text.hpp>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <spdlog/spdlog.h>
#include <boost/json.hpp>
#include <optional>

namespace inferwatch::server {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t end = path.find('/', start);
    out.emplace_back(
        path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

// Compare without leaking, through timing, how much of the token was right.
bool token_matches(const std::string& expected, const std::string& given) {
  if (given.size() != expected.size()) return false;
  return CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

}  // namespace

Response error_response(unsigned status, std::string_view code, std::string_view message) {
  boost::json::object error{{"code", code}, {"message", message}};
  // to_json_text: messages quote request paths, which are percent-decoded bytes (any bytes).
  return json_response(util::to_json_text(boost::json::object{{"error", std::move(error)}}),
                       status);
}

Response json_response(std::string body, unsigned status) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

void Router::add(std::string method, std::string pattern, Handler handler, Access access,
                 Body body) {
  add_async(
      std::move(method), std::move(pattern),
      [handler = std::move(handler)](const Request& r, Reply reply) { reply(handler(r)); }, access,
      body);
}

void Router::add_async(std::string method, std::string pattern, AsyncHandler handler, Access access,
                       Body body) {
  auto segments = split_path(pattern);
  m_routes.push_back(Route{std::move(pattern), std::move(method), std::move(segments),
                           std::move(handler), access, body});
}

Router::Admission Router::admit(const Request& request) const {
  Request copy;  // find() fills in params; the body is not there yet
  copy.method = request.method;
  copy.path = request.path;
  copy.bearer_token = request.bearer_token;
  std::string label = "unmatched";
  Admission admission;
  admission.authenticated = !m_token.empty() && token_matches(m_token, request.bearer_token);
  if (const Route* route = find(copy, label, admission.refusal)) {
    admission.body = route->body;
  } else if (m_metrics) {
    m_metrics->http_request(label, admission.refusal->status);
  }
  return admission;
}

bool Router::authorized(const std::string& given) const {
  return m_token.empty() || token_matches(m_token, given);
}

void Router::handle(Request request, Reply reply) const {
  std::string label = "unmatched";  // a label from a closed set: patterns, never raw paths
  std::optional<Response> early;
  const Route* route = find(request, label, early);
  auto counted = [metrics = m_metrics, label, reply = std::move(reply)](Response response) {
    if (metrics) metrics->http_request(label, response.status);
    reply(std::move(response));
  };
  if (!route) return counted(std::move(*early));
  try {
    route->handler(request, counted);  // handlers reply exactly once, and never throw after it
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", request.method, request.path, e.what());
    counted(
        error_response(500, "internal_error", "the request failed inside the server; see the log"));
  }
}

Response Router::handle(Request request) const {
  Response out;
  handle(std::move(request), [&out](Response r) { out = std::move(r); });
  return out;
}

const Router::Route* Router::find(Request& request, std::string& label,
                                  std::optional<Response>& early) const {
  const auto segments = split_path(request.path);
  bool path_known = false;
  for (const auto& route : m_routes) {
    if (route.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool match = true;
    for (std::size_t i = 0; i < segments.size() && match; ++i) {
      const std::string& want = route.segments[i];
      if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
        params[want.substr(1, want.size() - 2)] = segments[i];
      } else {
        match = want == segments[i];
      }
    }
    if (!match) continue;
    path_known = true;
    label = route.pattern;
    if (route.method != request.method) continue;
    if (route.access == Access::token && !authorized(request.bearer_token)) {
      early = error_response(401, "unauthorized", "a valid bearer token is required");
      early->headers.emplace_back("WWW-Authenticate", "Bearer");
      return nullptr;
    }
    request.params = std::move(params);
    return &route;
  }
  early = path_known
              ? error_response(405, "method_not_allowed",
                               fmt::format("{} is not allowed here", request.method))
              : error_response(404, "not_found", fmt::format("no endpoint {}", request.path));
  return nullptr;
}

}  // namespace inferwatch::server
