#include <inferwatch/dataset/names.hpp>

#include <inferwatch/util/utf8.hpp>

#include <fmt/format.h>

namespace inferwatch::dataset {
namespace {

constexpr std::size_t k_max_extension_bytes = 16;

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Length of the well-formed UTF-8 sequence at text[pos], or 0 when it is not one.
std::size_t sequence_length(std::string_view text, std::size_t pos) {
  const auto c = static_cast<unsigned char>(text[pos]);
  const std::size_t n = c < 0x80           ? 1
                        : (c >> 5) == 0x6  ? 2
                        : (c >> 4) == 0xe  ? 3
                        : (c >> 3) == 0x1e ? 4
                                           : 0;
  if (n == 0 || pos + n > text.size()) return 0;
  return util::is_valid_utf8(text.substr(pos, n)) ? n : 0;
}

// The longest prefix of valid UTF-8 `text` of at most `max` bytes that ends on a character
// boundary.
std::string_view cut(std::string_view text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

util::Result<std::string> label_folder(std::string_view label) {
  if (label.empty()) return util::Error{"unsafe_label", "an empty label has no folder"};
  std::string out;
  for (std::size_t i = 0; i < label.size();) {
    const auto c = static_cast<unsigned char>(label[i]);
    const std::size_t n = sequence_length(label, i);
    const bool escape = n == 0 || c == '%' || c == '/' || is_control(c) || (i == 0 && c == '.');
    if (escape) {
      out += fmt::format("%{:02X}", c);
      ++i;
    } else {
      out.append(label.substr(i, n));
      i += n;
    }
  }
  if (out.size() > k_max_name_bytes) {
    return util::Error{"unsafe_label", fmt::format("the label's folder name would be {} bytes, "
                                                   "over the limit of {}",
                                                   out.size(), k_max_name_bytes)};
  }
  return out;
}

std::string example_file_name(std::int64_t result_id, std::string_view raw_path) {
  const auto slash = raw_path.rfind('/');
  const std::string base =
      util::to_valid_utf8(slash == std::string_view::npos ? raw_path : raw_path.substr(slash + 1));
  std::string clean;
  clean.reserve(base.size());
  for (const char ch : base) clean.push_back(is_control(static_cast<unsigned char>(ch)) ? '_' : ch);

  const std::string prefix = fmt::format("{}-", result_id);
  const std::size_t room = k_max_file_name_bytes - prefix.size();
  if (clean.size() <= room) return prefix + clean;
  const auto dot = clean.rfind('.');
  std::string_view extension;
  if (dot != std::string::npos && dot > 0 && clean.size() - dot <= k_max_extension_bytes + 1) {
    extension = std::string_view(clean).substr(dot);
  }
  const std::string_view stem = std::string_view(clean).substr(0, clean.size() - extension.size());
  return prefix + std::string(cut(stem, room - extension.size())) + std::string(extension);
}

bool is_temp_name(std::string_view name) {
  return name.size() > 5 && name.front() == '.' && name.ends_with(".tmp") && name[1] >= '0' &&
         name[1] <= '9';
}

std::string temp_name(std::string_view name) { return fmt::format(".{}.tmp", name); }

}  // namespace inferwatch::dataset
