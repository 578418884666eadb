#pragma once

// An expected failure: a stable machine-readable `code` (also a metric label and a result's
// `error.code`) and a message for people that names the file, key or value at fault.

#include <string>

namespace inferwatch::util {

struct Error {
  std::string code;
  std::string message;
};

}  // namespace inferwatch::util
