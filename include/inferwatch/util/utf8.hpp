#pragma once

// File names are bytes; every text the daemon emits is UTF-8 (SPEC §5). These turn the one into
// the other: a lossy display form, base64 for the exact bytes, and a quoted form for log lines.

#include <optional>
#include <string>
#include <string_view>

namespace inferwatch::util {

// True when `text` is well-formed UTF-8: no overlong forms, surrogates, code points above
// U+10FFFF or truncated sequences.
bool is_valid_utf8(std::string_view text);

// `text` with each byte that is not part of a well-formed sequence replaced by U+FFFD; valid
// input comes back unchanged. No normalization.
std::string to_valid_utf8(std::string_view text);

// Base64 (standard alphabet, with padding) of `bytes`.
std::string base64_encode(std::string_view bytes);

// The bytes of canonical base64 (standard alphabet, padding, no whitespace); nullopt otherwise.
std::optional<std::string> base64_decode(std::string_view text);

// `text` for a log line, git-style: unchanged when it is valid UTF-8 without control characters,
// `"` or `\`; otherwise in double quotes with \n, \t, \r, \", \\ and \ooo for the other control
// characters (C0, DEL, C1) and for invalid bytes. The result never contains a line break.
std::string quote_for_log(std::string_view text);

// `text` with control characters and invalid bytes escaped as quote_for_log does, without the
// quotes; unchanged when it has none. For log sinks: a message can never forge a line.
std::string escape_controls(std::string_view text);

}  // namespace inferwatch::util
