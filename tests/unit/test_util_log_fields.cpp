#include <inferwatch/util/log_fields.hpp>

#include <doctest/doctest.h>

#include <string>
#include <thread>

using namespace inferwatch;

TEST_SUITE_BEGIN("util");

TEST_CASE("util::ScopedLogFields") {
  CHECK(util::current_log_fields().empty());
  SUBCASE("scopes nest and unwind") {
    const util::ScopedLogFields outer{{"path", "a.png"}};
    {
      const util::ScopedLogFields inner{{"result_id", "7"}, {"status", "ok"}};
      const auto fields = util::current_log_fields();
      REQUIRE(fields.size() == 3);
      CHECK(fields[0].key == "path");
      CHECK(fields[2].value == "ok");
    }
    REQUIRE(util::current_log_fields().size() == 1);
    CHECK(util::current_log_fields()[0].value == "a.png");
  }
  SUBCASE("fields belong to the thread that set them") {
    const util::ScopedLogFields here{{"path", "a.png"}};
    std::size_t seen = 99;
    std::thread([&] { seen = util::current_log_fields().size(); }).join();
    CHECK(seen == 0);
  }
  CHECK(util::current_log_fields().empty());
}

TEST_SUITE_END();
