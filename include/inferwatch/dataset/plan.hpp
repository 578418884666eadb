#pragma once

// What an incremental export does with one result that has feedback, given what the set
// already holds for it. Pure: the exporter supplies the facts and carries the step out.
//
// The rules (docs/export.md):
// - not in the set yet, or its file is gone from OUT: `add` (link or copy from the share);
// - in the set with the same feedback: `keep` (nothing is read or written);
// - its current feedback changed but gives the same label folder: `update` (the manifest entry
//   takes the new feedback; the file stays);
// - its current feedback gives another label: `relabel` (the file moves to the new label's
//   folder, within OUT, without reading the share again; the manifest entry follows).

#include <inferwatch/dataset/manifest.hpp>

#include <cstdint>
#include <string_view>

namespace inferwatch::dataset {

enum class Step { add, keep, update, relabel };

std::string_view to_string(Step step);

// The step for a result whose current feedback is `feedback_id`, giving a label whose folder
// is `folder`. `previous` is its entry in the manifest (nullptr: none); `file_present` says
// whether previous->file is still a regular file in OUT.
Step plan_step(const ManifestEntry* previous, bool file_present, std::int64_t feedback_id,
               std::string_view folder);

// The folder part of an entry's `file` ("" when it has none).
std::string_view folder_of(std::string_view file);

}  // namespace inferwatch::dataset
