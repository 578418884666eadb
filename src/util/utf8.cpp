#include <inferwatch/util/utf8.hpp>

#include <openssl/evp.h>

#include <cstdint>
#include <limits>

namespace inferwatch::util {
namespace {

constexpr std::string_view k_replacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed sequence at text[i] (Unicode Table 3-7), or 0 when that byte does
// not start one.
std::size_t sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // continuation byte, C0/C1 (overlong) or F5..FF
  }
  if (text.size() - i < n) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
  }
  return n;
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7F; }

// A C1 control character (U+0080..U+009F), which some terminals obey like ESC sequences.
bool is_c1(std::string_view text, std::size_t i, std::size_t n) {
  return n == 2 && static_cast<unsigned char>(text[i]) == 0xC2 &&
         static_cast<unsigned char>(text[i + 1]) < 0xA0;
}

void append_octal(std::string& out, unsigned char c) {
  out += '\\';
  out += static_cast<char>('0' + (c >> 6));
  out += static_cast<char>('0' + ((c >> 3) & 7));
  out += static_cast<char>('0' + (c & 7));
}

// Append `text` escaped; `quotes` also escapes `"` and `\`.
void append_escaped(std::string& out, std::string_view text, bool quotes) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = sequence_length(text, i);
    if (n == 0) {
      append_octal(out, c);
      i += 1;
    } else if (is_c1(text, i, n)) {
      append_octal(out, c);
      append_octal(out, static_cast<unsigned char>(text[i + 1]));
      i += 2;
    } else if (n > 1) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      if (c == '\n') {
        out += "\\n";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\r') {
        out += "\\r";
      } else if (quotes && (c == '"' || c == '\\')) {
        out += '\\';
        out += static_cast<char>(c);
      } else if (is_control(c)) {
        append_octal(out, c);
      } else {
        out += static_cast<char>(c);
      }
      i += 1;
    }
  }
}

// True when append_escaped would change `text`.
bool needs_escape(std::string_view text, bool quotes) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = sequence_length(text, i);
    if (n == 0 || is_c1(text, i, n)) return true;
    if (n == 1 && (is_control(c) || (quotes && (c == '"' || c == '\\')))) return true;
    i += n;
  }
  return false;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    // ASCII runs are the common case: skip them a byte at a time without the table.
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = sequence_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string to_valid_utf8(std::string_view text) {
  if (is_valid_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = sequence_length(text, i);
    if (n == 0) {
      out += k_replacement;
      i += 1;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max() / 4 * 3 - 3)) {
    return {};  // beyond EVP's int lengths; no name or value we encode comes near
  }
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // + EVP's terminating NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0 ||
      text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return std::nullopt;
  }
  if (text.empty()) return std::string();
  std::string out(text.size() / 4 * 3, '\0');
  // EVP_DecodeBlock decodes padding as zero bytes and tolerates surrounding whitespace: drop the
  // padding's bytes, then accept only text that encodes back to itself (canonical base64).
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t size = static_cast<std::size_t>(n);
  if (text.ends_with("==")) {
    size -= 2;
  } else if (text.ends_with('=')) {
    size -= 1;
  }
  out.resize(size);
  if (base64_encode(out) != text) return std::nullopt;
  return out;
}

std::string quote_for_log(std::string_view text) {
  if (!needs_escape(text, true)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  out += '"';
  append_escaped(out, text, true);
  out += '"';
  return out;
}

std::string escape_controls(std::string_view text) {
  if (!needs_escape(text, false)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  append_escaped(out, text, false);
  return out;
}

}  // namespace inferwatch::util
