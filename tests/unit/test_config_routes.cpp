// model.repository, model.default and [[route]]: how they load, what is refused (with the file,
// line and key), how they print back and how a change is reported.
#include <inferwatch/config/diff.hpp>
#include <inferwatch/config/loader.hpp>
#include <inferwatch/config/printer.hpp>

#include "support/config.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace inferwatch::config;
using inferwatch::test::at;
using inferwatch::test::k_config_file;
using inferwatch::test::Located;
using inferwatch::test::located;
using inferwatch::test::problems_of;
using Problems = std::vector<Located>;

namespace {

constexpr std::string_view k_routed = R"([model]
repository = "models"
default = "general"

[[route]]
match = "apples/**"
model = "fruit"

[[route]]
match = "*.tif"
model = "scans"
)";

}  // namespace

TEST_SUITE_BEGIN("config");

TEST_CASE("config::load_string routes") {
  SUBCASE("routes load in file order, the repository from the file's directory") {
    const auto loaded = load_string(k_routed, k_config_file);
    REQUIRE(located(loaded.problems) == Problems{});
    CHECK(loaded.config.model.repository == "/etc/inferwatch/models");
    CHECK(loaded.config.model.default_model == "general");
    REQUIRE(loaded.config.routes.size() == 2);
    CHECK(loaded.config.routes[0].match == "apples/**");
    CHECK(loaded.config.routes[0].model == "fruit");
    CHECK(loaded.config.routes[1].match == "*.tif");
    CHECK(loaded.config.routes[1].model == "scans");
  }
  SUBCASE("without a repository nothing changes: no routes, no default") {
    const auto loaded = load_string("[model]\npath = \"m.pt\"\n", k_config_file);
    REQUIRE(located(loaded.problems) == Problems{});
    CHECK(loaded.config.model.repository.empty());
    CHECK(loaded.config.routes.empty());
  }
  SUBCASE("routes as an inline array of tables") {
    const auto loaded = load_string(
        "route = [{match = \"a/**\", model = \"x\"}]\n[model]\nrepository = \"/m\"\n"
        "default = \"x\"\n",
        k_config_file);
    REQUIRE(located(loaded.problems) == Problems{});
    REQUIRE(loaded.config.routes.size() == 1);
    CHECK(loaded.config.routes[0].match == "a/**");
  }
}

