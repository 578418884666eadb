#include <inferwatch/store/model_catalog.hpp>

#include "store_error.hpp"

#include <inferwatch/store/database.hpp>

#include "side_connection.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

namespace inferwatch::store {
namespace {

constexpr std::array<std::pair<ModelVersionState, std::string_view>, 7> k_state_names{{
    {ModelVersionState::candidate, "candidate"},
    {ModelVersionState::live, "live"},
    {ModelVersionState::retired, "retired"},
    {ModelVersionState::refused, "refused"},
    {ModelVersionState::rolled_back, "rolled_back"},
    {ModelVersionState::waiting, "waiting"},
    {ModelVersionState::removed, "removed"},
}};

util::Result<util::UniqueFd> take_lock(const std::filesystem::path& database, CatalogLock kind,
                                       std::chrono::milliseconds wait) {
  if (kind == CatalogLock::none) return util::UniqueFd{};
  const std::filesystem::path path = catalog_lock_path(database);
  // Read-only is enough for flock, so an operator who may not write the file can still lock it.
  util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) {
    return util::Error{"lock_failed", fmt::format("cannot open the lock file {}: {}", path.string(),
                                                  std::strerror(errno))};
  }
  const int op = (kind == CatalogLock::exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (::flock(fd.get(), op) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) {
      return util::Error{"lock_failed",
                         fmt::format("cannot lock {}: {}", path.string(), std::strerror(errno))};
    }
    if (kind == CatalogLock::exclusive || std::chrono::steady_clock::now() >= deadline) {
      return util::Error{
          "catalog_locked",
          kind == CatalogLock::exclusive
              ? fmt::format("a daemon (inferwatch serve or scan) is using the database {} ({} is "
                            "locked): stop it first, or leave out --offline to go through it",
                            database.string(), path.string())
              : fmt::format("{} stayed locked by inferwatch models --offline for {} s",
                            path.string(), wait.count() / 1000)};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return fd;
}

}  // namespace

std::string_view to_string(ModelVersionState state) {
  for (const auto& [s, name] : k_state_names) {
    if (s == state) return name;
  }
  return "?";
}

std::optional<ModelVersionState> model_version_state_from(std::string_view text) {
  for (const auto& [s, name] : k_state_names) {
    if (name == text) return s;
  }
  return std::nullopt;
}

std::filesystem::path catalog_lock_path(const std::filesystem::path& database) {
  std::filesystem::path lock = database;
  lock += ".lock";
  return lock;
}

util::Result<std::unique_ptr<ModelCatalog>> ModelCatalog::open(const std::filesystem::path& path) {
  return open(path, Options{});
}

util::Result<std::unique_ptr<ModelCatalog>> ModelCatalog::open(const std::filesystem::path& path,
                                                               const Options& options) {
  auto lock = take_lock(path, options.lock, options.lock_wait);
  if (!lock) return lock.error();
  auto db = open_side_connection(path, options.busy_timeout);
  if (!db) return db.error();
  return std::unique_ptr<ModelCatalog>(new ModelCatalog(std::move(*db), std::move(*lock)));
}

ModelCatalog::ModelCatalog(std::unique_ptr<SQLite::Database> db, util::UniqueFd lock)
    : m_lock(std::move(lock)), m_db(std::move(db)) {}
ModelCatalog::~ModelCatalog() = default;

util::Result<std::vector<ModelVersionRow>> ModelCatalog::versions() {
  std::lock_guard lock(m_mutex);
  return guard(m_db->getHandle(), "reading the model versions", [&] {
    std::vector<ModelVersionRow> rows;
    SQLite::Statement q(*m_db, R"sql(
      SELECT model, version, dir, state, gate_json, rollout_json, created_at, updated_at
      FROM model_versions ORDER BY rowid)sql");
    while (q.executeStep()) {
      ModelVersionRow row;
      row.model = q.getColumn(0).getString();
      row.version = q.getColumn(1).getString();
      row.directory = q.getColumn(2).getString();
      const std::string state = q.getColumn(3).getString();
      const auto parsed = model_version_state_from(state);
      if (!parsed) {
        throw std::runtime_error(fmt::format("model {} version {} has an unknown state \"{}\"",
                                             row.model, row.version, state));
      }
      row.state = *parsed;
      row.gate_json = q.getColumn(4).getString();
      row.rollout_json = q.getColumn(5).getString();
      row.created_at = q.getColumn(6).getString();
      row.updated_at = q.getColumn(7).getString();
      rows.push_back(std::move(row));
    }
    return rows;
  });
}

util::Result<void> ModelCatalog::put(std::span<const ModelVersionRow> rows,
                                     const std::string& now) {
  if (rows.empty()) return {};
  std::lock_guard lock(m_mutex);
  return guard(m_db->getHandle(), fmt::format("storing {} model versions", rows.size()), [&] {
    SQLite::Transaction tx(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement upsert(*m_db, R"sql(
      INSERT INTO model_versions (model, version, dir, state, gate_json, rollout_json, created_at,
                                  updated_at)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
      ON CONFLICT (model, version) DO UPDATE SET
        dir = excluded.dir, state = excluded.state, gate_json = excluded.gate_json,
        rollout_json = excluded.rollout_json, updated_at = excluded.updated_at)sql");
    for (const ModelVersionRow& row : rows) {
      upsert.bind(1, row.model);
      upsert.bind(2, row.version);
      upsert.bind(3, row.directory);
      upsert.bind(4, std::string(to_string(row.state)));
      upsert.bind(5, row.gate_json);
      upsert.bind(6, row.rollout_json);
      upsert.bind(7, now);
      upsert.exec();
      upsert.reset();
    }
    tx.commit();
  });
}

}  // namespace inferwatch::store
