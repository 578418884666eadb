#pragma once

#include <span>
#include <string>
#include <string_view>

namespace inferwatch::util {

// Levenshtein distance between two strings (insert, delete, substitute each cost 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, or "" when none is close enough to be a likely typo.
std::string closest_match(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace inferwatch::util
