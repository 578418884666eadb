#pragma once

#include <inferwatch/store/file_version.hpp>

#include <cstdint>
#include <string>

namespace inferwatch::store {

// A result row as committed: the §5 JSON plus the columns that queries filter on.
struct StoredResult {
  std::int64_t id = 0;  // from Database::reserve_ids
  std::int64_t file_id = 0;
  std::int64_t generation = 0;  // of the job it answers
  std::string root;
  std::string path;
  FileVersion version;
  std::string status;      // "ok" or "error"
  std::string error_code;  // empty when ok
  std::string model_version;
  std::string created_at;
  std::string json;
  bool sidecar_missing = false;  // its sidecar could not be written (json says why)
  // A shadow candidate's result for the same file version (SPEC §10), stored beside this one
  // and never current; empty when none ran.
  std::string shadow_json;
  std::string shadow_model_version;
  std::string shadow_status;
};

// A current result whose sidecar is still to be written.
struct MissingSidecar {
  std::int64_t file_id = 0;
  std::int64_t result_id = 0;
  std::string root;
  std::string path;  // raw name
  FileVersion version;
  std::string json;  // as stored (with its sidecar_error)
};

}  // namespace inferwatch::store
