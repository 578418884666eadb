#pragma once

// `inferwatch export` (SPEC §11): results with feedback become a training set,
// `OUT/<label>/<file>` (the layout torchvision's ImageFolder reads) plus `OUT/manifest.jsonl`,
// added to incrementally (plan.hpp has the rules). Each source file is opened beneath its watch
// root as the pipeline opens it (util::RootDir: no symlink followed, regular files only, never
// blocking, size-capped) and must still be the version its result was made from; the example is
// then a hard link to that open file, or a copy of the bytes read from it. Files that cannot be
// exported are left out with a reason (the summary and `OUT/skipped.jsonl`).

#include <inferwatch/store/labelled_results.hpp>
#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace inferwatch::dataset {

enum class Transfer { link_or_copy, copy };

struct ExportOptions {
  std::filesystem::path out;
  // Source files larger than this are left out (`too_large`).
  std::int64_t max_file_bytes = 256LL * 1024 * 1024;
  Transfer transfer = Transfer::link_or_copy;
  // The manifest is rewritten after this many changes too, so a long run that is interrupted
  // keeps most of its work in the manifest.
  std::int64_t checkpoint_every = 1000;
};

// A result left out, and why: `changed`, `gone`, `not_regular_file`, `unsafe_path`,
// `too_large`, `superseded`, `unsafe_label`, `root_unavailable`, `permission_denied`,
// `read_failed`.
struct Skip {
  std::int64_t result_id = 0;
  std::string path;  // display form
  std::string reason;
  std::string message;
};

struct ExportSummary {
  std::int64_t added = 0;  // new examples (hardlinked + copied)
  std::int64_t hardlinked = 0;
  std::int64_t copied = 0;
  std::int64_t relabelled = 0;  // moved to another label's folder
  std::int64_t updated = 0;     // new feedback with the same label: manifest only
  std::int64_t already_present = 0;
  std::vector<Skip> skipped;
  std::map<std::string, std::int64_t> skipped_by_reason;
  std::int64_t examples = 0;  // in the manifest after the run
  std::int64_t folders = 0;   // label folders in OUT after the run
};

// Export `results` into options.out. Errors: `out_unusable`, `export_running` (another export
// holds OUT), `manifest_unreadable`, `write_failed` (OUT cannot be written: the manifest then
// holds what was done before).
util::Result<ExportSummary> export_dataset(std::span<const store::LabelledResult> results,
                                           const ExportOptions& options);

}  // namespace inferwatch::dataset
