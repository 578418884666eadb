#include <inferwatch/util/json_text.hpp>

#include <inferwatch/util/utf8.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <cmath>

namespace inferwatch::util {
namespace {

// A JSON string of `s`, valid UTF-8 whatever its bytes (Boost.JSON copies invalid bytes as is).
void write_string(std::string& out, std::string_view s) {
  if (is_valid_utf8(s)) {
    out += boost::json::serialize(boost::json::string_view(s));
  } else {
    out += boost::json::serialize(boost::json::string_view(to_valid_utf8(s)));
  }
}

void write(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : v.get_object()) {
        if (!first) out += ',';
        first = false;
        write_string(out, key);
        out += ':';
        write(out, value);
      }
      out += '}';
      return;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& value : v.get_array()) {
        if (!first) out += ',';
        first = false;
        write(out, value);
      }
      out += ']';
      return;
    }
    case boost::json::kind::double_: {
      const double d = v.get_double();
      // fmt's "{}" is the shortest text that reads back to the same double.
      if (std::isfinite(d)) {
        const std::size_t start = out.size();
        fmt::format_to(std::back_inserter(out), "{}", d);
        // Keep it a float for readers: 3.0 stays "3.0", not the integer "3".
        if (out.find_first_of(".eE", start) == std::string::npos) out += ".0";
      } else
        out += "null";
      return;
    }
    case boost::json::kind::string:
      write_string(out, v.get_string());
      return;
    default:
      out += boost::json::serialize(v);  // integers, booleans, null
  }
}

}  // namespace

std::string to_json_text(const boost::json::value& value) {
  std::string out;
  out.reserve(512);
  write(out, value);
  return out;
}

}  // namespace inferwatch::util
