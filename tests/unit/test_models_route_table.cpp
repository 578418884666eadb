// RouteTable: which repository model each file goes to, by glob on its path relative to its
// watch root.
#include <inferwatch/models/route_table.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using inferwatch::config::Route;
using inferwatch::models::route_matches;
using inferwatch::models::RouteTable;

TEST_SUITE_BEGIN("models");

TEST_CASE("models::RouteTable::model_for") {
  SUBCASE("no routes: every file goes to the default") {
    const RouteTable table({}, "general");
    CHECK(table.model_for("a.png") == "general");
    CHECK(table.model_for("deep/down/b.png") == "general");
  }
  SUBCASE("the first matching route wins, in file order") {
    const RouteTable table({{"apples/**", "fruit"}, {"apples/green/**", "green"}}, "general");
    CHECK(table.model_for("apples/green/a.png") == "fruit");
    const RouteTable reversed({{"apples/green/**", "green"}, {"apples/**", "fruit"}}, "general");
    CHECK(reversed.model_for("apples/green/a.png") == "green");
    CHECK(reversed.model_for("apples/red/a.png") == "fruit");
  }
  SUBCASE("an unrouted file goes to the default") {
    const RouteTable table({{"apples/**", "fruit"}}, "general");
    CHECK(table.model_for("pears/a.png") == "general");
    CHECK(table.model_for("a.png") == "general");
  }
  SUBCASE("a pattern without '/' matches the file name in any folder") {
    const RouteTable table({{"*.tif", "scans"}}, "general");
    CHECK(table.model_for("x.tif") == "scans");
    CHECK(table.model_for("2024/06/x.tif") == "scans");
    CHECK(table.model_for("x.tif/y.png") == "general");
  }
  SUBCASE("a name of invalid UTF-8 bytes is matched on its bytes") {
    const RouteTable table({{"lot-\xff*/**", "odd"}, {"*\xfe.png", "tail"}}, "general");
    CHECK(table.model_for("lot-\xff\x80/a.png") == "odd");
    CHECK(table.model_for("x/\xc3\x28\xfe.png") == "tail");
    CHECK(table.model_for("lot-\xfe/a.png") == "general");
  }
}

TEST_CASE("models::route_matches") {
  SUBCASE("'*' does not cross '/' in a pattern with '/'") {
    CHECK(route_matches("apples/*.png", "apples/a.png"));
    CHECK_FALSE(route_matches("apples/*.png", "apples/green/a.png"));
    CHECK_FALSE(route_matches("*/a.png", "x/y/a.png"));
  }
  SUBCASE("the whole relative path must match, not a part of it") {
    CHECK_FALSE(route_matches("apples/*.png", "farm/apples/a.png"));
    CHECK_FALSE(route_matches("apples/a", "apples/a/b.png"));
  }
  SUBCASE("a '**' component matches any number of folders, none included") {
    CHECK(route_matches("**/crops/*.png", "crops/a.png"));
    CHECK(route_matches("**/crops/*.png", "a/crops/a.png"));
    CHECK(route_matches("**/crops/*.png", "a/b/c/crops/a.png"));
    CHECK(route_matches("line-*/**/raw/*", "line-2/raw/a.png"));
    CHECK(route_matches("line-*/**/raw/*", "line-2/x/y/raw/a.png"));
    CHECK_FALSE(route_matches("line-*/**/raw/*", "line-2/x/y/cooked/a.png"));
  }
  SUBCASE("a trailing '**' or '/' matches everything beneath the folder, not the folder's name") {
    CHECK(route_matches("apples/**", "apples/a.png"));
    CHECK(route_matches("apples/**", "apples/1/2/3/a.png"));
    CHECK(route_matches("apples/", "apples/1/a.png"));
    CHECK_FALSE(route_matches("apples/**", "apples"));
    CHECK_FALSE(route_matches("apples/**", "applesauce/a.png"));
  }
  SUBCASE("'**' inside a component is a plain '*'") {
    CHECK(route_matches("a**/x.png", "abc/x.png"));
    CHECK_FALSE(route_matches("a**/x.png", "a/b/x.png"));
  }
  SUBCASE("ASCII letters match either case, as in watch.include") {
    CHECK(route_matches("*.tif", "SCAN.TIF"));
    CHECK(route_matches("Apples/**", "apples/a.png"));
  }
  SUBCASE("brackets and '?' work per component") {
    CHECK(route_matches("line-[12]/?.png", "line-1/a.png"));
    CHECK_FALSE(route_matches("line-[12]/?.png", "line-3/a.png"));
    CHECK_FALSE(route_matches("line-?", "line-/"));
  }
  SUBCASE("a deep path against many '**' stays cheap") {
    std::string path;
    for (int i = 0; i < 2000; ++i) path += "d/";
    path += "a.png";
    CHECK_FALSE(route_matches("**/x/**/y/**/z/**/*.tif", path));
    CHECK(route_matches("**/d/**/d/**/d/**/*.png", path));
  }
}

TEST_CASE("models::RouteTable::model_names") {
  SUBCASE("the default first, then each route's model once") {
    const RouteTable table({{"a/**", "x"}, {"b/**", "general"}, {"c/**", "x"}, {"*.tif", "y"}},
                           "general");
    CHECK(table.model_names() == std::vector<std::string>{"general", "x", "y"});
  }
}

TEST_SUITE_END();
