#pragma once

// Schema migrations, applied in order; PRAGMA user_version records how many have run.

#include <array>
#include <string_view>

namespace SQLite {
class Database;
}

namespace inferwatch::store {

// Migration 2's row conversion (in database.cpp): names written raw by version 1 become their
// display form plus path_bytes, and stored JSON becomes valid UTF-8.
void convert_names(SQLite::Database& db);

struct Migration {
  std::string_view sql;
  // Run after `sql` in the same transaction, for conversions SQL cannot express.
  void (*convert)(SQLite::Database&) = nullptr;
};

inline constexpr std::array<Migration, 7> k_migrations = {
    // 1: files (the backlog and each file's current version) and results (append-only).
    Migration{R"sql(
CREATE TABLE files (
  id         INTEGER PRIMARY KEY,
  root       TEXT    NOT NULL,
  path       TEXT    NOT NULL,
  dev        INTEGER NOT NULL,
  inode      INTEGER NOT NULL,
  size       INTEGER NOT NULL,
  mtime_ns   INTEGER NOT NULL,
  generation INTEGER NOT NULL,         -- bumped for every new version
  done       INTEGER NOT NULL,         -- 1 when this version has its result
  queue_seq  INTEGER NOT NULL,         -- backlog order of pending versions
  result_id  INTEGER,                  -- the current result
  UNIQUE (root, path)
) STRICT;
CREATE INDEX files_pending ON files (queue_seq) WHERE done = 0;

CREATE TABLE results (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  file_id       INTEGER NOT NULL,
  root          TEXT    NOT NULL,
  path          TEXT    NOT NULL,
  dev           INTEGER NOT NULL,
  inode         INTEGER NOT NULL,
  size          INTEGER NOT NULL,
  mtime_ns      INTEGER NOT NULL,
  status        TEXT    NOT NULL,
  error_code    TEXT,
  model_version TEXT    NOT NULL,
  created_at    TEXT    NOT NULL,
  json          TEXT    NOT NULL
) STRICT;
CREATE INDEX results_path ON results (path, id);
CREATE INDEX results_created ON results (created_at);
CREATE INDEX files_result ON files (result_id);

CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;
INSERT INTO counters VALUES ('next_result_id', 1);
)sql"},

    // 2: names are bytes (SPEC §5). `path` is the valid UTF-8 display form; `path_bytes` holds the
    // raw name when it differs (empty otherwise), so two names with one display form stay two
    // files. `attempts` counts the starts of a version's processing (the crash-loop guard).
    // convert_names() then fixes the rows version 1 wrote with raw bytes in `path`.
    Migration{R"sql(
CREATE TABLE files_v2 (
  id         INTEGER PRIMARY KEY,
  root       TEXT    NOT NULL,
  path       TEXT    NOT NULL,         -- valid UTF-8 (each invalid byte shown as U+FFFD)
  path_bytes BLOB    NOT NULL DEFAULT x'',  -- the raw name when not valid UTF-8, else empty
  dev        INTEGER NOT NULL,
  inode      INTEGER NOT NULL,
  size       INTEGER NOT NULL,
  mtime_ns   INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  done       INTEGER NOT NULL,
  queue_seq  INTEGER NOT NULL,
  result_id  INTEGER,
  attempts   INTEGER NOT NULL DEFAULT 0,  -- processing starts of this version without a result
  UNIQUE (root, path, path_bytes)
) STRICT;
INSERT INTO files_v2 (id, root, path, dev, inode, size, mtime_ns, generation, done, queue_seq,
                      result_id)
  SELECT id, root, path, dev, inode, size, mtime_ns, generation, done, queue_seq, result_id
  FROM files;
DROP TABLE files;
ALTER TABLE files_v2 RENAME TO files;
CREATE INDEX files_pending ON files (queue_seq) WHERE done = 0;
CREATE INDEX files_result ON files (result_id);

ALTER TABLE results ADD COLUMN path_bytes BLOB NOT NULL DEFAULT x'';
)sql",
              convert_names},

    // 3: a current result whose sidecar could not be written (read-only or full share, something
    // in the way) is marked, so the sidecar is written later, when the share lets it.
    Migration{R"sql(
ALTER TABLE files ADD COLUMN sidecar_missing INTEGER NOT NULL DEFAULT 0;
CREATE INDEX files_sidecar_missing ON files (id) WHERE sidecar_missing = 1;
)sql"},

    // 4: the model registry (store::ModelCatalog): every repository version seen, its state, gate
    // verdict and rollout (JSON), so a restart resumes each model's rollout where it was.
    Migration{R"sql(
CREATE TABLE model_versions (
  model        TEXT NOT NULL,
  version      TEXT NOT NULL,
  dir          TEXT NOT NULL,
  state        TEXT NOT NULL,  -- candidate, live, retired, refused, rolled_back, waiting
  gate_json    TEXT NOT NULL DEFAULT '',
  rollout_json TEXT NOT NULL DEFAULT '',
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (model, version)
) STRICT;
)sql"},

    // 5: results of a shadow candidate (SPEC §10): stored beside the live result they were
    // compared with, never current, never a sidecar, with no result id of their own.
    Migration{R"sql(
CREATE TABLE shadow_results (
  result_id     INTEGER NOT NULL,  -- the live result of the same file version
  model_version TEXT    NOT NULL,
  status        TEXT    NOT NULL,
  created_at    TEXT    NOT NULL,
  json          TEXT    NOT NULL
) STRICT;
CREATE INDEX shadow_results_result ON shadow_results (result_id);
)sql"},

    // 6: feedback on results (SPEC §11, store::FeedbackStore): append-only, a result's current
    // feedback is its latest row, the rows before it its history.
    Migration{R"sql(
CREATE TABLE feedback (
  id              INTEGER PRIMARY KEY,
  result_id       INTEGER NOT NULL,
  label           TEXT    NOT NULL,  -- the label the user gives (= predicted_label to confirm)
  predicted_label TEXT    NOT NULL,  -- the result's top-1 label when the feedback was given
  user            TEXT    NOT NULL,
  comment         TEXT    NOT NULL DEFAULT '',
  created_at      TEXT    NOT NULL
) STRICT;
CREATE INDEX feedback_result ON feedback (result_id, id);
)sql"},

    // 7: each model version's drift reference (SPEC §11, store::DriftReferences): its golden
    // set's predictions or its first results, kept so a restart never rebases it on later data.
    Migration{R"sql(
CREATE TABLE drift_references (
  model      TEXT NOT NULL,
  version    TEXT NOT NULL,
  source     TEXT NOT NULL,  -- golden or first_results
  histogram  TEXT NOT NULL,  -- JSON: models::to_json(DriftHistogram)
  created_at TEXT NOT NULL,
  PRIMARY KEY (model, version)
) STRICT;
)sql"},
};

}  // namespace inferwatch::store
