#include <inferwatch/util/host_port.hpp>

#include <doctest/doctest.h>

#include <string>

using inferwatch::util::parse_host_port;

TEST_SUITE_BEGIN("util");

TEST_CASE("util::parse_host_port") {
  SUBCASE("IPv4 address and port") {
    const auto hp = parse_host_port("127.0.0.1:8080");
    REQUIRE(hp.ok());
    CHECK(hp->host == "127.0.0.1");
    CHECK(hp->port == 8080);
  }
  SUBCASE("host name and port") {
    const auto hp = parse_host_port("localhost:80");
    REQUIRE(hp.ok());
    CHECK(hp->host == "localhost");
    CHECK(hp->port == 80);
  }
  SUBCASE("IPv6 in brackets: the host comes without them") {
    const auto hp = parse_host_port("[::1]:8080");
    REQUIRE(hp.ok());
    CHECK(hp->host == "::1");
    CHECK(hp->port == 8080);
    const auto any = parse_host_port("[::]:443");
    REQUIRE(any.ok());
    CHECK(any->host == "::");
  }
  SUBCASE("port 0 (any free port) and 65535 are allowed") {
    const auto zero = parse_host_port("0.0.0.0:0");
    REQUIRE(zero.ok());
    CHECK(zero->port == 0);
    const auto top = parse_host_port("0.0.0.0:65535");
    REQUIRE(top.ok());
    CHECK(top->port == 65535);
  }
  SUBCASE("no port") {
    const auto hp = parse_host_port("localhost");
    REQUIRE_FALSE(hp.ok());
    CHECK(hp.error().code == "invalid_address");
    CHECK(hp.error().message == "\"localhost\" is not HOST:PORT: no port");
  }
  SUBCASE("an empty port") {
    const auto hp = parse_host_port("localhost:");
    REQUIRE_FALSE(hp.ok());
    CHECK(hp.error().code == "invalid_address");
    CHECK(hp.error().message ==
          "\"localhost:\" is not HOST:PORT: the port must be a number from 0 to 65535");
  }
  SUBCASE("no host") {
    for (const std::string text : {":8080", "[]:8080"}) {
      CAPTURE(text);
      const auto hp = parse_host_port(text);
      REQUIRE_FALSE(hp.ok());
      CHECK(hp.error().code == "invalid_address");
      CHECK(hp.error().message == "\"" + text + "\" is not HOST:PORT: no host");
    }
  }
  SUBCASE("a port above 65535") {
    for (const std::string text : {"localhost:65536", "localhost:99999999999"}) {
      CAPTURE(text);
      const auto hp = parse_host_port(text);
      REQUIRE_FALSE(hp.ok());
      CHECK(hp.error().code == "invalid_address");
      CHECK(hp.error().message ==
            "\"" + text + "\" is not HOST:PORT: the port must be a number from 0 to 65535");
    }
  }
  SUBCASE("a port that is not a plain number") {
    for (const std::string text :
         {"localhost:http", "localhost:80x", "localhost:-1", "localhost:+80", "localhost: 80"}) {
      CAPTURE(text);
      const auto hp = parse_host_port(text);
      REQUIRE_FALSE(hp.ok());
      CHECK(hp.error().code == "invalid_address");
      CHECK(hp.error().message ==
            "\"" + text + "\" is not HOST:PORT: the port must be a number from 0 to 65535");
    }
  }
  SUBCASE("IPv6 without brackets is refused with a hint") {
    const auto hp = parse_host_port("::1:8080");
    REQUIRE_FALSE(hp.ok());
    CHECK(hp.error().code == "invalid_address");
    CHECK(hp.error().message ==
          "\"::1:8080\" is not HOST:PORT: write IPv6 addresses in brackets, e.g. [::1]:8080");
  }
  SUBCASE("junk is refused") {
    for (const std::string text : {"", "not an address", "[::1]8080", "[::1:8080"}) {
      CAPTURE(text);
      const auto hp = parse_host_port(text);
      REQUIRE_FALSE(hp.ok());
      CHECK(hp.error().code == "invalid_address");
      CHECK(hp.error().message.starts_with("\"" + text + "\" is not HOST:PORT: "));
    }
  }
}

TEST_SUITE_END();
