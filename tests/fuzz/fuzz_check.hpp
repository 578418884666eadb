#pragma once

// The fuzz targets' assertion: abort (a libFuzzer crash, saved as a reproducer) when a property
// fails. Unlike assert(), it stays on in release builds.

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                               \
  do {                                                                                      \
    if (!(condition)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                         \
    }                                                                                       \
  } while (false)
