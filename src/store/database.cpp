#include <inferwatch/store/database.hpp>

#include "schema.hpp"
#include "store_error.hpp"
#include "stored_name.hpp"

#include <inferwatch/util/json_text.hpp>
#include <inferwatch/util/utf8.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <boost/json.hpp>

namespace inferwatch::store {
namespace {

FileVersion version_at(SQLite::Statement& q, int first) {
  return FileVersion{q.getColumn(first).getInt64(), q.getColumn(first + 1).getInt64(),
                     q.getColumn(first + 2).getInt64(), q.getColumn(first + 3).getInt64()};
}

void bind_version(SQLite::Statement& q, int first, const FileVersion& v) {
  q.bind(first, v.dev);
  q.bind(first + 1, v.inode);
  q.bind(first + 2, v.size);
  q.bind(first + 3, v.mtime_ns);
}

// Version 1 copied raw name bytes into the JSON text: read it leniently, then write it the way
// results::to_json and util::to_json_text do now (path, path_bytes right after it, every string
// valid UTF-8).
std::string convert_json(const std::string& text, const StoredName& name) {
  boost::json::parse_options lenient;
  lenient.allow_invalid_utf8 = true;
  boost::system::error_code ec;
  const boost::json::value old = boost::json::parse(text, ec, {}, lenient);
  if (ec || !old.is_object()) return util::to_valid_utf8(text);
  boost::json::object out;
  for (const auto& [key, value] : old.get_object()) {
    if (key == "path_bytes") continue;
    if (key == "path") {
      out["path"] = name.path;
      if (!name.bytes.empty()) out["path_bytes"] = util::base64_encode(name.bytes);
      continue;
    }
    out[key] = value;
  }
  return util::to_json_text(out);
}

}  // namespace

void convert_names(SQLite::Database& db) {
  // Collect first, update after: the scans never see their own updates.
  std::vector<std::pair<std::int64_t, std::string>> bad_files;
  SQLite::Statement files(db, "SELECT id, path FROM files");
  while (files.executeStep()) {
    std::string raw = files.getColumn(1).getString();
    if (!util::is_valid_utf8(raw)) bad_files.emplace_back(files.getColumn(0).getInt64(), raw);
  }
  SQLite::Statement fix_file(db, "UPDATE files SET path = ?1, path_bytes = ?2 WHERE id = ?3");
  for (const auto& [id, raw] : bad_files) {
    const StoredName name = stored_name(raw);
    fix_file.bind(1, name.path);
    bind_bytes(fix_file, 2, name.bytes);
    fix_file.bind(3, id);
    fix_file.exec();
    fix_file.reset();
  }
  struct BadResult {
    std::int64_t id;
    std::string path;
    std::string json;
  };
  std::vector<BadResult> bad_results;
  SQLite::Statement results(db, "SELECT id, path, json FROM results");
  while (results.executeStep()) {
    std::string raw = results.getColumn(1).getString();
    std::string json = results.getColumn(2).getString();
    if (util::is_valid_utf8(raw) && util::is_valid_utf8(json)) continue;
    bad_results.push_back({results.getColumn(0).getInt64(), std::move(raw), std::move(json)});
  }
  SQLite::Statement fix_result(
      db, "UPDATE results SET path = ?1, path_bytes = ?2, json = ?3 WHERE id = ?4");
  for (const auto& bad : bad_results) {
    const StoredName name = stored_name(bad.path);
    fix_result.bind(1, name.path);
    bind_bytes(fix_result, 2, name.bytes);
    fix_result.bind(3, convert_json(bad.json, name));
    fix_result.bind(4, bad.id);
    fix_result.exec();
    fix_result.reset();
  }
}

util::Result<std::unique_ptr<Database>> Database::open(const std::filesystem::path& path) {
  return open(path, Options{});
}

util::Result<std::unique_ptr<Database>> Database::open(const std::filesystem::path& path,
                                                       const Options& options) {
  try {
    auto db = std::make_unique<SQLite::Database>(path.string(),
                                                 SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db->setBusyTimeout(static_cast<int>(options.busy_timeout.count()));
    db->exec("PRAGMA journal_mode = WAL");
    // NORMAL in WAL survives process crashes; see the header for power loss.
    db->exec("PRAGMA synchronous = NORMAL");
    std::unique_ptr<Database> out(new Database(std::move(db)));
    out->migrate();
    return out;
  } catch (const std::exception& e) {  // SQLite::Exception, or a schema from a newer inferwatch
    return util::Error{"database_unusable",
                       fmt::format("database {}: {}", path.string(), e.what())};
  }
}

Database::Database(std::unique_ptr<SQLite::Database> db) : m_db(std::move(db)) {}
Database::~Database() = default;

static_assert(k_migrations.size() == Database::k_schema_version);

void Database::migrate() {
  const int version = m_db->execAndGet("PRAGMA user_version").getInt();
  if (version > static_cast<int>(k_migrations.size())) {
    throw std::runtime_error(
        fmt::format("schema version {} was written by a newer inferwatch (this one knows up to {})",
                    version, k_migrations.size()));
  }
  for (std::size_t i = static_cast<std::size_t>(version); i < k_migrations.size(); ++i) {
    SQLite::Transaction tx(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    m_db->exec(std::string(k_migrations[i].sql));
    if (k_migrations[i].convert) k_migrations[i].convert(*m_db);
    m_db->exec(fmt::format("PRAGMA user_version = {}", i + 1));
    tx.commit();
  }
  m_next_seq = m_db->execAndGet("SELECT COALESCE(MAX(queue_seq), 0) + 1 FROM files").getInt64();
}

util::Result<std::size_t> Database::record(std::span<const FileSighting> sightings) {
  if (sightings.empty()) return std::size_t{0};
  const std::string what = fmt::format("recording {} file sightings", sightings.size());
  return guard(m_db->getHandle(), what, [&] {
    SQLite::Transaction tx(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    // A new version bumps the generation and goes to the back of the backlog.
    SQLite::Statement upsert(*m_db, R"sql(
      INSERT INTO files (root, path, path_bytes, dev, inode, size, mtime_ns, generation, done,
                         queue_seq)
      VALUES (?1, ?2, ?8, ?3, ?4, ?5, ?6, 1, 0, ?7)
      ON CONFLICT (root, path, path_bytes) DO UPDATE SET
        dev = excluded.dev, inode = excluded.inode, size = excluded.size,
        mtime_ns = excluded.mtime_ns, generation = generation + 1, done = 0,
        queue_seq = excluded.queue_seq, attempts = 0
      WHERE dev != excluded.dev OR inode != excluded.inode OR size != excluded.size
         OR mtime_ns != excluded.mtime_ns)sql");
    // Queue positions are taken for good only when the transaction commits.
    std::int64_t next_seq = m_next_seq;
    std::size_t changed = 0;
    for (const auto& s : sightings) {
      const StoredName name = stored_name(s.path);
      upsert.bind(1, s.root);
      upsert.bind(2, name.path);
      bind_version(upsert, 3, s.version);
      upsert.bind(7, next_seq);
      bind_bytes(upsert, 8, name.bytes);
      if (upsert.exec() > 0) {
        ++changed;
        ++next_seq;
      }
      upsert.reset();
    }
    tx.commit();
    m_next_seq = next_seq;
    return changed;
  });
}

util::Result<std::vector<Job>> Database::pending(std::size_t limit) {
  return guard(m_db->getHandle(), "listing pending jobs", [&] {
    SQLite::Statement q(*m_db, R"sql(
      SELECT id, generation, root, path, path_bytes, dev, inode, size, mtime_ns, attempts
      FROM files WHERE done = 0 ORDER BY queue_seq LIMIT ?1)sql");
    q.bind(1, static_cast<std::int64_t>(limit));
    std::vector<Job> jobs;
    while (q.executeStep()) {
      Job job;
      job.file_id = q.getColumn(0).getInt64();
      job.generation = q.getColumn(1).getInt64();
      job.root = q.getColumn(2).getString();
      job.path = raw_name(q, 3);
      job.version = version_at(q, 5);
      job.attempts = q.getColumn(9).getInt();
      jobs.push_back(std::move(job));
    }
    return jobs;
  });
}

util::Result<std::int64_t> Database::pending_count() {
  return guard(m_db->getHandle(), "counting pending jobs", [&] {
    return m_db->execAndGet("SELECT COUNT(*) FROM files WHERE done = 0").getInt64();
  });
}

util::Result<std::int64_t> Database::reserve_ids(std::int64_t n) {
  const std::string what = fmt::format("reserving {} result ids", n);
  return guard(m_db->getHandle(), what, [&] {
    // Reservations must survive power loss too (ids are never reused): sync this commit fully,
    // and go back to NORMAL however the reservation ends.
    m_db->exec("PRAGMA synchronous = FULL");
    struct BackToNormal {
      SQLite::Database& db;
      ~BackToNormal() { db.tryExec("PRAGMA synchronous = NORMAL"); }
    } back_to_normal{*m_db};
    SQLite::Transaction tx(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    const std::int64_t first =
        m_db->execAndGet("SELECT value FROM counters WHERE name = 'next_result_id'").getInt64();
    SQLite::Statement bump(*m_db, "UPDATE counters SET value = ?1 WHERE name = 'next_result_id'");
    bump.bind(1, first + n);
    bump.exec();
    tx.commit();
    return first;
  });
}

util::Result<void> Database::count_attempts(std::span<const std::int64_t> file_ids) {
  if (file_ids.empty()) return {};
  const std::string what = fmt::format("counting attempts of {} files", file_ids.size());
  return guard(m_db->getHandle(), what, [&] {
    SQLite::Transaction tx(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement bump(*m_db, "UPDATE files SET attempts = attempts + 1 WHERE id = ?1");
    for (const std::int64_t id : file_ids) {
      bump.bind(1, id);
      bump.exec();
      bump.reset();
    }
    tx.commit();
  });
}

util::Result<void> Database::release_ids(std::int64_t next, std::int64_t end) {
  return guard(m_db->getHandle(), "releasing unused result ids", [&] {
    SQLite::Statement release(
        *m_db, "UPDATE counters SET value = ?1 WHERE name = 'next_result_id' AND value = ?2");
    release.bind(1, next);
    release.bind(2, end);
    release.exec();
  });
}

util::Result<void> Database::commit(std::span<const StoredResult> results) {
  if (results.empty()) return {};
  const std::string what = fmt::format("committing {} results", results.size());
  return guard(m_db->getHandle(), what, [&] {
    SQLite::Transaction tx(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement insert(*m_db, R"sql(
      INSERT INTO results (id, file_id, root, path, path_bytes, dev, inode, size, mtime_ns, status,
                           error_code, model_version, created_at, json)
      VALUES (?1, ?2, ?3, ?4, ?14, ?5, ?6, ?7, ?8, ?9, NULLIF(?10, ''), ?11, ?12, ?13))sql");
    SQLite::Statement done(*m_db, R"sql(
      UPDATE files SET done = 1, result_id = ?1, attempts = 0, sidecar_missing = ?4
      WHERE id = ?2 AND generation = ?3)sql");
    SQLite::Statement shadow(*m_db, R"sql(
      INSERT INTO shadow_results (result_id, model_version, status, created_at, json)
      VALUES (?1, ?2, ?3, ?4, ?5))sql");
    for (const auto& r : results) {
      const StoredName name = stored_name(r.path);
      insert.bind(1, r.id);
      insert.bind(2, r.file_id);
      insert.bind(3, r.root);
      insert.bind(4, name.path);
      bind_bytes(insert, 14, name.bytes);
      bind_version(insert, 5, r.version);
      insert.bind(9, r.status);
      insert.bind(10, r.error_code);
      insert.bind(11, r.model_version);
      insert.bind(12, r.created_at);
      // Readers decode this column strictly (REST, WebSocket, sqlite3 clients): never store bytes
      // that are not UTF-8, whoever built the text (an adopted sidecar, say).
      if (util::is_valid_utf8(r.json)) {
        insert.bind(13, r.json);
      } else {
        insert.bind(13, util::to_valid_utf8(r.json));
      }
      insert.exec();
      insert.reset();
      done.bind(1, r.id);
      done.bind(2, r.file_id);
      done.bind(3, r.generation);
      done.bind(4, r.sidecar_missing ? 1 : 0);
      done.exec();
      done.reset();
      if (!r.shadow_json.empty()) {
        shadow.bind(1, r.id);
        shadow.bind(2, r.shadow_model_version);
        shadow.bind(3, r.shadow_status);
        shadow.bind(4, r.created_at);
        shadow.bind(5, util::to_valid_utf8(r.shadow_json));
        shadow.exec();
        shadow.reset();
      }
    }
    tx.commit();
  });
}

util::Result<std::optional<FileState>> Database::file_state(const std::string& root,
                                                            const std::string& path) {
  return guard(m_db->getHandle(), "looking up a file's state", [&]() -> std::optional<FileState> {
    SQLite::Statement q(*m_db, R"sql(
      SELECT id, dev, inode, size, mtime_ns, done, COALESCE(result_id, 0), sidecar_missing
      FROM files WHERE root = ?1 AND path = ?2 AND path_bytes = ?3)sql");
    const StoredName name = stored_name(path);
    q.bind(1, root);
    q.bind(2, name.path);
    bind_bytes(q, 3, name.bytes);
    if (!q.executeStep()) return std::nullopt;
    return FileState{q.getColumn(0).getInt64(), version_at(q, 1), q.getColumn(5).getInt() != 0,
                     q.getColumn(6).getInt64(), q.getColumn(7).getInt() != 0};
  });
}

util::Result<std::vector<MissingSidecar>> Database::missing_sidecars(std::size_t limit) {
  return guard(m_db->getHandle(), "listing missing sidecars", [&] {
    SQLite::Statement q(*m_db, R"sql(
      SELECT f.id, r.id, f.root, f.path, f.path_bytes, f.dev, f.inode, f.size, f.mtime_ns, r.json
      FROM files f JOIN results r ON r.id = f.result_id
      WHERE f.sidecar_missing = 1 AND f.done = 1 ORDER BY f.id LIMIT ?1)sql");
    q.bind(1, static_cast<std::int64_t>(limit));
    std::vector<MissingSidecar> out;
    while (q.executeStep()) {
      MissingSidecar m;
      m.file_id = q.getColumn(0).getInt64();
      m.result_id = q.getColumn(1).getInt64();
      m.root = q.getColumn(2).getString();
      m.path = raw_name(q, 3);
      m.version = version_at(q, 5);
      m.json = q.getColumn(9).getString();
      out.push_back(std::move(m));
    }
    return out;
  });
}

util::Result<void> Database::sidecar_written(std::int64_t file_id, std::int64_t result_id,
                                             const std::string& json) {
  const std::string what = fmt::format("marking the sidecar of result {} written", result_id);
  return guard(m_db->getHandle(), what, [&] {
    SQLite::Transaction tx(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement unmark(
        *m_db, "UPDATE files SET sidecar_missing = 0 WHERE id = ?1 AND result_id = ?2");
    unmark.bind(1, file_id);
    unmark.bind(2, result_id);
    unmark.exec();
    SQLite::Statement update(*m_db, "UPDATE results SET json = ?1 WHERE id = ?2");
    update.bind(1, json);
    update.bind(2, result_id);
    update.exec();
    tx.commit();
  });
}

util::Result<std::optional<std::string>> Database::current_result(const std::string& root,
                                                                  const std::string& path) {
  const auto read = [&]() -> std::optional<std::string> {
    SQLite::Statement q(*m_db, R"sql(
      SELECT r.json FROM files f JOIN results r ON r.id = f.result_id
      WHERE f.root = ?1 AND f.path = ?2 AND f.path_bytes = ?3)sql");
    const StoredName name = stored_name(path);
    q.bind(1, root);
    q.bind(2, name.path);
    bind_bytes(q, 3, name.bytes);
    if (!q.executeStep()) return std::nullopt;
    return q.getColumn(0).getString();
  };
  return guard(m_db->getHandle(), "reading a file's current result", read);
}

// A result someone gave feedback on stays too: it is a labelled example (the export's and the
// quality numbers' source), and people give feedback slowly enough that these few rows never
// defeat the retention.
util::Result<std::int64_t> Database::delete_results_before(const std::string& cutoff) {
  const std::string what = fmt::format("deleting results created before {}", cutoff);
  return guard(m_db->getHandle(), what, [&] {
    SQLite::Statement q(*m_db, R"sql(
      DELETE FROM results WHERE created_at < ?1
        AND id NOT IN (SELECT result_id FROM files WHERE result_id IS NOT NULL)
        AND id NOT IN (SELECT result_id FROM feedback))sql");
    q.bind(1, cutoff);
    SQLite::Transaction tx(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    const auto deleted = static_cast<std::int64_t>(q.exec());
    // Shadow results go with the result they were compared with.
    m_db->exec("DELETE FROM shadow_results WHERE result_id NOT IN (SELECT id FROM results)");
    tx.commit();
    return deleted;
  });
}

util::Result<void> Database::forget(std::int64_t file_id, std::int64_t generation) {
  return guard(m_db->getHandle(), "forgetting a vanished file", [&] {
    SQLite::Statement q(*m_db, "DELETE FROM files WHERE id = ?1 AND generation = ?2");
    q.bind(1, file_id);
    q.bind(2, generation);
    q.exec();
  });
}

util::Result<std::int64_t> Database::result_count() {
  return guard(m_db->getHandle(), "counting results",
               [&] { return m_db->execAndGet("SELECT COUNT(*) FROM results").getInt64(); });
}

}  // namespace inferwatch::store
