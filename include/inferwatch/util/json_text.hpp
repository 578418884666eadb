#pragma once

// Compact JSON text for a Boost.JSON value, with numbers written the way people read them
// ("0.25", "1e-07") instead of Boost 1.81's "2.5E-1": sidecars are read by people too.

#include <boost/json/value.hpp>

#include <string>

namespace inferwatch::util {

// Always valid UTF-8: invalid bytes in strings and keys are written as U+FFFD.
std::string to_json_text(const boost::json::value& value);

}  // namespace inferwatch::util
