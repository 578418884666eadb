#pragma once

// Results with feedback, for the training-set export (SPEC §11): each result whose current
// feedback (its latest row in `feedback`) matches a filter, with where its file is and which
// version of it the result was made from. Read-only: it opens its own read-only connection, so
// it runs beside a running daemon (WAL) and never changes the database.

#include <inferwatch/store/feedback_store.hpp>
#include <inferwatch/util/file.hpp>
#include <inferwatch/util/result.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace inferwatch::store {

struct LabelledResult {
  std::int64_t result_id = 0;
  std::string root;      // the watch root the result's file was under
  std::string path;      // relative to the root, display form (valid UTF-8)
  std::string raw_path;  // the exact name bytes (= path when it is valid UTF-8)
  util::FileStat version;  // of the file when the result was made
  std::string model_version;
  std::string sha256;  // of the bytes the result was made from ("" when none was read)
  std::optional<double> predicted_score;  // the top-1 score
  // The file's current result now; nullopt when the file has been forgotten (deleted).
  std::optional<std::int64_t> current_result_id;
  FeedbackRow feedback;  // the current feedback
};

struct LabelledQuery {
  // Current feedback given at or after this (RFC 3339 UTC with milliseconds, as created_at).
  std::optional<std::string> since;
  // Results of this model (`<model>@…` in model_version); "" for every model.
  std::string model;
  // With `model`: that version only (model_version = `<model>@<version>`).
  std::optional<std::string> version;
};

// Every result whose current feedback matches `query`, by result id. Errors:
// `database_unusable` (cannot open `database`), `store_busy`, `store_failed` (e.g. a database
// older than the feedback table).
util::Result<std::vector<LabelledResult>> read_labelled_results(
    const std::filesystem::path& database, const LabelledQuery& query);

}  // namespace inferwatch::store
