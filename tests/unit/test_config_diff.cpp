#include <inferwatch/config/diff.hpp>

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

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

// Each changed key of `after` against the defaults, split by what a SIGHUP does with it.
static std::pair<std::vector<std::string>, std::vector<std::string>> split_by_reload(
    const config::Config& after) {
  std::vector<std::string> live, restart;
  for (const auto& key : config::changed_keys(config::Config{}, after))
    (config::applies_at_reload(key) ? live : restart).push_back(key);
  return {live, restart};
}

TEST_CASE("config::applies_at_reload") {
  SUBCASE("every [model] key a reload loads the new model with applies; threads does not") {
    // A reload builds the new model from these keys, but LibTorch's thread pool keeps the size
    // the first model gave it, so a new model.threads would be reported applied and not be.
    config::Config after;
    after.model.path = "/srv/models/resnet.pt";
    after.model.name = "resnet";
    after.model.labels = {"cat", "dog"};
    after.model.device = "cpu";
    after.model.precision = config::Precision::bf16;
    after.model.threads = 4;
    after.model.optimize = false;
    const auto [live, restart] = split_by_reload(after);
    CHECK(live == std::vector<std::string>{"model.device", "model.labels", "model.name",
                                           "model.optimize", "model.path", "model.precision"});
    CHECK(restart == std::vector<std::string>{"model.threads"});
  }
  SUBCASE("the model repository and its routes need a restart") {
    config::Config after;
    after.model.repository = "/srv/models";
    after.model.default_model = "general";
    after.routes.push_back(config::Route{"*.tif", "scans"});
    const auto [live, restart] = split_by_reload(after);
    CHECK(live.empty());
    CHECK(restart == std::vector<std::string>{"model.default", "model.repository", "route"});
  }
  SUBCASE("[preprocess], [postprocess] and log.level apply") {
    config::Config after;
    after.preprocess.mean = {0.4};
    after.postprocess.top_k = 1;
    after.log.level = "debug";
    const auto [live, restart] = split_by_reload(after);
    CHECK(live == std::vector<std::string>{"log.level", "postprocess.top_k", "preprocess.mean"});
    CHECK(restart.empty());
  }
  SUBCASE("the other sections and log.format need a restart") {
    config::Config after;
    after.watch.settle_ms = 250;
    after.batching.max_batch_size = 4;
    after.server.threads = 4;
    after.log.format = config::LogFormat::json;
    const auto [live, restart] = split_by_reload(after);
    CHECK(live.empty());
    CHECK(restart == std::vector<std::string>{"batching.max_batch_size", "log.format",
                                              "server.threads", "watch.settle_ms"});
  }
}

TEST_SUITE_END();
