#include <inferwatch/util/json_text.hpp>

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <cstdint>
#include <limits>
#include <string>

using inferwatch::util::to_json_text;
namespace json = boost::json;

namespace {

// The text, after checking that it parses back to a value equal to `value`.
std::string round_trip(const json::value& value) {
  const std::string text = to_json_text(value);
  INFO("text: " << text);
  json::error_code ec;
  const json::value back = json::parse(text, ec);
  REQUIRE_FALSE(ec);
  CHECK(back == value);
  return text;
}

}  // namespace

TEST_SUITE_BEGIN("util");

TEST_CASE("util::to_json_text") {
  SUBCASE("doubles are written the short way people read them") {
    CHECK(round_trip(0.25) == "0.25");
    CHECK(round_trip(0.97) == "0.97");
    CHECK(round_trip(1e-07) == "1e-07");
    CHECK(round_trip(-1.5) == "-1.5");
  }
  SUBCASE("doubles keep their full precision") {
    round_trip(0.1 + 0.2);
    round_trip(1.0 / 3.0);
    round_trip(std::numeric_limits<double>::max());
    round_trip(std::numeric_limits<double>::denorm_min());
  }
  SUBCASE("NaN and infinities become null") {
    CHECK(to_json_text(std::numeric_limits<double>::quiet_NaN()) == "null");
    CHECK(to_json_text(std::numeric_limits<double>::infinity()) == "null");
    CHECK(to_json_text(-std::numeric_limits<double>::infinity()) == "null");
    CHECK(to_json_text(json::array{0.5, std::numeric_limits<double>::quiet_NaN()}) == "[0.5,null]");
  }
  SUBCASE("integers, booleans and null") {
    CHECK(round_trip(std::int64_t{-5}) == "-5");
    CHECK(round_trip(std::numeric_limits<std::uint64_t>::max()) == "18446744073709551615");
    CHECK(round_trip(true) == "true");
    CHECK(round_trip(nullptr) == "null");
  }
  SUBCASE("nested objects and arrays, compact, keys in insertion order") {
    const json::value v = {{"b", json::array{1, 2.5, json::object{{"c", nullptr}, {"d", true}}}},
                           {"a", json::object{}},
                           {"e", json::array{}}};
    CHECK(round_trip(v) == R"({"b":[1,2.5,{"c":null,"d":true}],"a":{},"e":[]})");
  }
  SUBCASE("strings and keys are escaped") {
    const json::value v = {{"k\"ey", "quote \" backslash \\ newline \n tab \t bell \x07 é"}};
    CHECK(round_trip(v) ==
          "{\"k\\\"ey\":\"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007 é\"}");
  }
  SUBCASE("invalid UTF-8 in strings and keys is written as U+FFFD, so strict readers parse it") {
    const json::value v = {{"k\xFF", json::array{"bad\xFF\xFE.png"}}};
    CHECK(to_json_text(v) == "{\"k\xEF\xBF\xBD\":[\"bad\xEF\xBF\xBD\xEF\xBF\xBD.png\"]}");
    json::error_code ec;
    json::parse(to_json_text(v), ec);  // Boost.JSON refuses invalid UTF-8 by default
    CHECK_FALSE(ec);
  }
}

// A whole-number double must stay a double ("3.0"), or readers calling as_double() throw.
TEST_CASE("util::to_json_text whole-number doubles") {
  SUBCASE("a whole-number double reads back as a double") {
    const std::string text = round_trip(3.0);
    CHECK(json::parse(text).is_double());
    CHECK(json::parse(to_json_text(json::object{{"total", 6.0}})).at("total").is_double());
  }
}

TEST_SUITE_END();
