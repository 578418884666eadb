#include <inferwatch/util/sha256.hpp>

#include <doctest/doctest.h>

#include <string>

using inferwatch::util::sha256_hex;

TEST_SUITE_BEGIN("util");

TEST_CASE("util::sha256_hex") {
  SUBCASE("the empty string (FIPS 180-2 vector)") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }
  SUBCASE("\"abc\" (FIPS 180-2 vector)") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
  SUBCASE("the two-block FIPS 180-2 vector") {
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  }
  SUBCASE("embedded NUL bytes are hashed too") {
    CHECK(sha256_hex(std::string("a\0b", 3)) != sha256_hex("ab"));
  }
}

TEST_SUITE_END();
