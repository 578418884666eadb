// The review page's files as the router serves them (src/server/web_routes.cpp).
#include "../../src/server/web_routes.hpp"

#include <inferwatch/server/web_assets.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

using namespace inferwatch::server;

namespace {

std::string header(const Response& r, const std::string& name) {
  const auto it = std::find_if(r.headers.begin(), r.headers.end(),
                               [&](const auto& h) { return h.first == name; });
  return it == r.headers.end() ? std::string() : it->second;
}

std::string file_text(const std::string& name) {
  // Unit tests run from the source tree (tests/CMakeLists.txt).
  std::ifstream in("web/" + name, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Response get(const Router& router, const std::string& path) {
  Request r;
  r.method = "GET";
  r.path = path;
  return router.handle(r);
}

}  // namespace

TEST_CASE("add_web_routes") {
  Router router("a-token");  // the page's files are open even when the API needs a token
  add_web_routes(router);

  SUBCASE("GET / is index.html, byte for byte, under a policy that allows only this origin") {
    const Response r = get(router, "/");
    CHECK(r.status == 200);
    CHECK(r.content_type == "text/html; charset=utf-8");
    CHECK(r.body == file_text("index.html"));
    const std::string policy = header(r, "Content-Security-Policy");
    CHECK(policy.find("default-src 'none'") != std::string::npos);
    CHECK(policy.find("script-src 'self'") != std::string::npos);
    CHECK(policy.find("unsafe-inline") == std::string::npos);
    CHECK(policy.find("frame-ancestors 'none'") != std::string::npos);
    CHECK(header(r, "X-Content-Type-Options") == "nosniff");
  }

  SUBCASE("every embedded file is served at /<name> with its type and the file's bytes") {
    REQUIRE(web_assets().size() >= 3);
    for (const WebAsset& asset : web_assets()) {
      const Response r = get(router, "/" + std::string(asset.name));
      CHECK(r.status == 200);
      CHECK(r.body == file_text(std::string(asset.name)));
      CHECK(!header(r, "ETag").empty());
      if (asset.name.ends_with(".js")) CHECK(r.content_type == "text/javascript; charset=utf-8");
      if (asset.name.ends_with(".css")) CHECK(r.content_type == "text/css; charset=utf-8");
    }
  }

  SUBCASE("nothing else is served: no directory listing, no path outside the embedded set") {
    CHECK(get(router, "/CMakeLists.txt").status == 404);
    CHECK(get(router, "/../etc/passwd").status == 404);
    CHECK(get(router, "/web/index.html").status == 404);
  }
}
