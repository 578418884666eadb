// One HTTP request as the server takes it: Beast's parser with the server's header and body
// limits, the target parsed into path and query by the server's own parse_target, then the router
// with the real API routes (over an empty database) and a bearer token. Never crashes, never
// answers 500 (a handler that threw), and every JSON answer is valid UTF-8 that parses.
#include <inferwatch/metrics/metrics.hpp>
#include <inferwatch/server/api.hpp>
#include <inferwatch/server/request_target.hpp>
#include <inferwatch/server/router.hpp>
#include <inferwatch/store/database.hpp>
#include <inferwatch/store/reader.hpp>
#include <inferwatch/util/utf8.hpp>

#include "fuzz_check.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace {

namespace http = boost::beast::http;
using namespace inferwatch;

constexpr std::uint32_t k_max_header_bytes = 16 * 1024;  // server.max_header_bytes default
constexpr std::uint64_t k_max_body_bytes = 1 << 20;      // small: the fuzzer's inputs are too

// The daemon's parts the routes need, built once per process.
struct World {
  World() {
    dir = std::filesystem::temp_directory_path() /
          ("inferwatch-fuzz-http-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    database = std::move(store::Database::open(dir / "db.sqlite")).value();
    reader = std::move(store::Reader::open(dir / "db.sqlite")).value();
    infer::ModelInfo info;
    info.name = "demo-shapes";
    info.version = "demo-shapes@000000000000";
    info.labels = {"circle", "square"};
    context = std::make_unique<server::ApiContext>(server::ApiContext{
        *reader,
        [info] { return info; },
        "0.1.0 (fuzz)",
        {dir},
        [] { return std::int64_t{0}; },
        [] { return std::vector<std::string>{}; },
        metrics,
        [](std::string, std::function<void(results::Record)> reply) {
          results::Record record;
          record.path = "upload";
          record.error = util::Error{"decode_failed", "not decoded while fuzzing"};
          reply(std::move(record));
          return true;
        },
        [](std::function<void(util::Result<infer::ModelInfo>)> done) {
          done(util::Error{"reload_in_progress", "fuzzing"});
        }});
    server::add_api_routes(router, *context);
  }
  ~World() { std::filesystem::remove_all(dir); }

  std::filesystem::path dir;
  std::unique_ptr<store::Database> database;
  std::unique_ptr<store::Reader> reader;
  metrics::Metrics metrics;
  server::Router router{"fuzz-token", &metrics};
  std::unique_ptr<server::ApiContext> context;
};

void check_response(const server::Response& response) {
  FUZZ_CHECK(response.status >= 200 && response.status < 600);
  FUZZ_CHECK(response.status != 500);
  if (response.content_type != "application/json") return;
  FUZZ_CHECK(util::is_valid_utf8(response.body));
  boost::system::error_code ec;
  boost::json::parse(response.body, ec);
  FUZZ_CHECK(!ec);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  http::request_parser<http::string_body> parser;
  parser.header_limit(k_max_header_bytes);
  parser.body_limit(k_max_body_bytes);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (used < size && !parser.is_done()) {
    const std::size_t n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (ec == http::error::need_more) break;
    if (ec) return 0;  // the server answers 400/413/431 and closes
    if (n == 0) break;
    used += n;
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }
  auto& message = parser.get();
  server::Request request;
  request.method = std::string(message.method_string());
  if (!server::parse_target(message.target(), request)) return 0;  // 400
  const auto auth = message[http::field::authorization];
  if (auth.starts_with("Bearer "))
    request.bearer_token = std::string(auth.substr(7));
  else if (const auto it = request.query.find("access_token"); it != request.query.end())
    request.bearer_token = it->second;
  const auto admission = world.router.admit(request);
  if (admission.refusal) {
    check_response(*admission.refusal);
    return 0;
  }
  if (request.path == "/v1/stream") return 0;  // a WebSocket upgrade: not a plain request
  request.body = std::move(message.body());
  check_response(world.router.handle(std::move(request)));
  return 0;
}
