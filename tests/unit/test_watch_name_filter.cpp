// Which names become candidates: globs (case-insensitive, by name or by relative path) and the
// junk that is never processed.
#include <inferwatch/watch/name_filter.hpp>

#include <doctest/doctest.h>

using inferwatch::watch::NameFilter;

TEST_SUITE_BEGIN("watch");

TEST_CASE("watch::NameFilter::accepts") {
  const NameFilter filter({"*.png", "*.jpg"}, {"drafts/*", "*-preview.*"}, ".result.json");

  SUBCASE("included extensions, in any case, at any depth") {
    CHECK(filter.accepts("part.png"));
    CHECK(filter.accepts("PART.PNG"));
    CHECK(filter.accepts("alice/2026/part.Jpg"));
  }
  SUBCASE("other extensions are not candidates") {
    CHECK_FALSE(filter.accepts("part.gif"));
    CHECK_FALSE(filter.accepts("notes.txt"));
  }
  SUBCASE("exclude globs by name and by path") {
    CHECK_FALSE(filter.accepts("drafts/part.png"));
    CHECK(filter.accepts("alice/drafts/part.png"));  // a path glob is anchored at the root
    CHECK_FALSE(filter.accepts("bob/part-preview.png"));
  }
  SUBCASE("junk is refused even when a glob matches") {
    for (const char* name :
         {".part.png", "._part.png", "~$part.png", "part.png.tmp", "part.png~", "Thumbs.db",
          "desktop.ini", "part.png.result.json", "alice/.part.png.inferwatch-tmp"}) {
      INFO(name);
      const NameFilter everything({"*"}, {}, ".result.json");
      CHECK_FALSE(everything.accepts(name));
    }
  }
}

TEST_SUITE_END();
