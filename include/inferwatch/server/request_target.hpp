#pragma once

// The target of an HTTP request ("/v1/results?after=3&limit=10", origin form) split into what the
// router matches on. Kept apart from the Boost.Beast units so the HTTP fuzz target parses targets
// with this very code.

#include <inferwatch/server/http_message.hpp>

#include <string_view>

namespace inferwatch::server {

// Set `out.path` and `out.query` from `target`, both percent-decoded (a repeated query key keeps
// its last value). False, with `out` untouched, when `target` is not a valid origin-form URL.
bool parse_target(std::string_view target, Request& out);

}  // namespace inferwatch::server
