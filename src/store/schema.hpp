#pragma once

// Schema migrations, applied in order; PRAGMA user_version records how many have run.

#include <array>
#include <string_view>

namespace inferwatch::store {

inline constexpr std::array<std::string_view, 1> k_migrations = {
    // 1: files (the backlog and each file's current version) and results (append-only).
    R"sql(
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
)sql",
};

}  // namespace inferwatch::store
