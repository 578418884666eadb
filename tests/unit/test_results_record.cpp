// to_json: the SPEC §5 result object, key by key.
#include <inferwatch/results/record.hpp>

#include <inferwatch/util/json_text.hpp>

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <string>
#include <vector>

using inferwatch::infer::Prediction;
using inferwatch::results::ImageSize;
using inferwatch::results::k_schema;
using inferwatch::results::Record;
using inferwatch::results::Timings;
using inferwatch::results::to_json;
using inferwatch::util::Error;
namespace json = boost::json;
using Keys = std::vector<std::string>;

namespace {

Record base() {
  Record r;
  r.path = "alice/part-17.png";
  r.sha256 = std::string(64, 'a');
  r.model_name = "demo-shapes";
  r.model_version = "demo-shapes@0123456789ab";
  r.timings = Timings{1.2, 0.8, 3.1, 6.0};
  r.created_at = "2026-11-23T10:00:00.123Z";
  return r;
}

Keys keys(const json::object& o) {
  Keys out;
  for (const auto& [key, value] : o) out.emplace_back(key);
  return out;
}

}  // namespace

TEST_SUITE_BEGIN("results");

// SPEC §5: `path` is always valid UTF-8; `path_bytes` carries a name that is not.
TEST_CASE("results::to_json path and path_bytes") {
  SUBCASE("a valid UTF-8 name is the path as is, without path_bytes") {
    Record r = base();
    r.path = "caf\xC3\xA9/new\nline \"q\" tab\t back\\slash.png";
    const json::object o = to_json(r);
    CHECK(o.at("path") == json::value(r.path));
    CHECK_FALSE(o.contains("path_bytes"));
  }
  SUBCASE("an invalid name shows each bad byte as U+FFFD, the exact bytes right after") {
    Record r = base();
    r.path = "alice/bad\xFF\xFE.png";
    const json::object o = to_json(r);
    CHECK(o.at("path") == "alice/bad\xEF\xBF\xBD\xEF\xBF\xBD.png");
    CHECK(o.at("path_bytes") == "YWxpY2UvYmFk//4ucG5n");
    CHECK(keys(o) == Keys{"schema", "path", "path_bytes", "status", "sha256", "model",
                          "predictions", "timings_ms", "created_at"});
  }
  SUBCASE("the JSON text is valid UTF-8 even when an error message quotes the raw name") {
    Record r = base();
    r.path = "x\xFF.png";
    r.error = Error{"decode_failed", "cannot decode x\xFF.png"};
    json::error_code ec;
    const json::value back = json::parse(inferwatch::util::to_json_text(to_json(r)), ec);
    REQUIRE_FALSE(ec);
    CHECK(back.at("error").at("message") == "cannot decode x\xEF\xBF\xBD.png");
  }
}

TEST_CASE("results::to_json") {
  SUBCASE("an ok result: predictions, no error, keys in the documented order") {
    Record r = base();
    r.id = 1234;
    r.image = ImageSize{512, 384};
    r.predictions = {Prediction{"circle", 0, 0.97}, Prediction{"square", 1, 0.02}};
    const json::object o = to_json(r);
    CHECK(keys(o) == Keys{"schema", "id", "path", "status", "sha256", "image", "model",
                          "predictions", "timings_ms", "created_at"});
    CHECK(k_schema == "inferwatch.result/v1");
    CHECK(o.at("schema") == "inferwatch.result/v1");
    CHECK(o.at("id") == 1234);
    CHECK(o.at("path") == "alice/part-17.png");
    CHECK(o.at("status") == "ok");
    CHECK(o.at("sha256") == json::value(std::string(64, 'a')));
    CHECK(o.at("image") == json::value{{"width", 512}, {"height", 384}});
    CHECK(o.at("model") ==
          json::value{{"name", "demo-shapes"}, {"version", "demo-shapes@0123456789ab"}});
    CHECK(o.at("predictions") ==
          json::value{json::object{{"label", "circle"}, {"index", 0}, {"score", 0.97}},
                      json::object{{"label", "square"}, {"index", 1}, {"score", 0.02}}});
    CHECK(o.at("timings_ms") ==
          json::value{{"queue", 1.2}, {"decode", 0.8}, {"infer", 3.1}, {"total", 6.0}});
    CHECK(o.at("created_at") == "2026-11-23T10:00:00.123Z");
    CHECK_FALSE(o.contains("error"));
    CHECK_FALSE(o.contains("output"));
  }
  SUBCASE("an ok result with no predictions still has an empty predictions array") {
    const json::object o = to_json(base());
    REQUIRE(o.contains("predictions"));
    CHECK(o.at("predictions").as_array().empty());
  }
  SUBCASE("an error result: error {code, message}, no predictions") {
    Record r = base();
    r.error = Error{"decode_failed", "the PNG data could not be decoded"};
    r.predictions = {Prediction{"circle", 0, 0.5}};  // ignored: an error wins
    const json::object o = to_json(r);
    CHECK(o.at("status") == "error");
    CHECK(o.at("error") ==
          json::value{{"code", "decode_failed"}, {"message", "the PNG data could not be decoded"}});
    CHECK(keys(o.at("error").as_object()) == Keys{"code", "message"});
    CHECK_FALSE(o.contains("predictions"));
    CHECK_FALSE(o.contains("output"));
    CHECK(keys(o) ==
          Keys{"schema", "path", "status", "sha256", "model", "error", "timings_ms", "created_at"});
  }
  SUBCASE("an error result for an unreadable file has an empty sha256 and no image") {
    Record r = base();
    r.sha256.clear();
    r.error = Error{"permission_denied", "cannot open x.png: Permission denied"};
    const json::object o = to_json(r);
    CHECK(o.at("sha256") == "");
    CHECK_FALSE(o.contains("image"));
  }
  SUBCASE("id only when set") {
    CHECK_FALSE(to_json(base()).contains("id"));
    Record r = base();
    r.id = 0;
    CHECK(to_json(r).at("id") == 0);
  }
  SUBCASE("image only when set") {
    CHECK_FALSE(to_json(base()).contains("image"));
    Record r = base();
    r.image = ImageSize{3, 2};
    CHECK(to_json(r).at("image") == json::value{{"width", 3}, {"height", 2}});
  }
  SUBCASE("raw output goes under \"output\", with no predictions") {
    Record r = base();
    r.output = json::value{
        {"shape", json::array{1, 2}}, {"dtype", "float32"}, {"data", json::array{{0.5, 0.25}}}};
    const json::object o = to_json(r);
    CHECK(o.at("status") == "ok");
    CHECK(o.at("output") == *r.output);
    CHECK_FALSE(o.contains("predictions"));
    CHECK_FALSE(o.contains("error"));
    CHECK(keys(o) == Keys{"schema", "path", "status", "sha256", "model", "output", "timings_ms",
                          "created_at"});
  }
  SUBCASE("scores are rounded to 6 decimals, timings to microseconds") {
    Record r = base();
    r.predictions = {Prediction{"circle", 0, 0.123456789}};
    r.timings = Timings{1.23456789, 0.0004, 2.0005, 10.0};
    const json::object o = to_json(r);
    CHECK(o.at("predictions").at(0).at("score") == 0.123457);
    CHECK(o.at("timings_ms") ==
          json::value{{"queue", 1.235}, {"decode", 0.0}, {"infer", 2.001}, {"total", 10.0}});
  }
}

TEST_SUITE_END();
