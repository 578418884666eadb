// The request target as the server and the HTTP fuzz target split it: the path and the query the
// router matches on, percent-decoded; a target that is not a URL is refused (answered 400).
#include <inferwatch/server/request_target.hpp>

#include <doctest/doctest.h>

#include <map>
#include <string>

using inferwatch::server::parse_target;
using inferwatch::server::Request;

TEST_SUITE_BEGIN("server");

TEST_CASE("server::parse_target") {
  Request request;

  SUBCASE("a path without a query") {
    REQUIRE(parse_target("/v1/results", request));
    CHECK(request.path == "/v1/results");
    CHECK(request.query.empty());
  }
  SUBCASE("query parameters become a map") {
    REQUIRE(parse_target("/v1/results?after=3&limit=10", request));
    CHECK(request.path == "/v1/results");
    CHECK(request.query == std::map<std::string, std::string>{{"after", "3"}, {"limit", "10"}});
  }
  SUBCASE("path and query are percent-decoded") {
    REQUIRE(parse_target("/v1/files/a%20b.png?path=x%2Fy%26z", request));
    CHECK(request.path == "/v1/files/a b.png");
    CHECK(request.query.at("path") == "x/y&z");
  }
  SUBCASE("a repeated key keeps its last value") {
    REQUIRE(parse_target("/v1/results?after=1&after=2", request));
    CHECK(request.query.at("after") == "2");
  }
  SUBCASE("a target that is not in origin form is refused, and the request left alone") {
    request.path = "unchanged";
    for (const char* target : {"", "v1/results", "http://host/v1/results", "/bad%zz", "/a b"}) {
      CAPTURE(target);
      CHECK_FALSE(parse_target(target, request));
      CHECK(request.path == "unchanged");
    }
  }
}

TEST_SUITE_END();
