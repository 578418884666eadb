#include <inferwatch/util/utf8.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace inferwatch::util;
using namespace std::string_literals;

TEST_SUITE_BEGIN("util");

TEST_CASE("util::is_valid_utf8") {
  SUBCASE("ASCII, two-, three- and four-byte sequences are valid") {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("alice/part-17.png"));
    CHECK(is_valid_utf8("caf\xC3\xA9"));       // é
    CHECK(is_valid_utf8("\xE2\x82\xAC"));      // €
    CHECK(is_valid_utf8("\xF0\x9F\x98\x80"));  // 😀
    CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
    CHECK(is_valid_utf8("new\nline\t\"\\"));   // controls are valid UTF-8
    CHECK(is_valid_utf8("nul\0inside"s));
  }
  SUBCASE("stray continuation and impossible bytes are invalid") {
    CHECK_FALSE(is_valid_utf8("bad\xFF\xFE.png"));
    CHECK_FALSE(is_valid_utf8("\x80"));
    CHECK_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  }
  SUBCASE("overlong forms are invalid") {
    CHECK_FALSE(is_valid_utf8("\xC0\xAF"));  // '/' in two bytes
    CHECK_FALSE(is_valid_utf8("\xC1\xBF"));
    CHECK_FALSE(is_valid_utf8("\xE0\x80\xAF"));
    CHECK_FALSE(is_valid_utf8("\xF0\x80\x80\xAF"));
  }
  SUBCASE("surrogates are invalid") {
    CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));  // U+D800
    CHECK_FALSE(is_valid_utf8("\xED\xBF\xBF"));  // U+DFFF
    CHECK(is_valid_utf8("\xED\x9F\xBF"));        // U+D7FF
  }
  SUBCASE("code points above U+10FFFF are invalid") {
    CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));
  }
  SUBCASE("truncated sequences are invalid") {
    CHECK_FALSE(is_valid_utf8("\xC3"));
    CHECK_FALSE(is_valid_utf8("\xE2\x82"));
    CHECK_FALSE(is_valid_utf8("\xF0\x9F\x98"));
    CHECK_FALSE(is_valid_utf8("\xE2\x82x"));
  }
}

TEST_CASE("util::to_valid_utf8") {
  SUBCASE("valid text comes back unchanged (no normalization)") {
    CHECK(to_valid_utf8("cafe\xCC\x81") == "cafe\xCC\x81");  // decomposed é stays decomposed
    CHECK(to_valid_utf8("new\nline") == "new\nline");
  }
  SUBCASE("each invalid byte becomes one U+FFFD") {
    CHECK(to_valid_utf8("bad\xFF\xFE.png") == "bad\xEF\xBF\xBD\xEF\xBF\xBD.png");
    CHECK(to_valid_utf8("\xE2\x82x") == "\xEF\xBF\xBD\xEF\xBF\xBDx");
    CHECK(to_valid_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  }
  SUBCASE("valid sequences around invalid bytes are kept") {
    CHECK(to_valid_utf8("\xC3\xA9\xFF\xC3\xA9") == "\xC3\xA9\xEF\xBF\xBD\xC3\xA9");
  }
  SUBCASE("the result is always valid") {
    std::string all;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    CHECK(is_valid_utf8(to_valid_utf8(all)));
  }
}

TEST_CASE("util::base64_encode") {
  SUBCASE("RFC 4648 vectors, with padding") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
  }
  SUBCASE("arbitrary bytes use the standard alphabet") {
    CHECK(base64_encode("bad\xFF\xFE.png") == "YmFk//4ucG5n");
    CHECK(base64_encode("\xFB\xEF") == "++8=");
  }
}

TEST_CASE("util::base64_decode") {
  SUBCASE("padded text decodes to the exact bytes") {
    CHECK(base64_decode("") == std::string());
    CHECK(base64_decode("Zg==") == std::string("f"));
    CHECK(base64_decode("Zm8=") == std::string("fo"));
    CHECK(base64_decode("Zm9vYmFy") == std::string("foobar"));
    CHECK(base64_decode("YmFk//4ucG5n") == std::string("bad\xFF\xFE.png"));
    CHECK(base64_decode("AA==") == "\0"s);
  }
  SUBCASE("text that is not canonical base64 is refused") {
    CHECK_FALSE(base64_decode("Zg"));    // missing padding
    CHECK_FALSE(base64_decode("Zh=="));  // stray bits in the padding
    CHECK_FALSE(base64_decode("Z==="));
    CHECK_FALSE(base64_decode("Zg==Zg=="));  // padding in the middle
    CHECK_FALSE(base64_decode(" Zg="));      // whitespace
    CHECK_FALSE(base64_decode("Zm9v\n"));
    CHECK_FALSE(base64_decode("Zm9-"));  // URL-safe alphabet
    CHECK_FALSE(base64_decode("Zm9*"));
  }
}

TEST_CASE("util::quote_for_log") {
  SUBCASE("plain valid names are unchanged") {
    CHECK(quote_for_log("alice/part-17.png") == "alice/part-17.png");
    CHECK(quote_for_log("caf\xC3\xA9 \xF0\x9F\x98\x80.png") == "caf\xC3\xA9 \xF0\x9F\x98\x80.png");
    CHECK(quote_for_log("") == "");
  }
  SUBCASE("newlines, tabs, quotes and backslashes are escaped inside quotes") {
    CHECK(quote_for_log("new\nline.png") == R"("new\nline.png")");
    CHECK(quote_for_log("tab\t.png") == R"("tab\t.png")");
    CHECK(quote_for_log("quo\"te.png") == R"("quo\"te.png")");
    CHECK(quote_for_log("back\\slash.png") == R"("back\\slash.png")");
    CHECK(quote_for_log("cr\r") == R"("cr\r")");
  }
  SUBCASE("other control characters and invalid bytes are octal") {
    CHECK(quote_for_log("bad\xFF\xFE.png") == R"("bad\377\376.png")");
    CHECK(quote_for_log("esc\x1B[31m") == R"("esc\033[31m")");
    CHECK(quote_for_log("nul\0"s) == R"("nul\000")");
    CHECK(quote_for_log("del\x7F") == R"("del\177")");
    CHECK(quote_for_log("csi\xC2\x9B") == R"("csi\302\233")");
  }
  SUBCASE("valid UTF-8 stays readable inside quotes") {
    CHECK(quote_for_log("caf\xC3\xA9\n") == "\"caf\xC3\xA9\\n\"");
  }
}

TEST_CASE("util::escape_controls") {
  SUBCASE("text without controls or invalid bytes is unchanged, quotes included") {
    CHECK(escape_controls(R"(say "hi" \ bye)") == R"(say "hi" \ bye)");
  }
  SUBCASE("a line break cannot survive") {
    CHECK(escape_controls("a\nb\r\n2026-01-01 forged") == R"(a\nb\r\n2026-01-01 forged)");
  }
  SUBCASE("invalid bytes are octal") { CHECK(escape_controls("x\xFF") == R"(x\377)"); }
}

TEST_SUITE_END();
