#include <inferwatch/util/host_port.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using inferwatch::util::is_loopback_address;
using inferwatch::util::parse_host_port;
using inferwatch::util::resolve_host;

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

TEST_CASE("util::is_loopback_address") {
  SUBCASE("127.0.0.0/8, ::1 and IPv4-mapped 127.x are loopback") {
    for (const std::string text : {"127.0.0.1", "127.255.255.254", "127.0.0.0", "::1",
                                   "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"}) {
      CAPTURE(text);
      CHECK(is_loopback_address(text));
    }
  }
  SUBCASE("other addresses are not") {
    for (const std::string text :
         {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "126.255.255.255", "::2", "::ffff:10.0.0.1"}) {
      CAPTURE(text);
      CHECK_FALSE(is_loopback_address(text));
    }
  }
  SUBCASE("a host name is never loopback, whatever it looks like") {
    for (const std::string text : {"localhost", "127.evil.example", "127.0.0.1.nip.io", "127.",
                                   "127.0.0.1 ", "127.1", "0x7f.0.0.1", "::1%lo", ""}) {
      CAPTURE(text);
      CHECK_FALSE(is_loopback_address(text));
    }
  }
}

TEST_CASE("util::resolve_host") {
  SUBCASE("a literal address is itself, without asking a resolver") {
    for (const std::string text : {"127.0.0.1", "0.0.0.0", "::1", "10.1.2.3"}) {
      CAPTURE(text);
      const auto found = resolve_host(text);
      REQUIRE(found.ok());
      CHECK(*found == std::vector<std::string>{text});
    }
  }
  SUBCASE("localhost stands for loopback addresses only (from /etc/hosts)") {
    const auto found = resolve_host("localhost");
    REQUIRE(found.ok());
    REQUIRE_FALSE(found->empty());
    for (const auto& address : *found) {
      CAPTURE(address);
      CHECK(is_loopback_address(address));
    }
  }
}

TEST_SUITE_END();
