#pragma once

// The value of a call that must succeed: the test stops there with the error's code and message
// otherwise.

#include <inferwatch/util/result.hpp>

#include <doctest/doctest.h>

namespace inferwatch::test {

template <typename T>
T ok(util::Result<T> r) {
  if (!r.ok()) FAIL(r.error().code << ": " << r.error().message);
  return std::move(r).value();
}

inline void ok(const util::Result<void>& r) {
  if (!r.ok()) FAIL(r.error().code << ": " << r.error().message);
}

}  // namespace inferwatch::test
