#pragma once

// Names in an exported training set (SPEC §11, `inferwatch export`): `OUT/<label>/<file>`.
// Labels come from a model's label list and file names from the share, so either may be any
// text or bytes; what lands on disk is always one safe path component, valid UTF-8.

#include <inferwatch/util/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace inferwatch::dataset {

// Longest folder or file name written (bytes; most file systems allow 255).
inline constexpr std::size_t k_max_name_bytes = 255;
// Longest example file name made from a share's name, leaving room for a temp name's affixes.
inline constexpr std::size_t k_max_file_name_bytes = 200;

// The folder of `label`: the label itself when it is a safe component, else with each of '%',
// '/', control characters, bytes that are not UTF-8, and a leading '.' as %XX (upper-case hex),
// so two labels never share a folder and none is ".", ".." or hidden. Error `unsafe_label`: an
// empty label, or one whose folder would be longer than k_max_name_bytes.
util::Result<std::string> label_folder(std::string_view label);

// The example's file name: `<result_id>-<base>`, where base is the last component of `raw_path`
// as valid UTF-8 (U+FFFD for bytes that are not), with C0 control characters and DEL as '_', cut at
// a character boundary to at most k_max_file_name_bytes in all while keeping the extension (up to
// 16 bytes after the last '.'), which ImageFolder needs. The id makes it unique.
std::string example_file_name(std::int64_t result_id, std::string_view raw_path);

// True for a name that temp files of the export use (`.<file>.tmp`): such files are left from
// an interrupted run and may be removed.
bool is_temp_name(std::string_view name);

// The temp name of example file `name`.
std::string temp_name(std::string_view name);

}  // namespace inferwatch::dataset
