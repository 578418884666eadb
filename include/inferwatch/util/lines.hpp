#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace inferwatch::util {

// The lines of `text` with trailing spaces and CR removed, blank lines skipped.
std::vector<std::string> non_empty_lines(std::string_view text);

}  // namespace inferwatch::util
