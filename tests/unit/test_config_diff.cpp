#include <inferwatch/config/diff.hpp>

#include <doctest/doctest.h>

using namespace inferwatch;

TEST_SUITE_BEGIN("config");

TEST_CASE("config::changed_keys") {
  const config::Config before;
  SUBCASE("identical configs have no changes") {
    CHECK(config::changed_keys(before, before).empty());
  }
  SUBCASE("every changed key is named once, section.key, in order") {
    config::Config after = before;
    after.watch.settle_ms = 250;
    after.model.path = "/srv/models/resnet.pt";
    after.preprocess.mean = {0.4};
    after.log.level = "debug";
    CHECK(config::changed_keys(before, after) == std::vector<std::string>{"log.level", "model.path",
                                                                          "preprocess.mean",
                                                                          "watch.settle_ms"});
  }
  SUBCASE("a list that changes in one element is a change") {
    config::Config after = before;
    after.watch.include.back() = "*.WEBP";
    CHECK(config::changed_keys(before, after) == std::vector<std::string>{"watch.include"});
  }
}

TEST_SUITE_END();
