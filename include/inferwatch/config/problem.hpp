#pragma once

// One thing wrong with a configuration, located as precisely as the source allows.

#include <string>

namespace inferwatch::config {

struct Problem {
  std::string file;  // config file, or "command line" / "defaults"
  int line = 0;      // 1-based; 0 when unknown (e.g. a value from the command line)
  int column = 0;
  std::string key;  // dotted, e.g. "preprocess.mean"; empty for file-level problems
  std::string message;

  // "FILE:LINE:COL: KEY: MESSAGE", leaving out the parts that are unknown.
  std::string to_string() const;
};

}  // namespace inferwatch::config