TEST_CASE("config::load_string route problems") {
  const std::string repo = "[model]\nrepository = \"/m\"\ndefault = \"x\"\n";
  SUBCASE("a route without a repository") {
    CHECK(problems_of("[[route]]\nmatch = \"a/**\"\nmodel = \"x\"\n") ==
          Problems{at(1, 1, "route[1]",
                      "routes need model.repository (the folder their models are taken from)")});
  }
  SUBCASE("a default without a repository") {
    CHECK(problems_of("[model]\ndefault = \"x\"\n") ==
          Problems{at(2, 11, "model.default",
                      "needs model.repository (the folder the model is taken from)")});
  }
  SUBCASE("a repository without a default") {
    CHECK(problems_of("[model]\nrepository = \"/m\"\n") ==
          Problems{at(2, 14, "model.repository",
                      "needs model.default, the model for files that no [[route]] matches")});
  }
  SUBCASE("a repository and a single model path together") {
    CHECK(problems_of(repo + "path = \"m.pt\"\n") ==
          Problems{at(4, 8, "model.path",
                      "model.path and model.repository exclude each other; keep one")});
  }
  SUBCASE("an empty glob") {
    CHECK(problems_of(repo + "[[route]]\nmatch = \"\"\nmodel = \"x\"\n") ==
          Problems{at(5, 9, "route[1].match", "an empty pattern matches nothing")});
  }
  SUBCASE("a glob with a leading '/'") {
    CHECK(problems_of(repo + "[[route]]\nmatch = \"/srv/a/*\"\nmodel = \"x\"\n") ==
          Problems{at(5, 9, "route[1].match",
                      "\"/srv/a/*\": patterns match paths relative to their watch root; drop the "
                      "leading '/'")});
  }
  SUBCASE("a model name that cannot be a folder in the repository") {
    CHECK(
        problems_of(repo + "[[route]]\nmatch = \"a\"\nmodel = \"../x\"\n") ==
        Problems{at(6, 9, "route[1].model", "\"../x\" is not a folder name in model.repository")});
  }
  SUBCASE("an unknown key in a route, with a \"did you mean\"") {
    CHECK(problems_of(repo + "[[route]]\nmatch = \"a\"\nmodle = \"x\"\n") ==
          Problems{at(4, 1, "route[1].model", "a route needs `model`"),
                   at(6, 1, "route[1].modle", "unknown key (did you mean \"model\"?)")});
  }
  SUBCASE("the second route's problem names the second route") {
    CHECK(problems_of(repo +
                      "[[route]]\nmatch = \"a\"\nmodel = \"x\"\n[[route]]\nmatch = 3\nmodel = "
                      "\"y\"\n") ==
          Problems{at(8, 9, "route[2].match", "expected a string, got an integer")});
  }
  SUBCASE("[route] as a single table") {
    CHECK(
        problems_of(repo + "[route]\nmatch = \"a\"\nmodel = \"x\"\n") ==
        Problems{at(4, 1, "route", "routes are an array of tables: write [[route]], not [route]")});
  }
  SUBCASE("a route that is not a table") {
    CHECK(problems_of("route = [\"a\"]\n" + repo) ==
          Problems{at(1, 10, "route[1]", "a route is a table with `match` and `model`")});
  }
}

TEST_CASE("config::to_toml routes") {
  SUBCASE("routes and the repository load back equal, in order") {
    const auto loaded = load_string(k_routed, k_config_file);
    REQUIRE(located(loaded.problems) == Problems{});
    const std::string text = to_toml(loaded.config);
    INFO("printed:\n" << text);
    const auto back = load_string(text, "/elsewhere/effective.toml");
    REQUIRE(located(back.problems) == Problems{});
    CHECK(back.config.model.repository == loaded.config.model.repository);
    CHECK(back.config.model.default_model == "general");
    REQUIRE(back.config.routes.size() == 2);
    CHECK(back.config.routes[0].match == "apples/**");
    CHECK(back.config.routes[0].model == "fruit");
    CHECK(back.config.routes[1].match == "*.tif");
    CHECK(back.config.routes[1].model == "scans");
    CHECK(to_toml(back.config) == text);
  }
  SUBCASE("no routes print no [[route]]") {
    CHECK(to_toml(Config{}).find("route") == std::string::npos);
  }
}

TEST_CASE("config::changed_keys routes") {
  const auto loaded = load_string(k_routed, k_config_file);
  REQUIRE(located(loaded.problems) == Problems{});
  const Config& before = loaded.config;
  SUBCASE("a changed glob is a change of \"route\"") {
    Config after = before;
    after.routes[1].match = "*.tiff";
    CHECK(changed_keys(before, after) == std::vector<std::string>{"route"});
  }
  SUBCASE("swapped routes are a change (the first match wins)") {
    Config after = before;
    std::swap(after.routes[0], after.routes[1]);
    CHECK(changed_keys(before, after) == std::vector<std::string>{"route"});
  }
  SUBCASE("an added route and a first route are changes") {
    Config after = before;
    after.routes.push_back({"pears/**", "fruit"});
    CHECK(changed_keys(before, after) == std::vector<std::string>{"route"});
    CHECK(changed_keys(load_defaults().config, before) ==
          std::vector<std::string>{"model.default", "model.repository", "route"});
  }
  SUBCASE("unchanged routes are no change") { CHECK(changed_keys(before, before).empty()); }
}

TEST_SUITE_END();
