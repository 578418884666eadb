#include <inferwatch/pipeline/committer.hpp>

#include <inferwatch/util/json_text.hpp>
#include <inferwatch/util/log_fields.hpp>
#include <inferwatch/util/utf8.hpp>

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>

namespace inferwatch::pipeline {
namespace {

// One line per result: debug when ok, warning when an error, with the file as journal fields.
void log_result(const store::StoredResult& row) {
  const bool ok = row.status == "ok";
  if (!spdlog::should_log(ok ? spdlog::level::debug : spdlog::level::warn)) return;
  const util::ScopedLogFields fields{{"path", row.path},
                                     {"root", row.root},
                                     {"result_id", std::to_string(row.id)},
                                     {"status", row.status},
                                     {"error_code", row.error_code},
                                     {"model_version", row.model_version}};
  if (ok) {
    spdlog::debug("{}: result {} ok", util::quote_for_log(row.root + "/" + row.path), row.id);
    return;
  }
  boost::system::error_code ec;
  const auto json = boost::json::parse(row.json, ec);
  const auto* error = ec || !json.is_object() ? nullptr : json.as_object().if_contains("error");
  const auto* message =
      error && error->is_object() ? error->as_object().if_contains("message") : nullptr;
  spdlog::warn("{}: result {} is an error: {}: {}", util::quote_for_log(row.root + "/" + row.path),
               row.id, row.error_code,
               message && message->is_string() ? std::string(message->get_string()) : "");
}

double seconds(Committer::Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

Committer::Committer(store::Store& store, ResultIds& ids, results::SidecarSink& sidecars,
                     Options options, Listener listener, metrics::Metrics* metrics)
    : m_store(store),
      m_ids(ids),
      m_sidecars(sidecars),
      m_options(std::move(options)),
      m_listener(std::move(listener)),
      m_metrics(metrics) {}

util::Result<std::vector<Committer::Committed>> Committer::commit(std::vector<ItemPtr>& finished) {
  std::vector<Committed> out;
  if (m_unsaved) {
    auto saved = save();
    if (!saved) return saved.error();
    out.push_back(std::move(*saved));
  }
  if (finished.empty()) return out;
  auto round = prepare(finished);
  if (!round) return round.error();  // nothing taken from `finished`
  m_unsaved = std::move(*round);
  auto saved = save();
  if (!saved) return saved.error();  // the round waits in m_unsaved
  out.push_back(std::move(*saved));
  return out;
}

util::Result<Committer::Round> Committer::prepare(std::vector<ItemPtr>& finished) {
  const auto results = std::count_if(finished.begin(), finished.end(),
                                     [](const ItemPtr& item) { return item->has_result(); });
  // Ids first: if none can be had, nothing is taken and nothing written.
  if (auto reserved = m_ids.reserve(results); !reserved) return reserved.error();
  Round round;
  round.items = std::move(finished);
  finished.clear();
  round.write_started = Clock::now();
  std::vector<const util::RootDir*> sidecar_roots;  // per row: where its sidecar goes, or null
  for (auto& item : round.items) {
    const store::Job& job = item->job;
    if (item->vanished) {
      round.forgotten.emplace_back(job.file_id, job.generation);
      continue;
    }
    if (item->changed_to) {
      round.changed.push_back({job.root, job.path, *item->changed_to});
      continue;
    }
    results::Record& record = *item->record;
    record.id = m_ids.next();
    store::StoredResult row;
    row.id = *record.id;
    row.status = record.ok() ? "ok" : "error";
    row.error_code = record.ok() ? "" : record.error->code;
    row.model_version = record.model_version;
    row.created_at = record.created_at;
    row.json = util::to_json_text(results::to_json(record));
    row.file_id = job.file_id;
    row.generation = job.generation;
    row.root = job.root;
    row.path = job.path;
    row.version = job.version;
    if (item->shadow_record) {  // compared only: stored beside the result, never a sidecar
      row.shadow_json = util::to_json_text(results::to_json(*item->shadow_record));
      row.shadow_model_version = item->shadow_record->model_version;
      row.shadow_status = item->shadow_record->ok() ? "ok" : "error";
    }
    round.rows.push_back(std::move(row));
    sidecar_roots.push_back(m_options.sidecars ? item->root : nullptr);
  }
  write_sidecars(round, sidecar_roots);
  return round;
}

void Committer::write_sidecars(Round& round, const std::vector<const util::RootDir*>& roots) {
  std::vector<results::SidecarWrite> writes;
  std::vector<std::size_t> row_of;  // rows index of each write
  for (std::size_t i = 0; i < round.rows.size(); ++i) {
    if (!roots[i]) continue;
    writes.push_back({roots[i], round.rows[i].path + m_options.sidecar_suffix, round.rows[i].json});
    row_of.push_back(i);
  }
  if (writes.empty()) return;
  const auto written = m_sidecars.write(writes);
  for (std::size_t i = 0; i < written.size(); ++i) {
    if (written[i].ok()) continue;
    // The result cannot sit beside the image: the database keeps it, predictions and all, and
    // says why the sidecar is missing.
    store::StoredResult& row = round.rows[row_of[i]];
    boost::system::error_code ec;
    auto json = boost::json::parse(row.json, ec);
    if (!ec && json.is_object()) {
      json.as_object()["sidecar_error"] = {{"code", written[i].error().code},
                                           {"message", written[i].error().message}};
      row.json = util::to_json_text(json);
    }
    row.sidecar_missing = true;
    ++round.sidecars_missing;
    spdlog::warn("{}; the result is kept and the sidecar is written once the share allows",
                 util::quote_for_log(written[i].error().message));
  }
}

// Each step may be repeated after a failure: forgetting, recording and committing are idempotent
// for the same round.
util::Result<Committer::Committed> Committer::save() {
  Round& round = *m_unsaved;
  for (const auto& [file_id, generation] : round.forgotten) {
    if (auto r = m_store.forget(file_id, generation); !r) return r.error();
  }
  if (auto r = m_store.record(round.changed); !r) return r.error();
  if (auto r = m_store.commit(round.rows); !r) return r.error();
  const auto now = Clock::now();
  if (m_metrics && !round.rows.empty()) {
    m_metrics->stage(metrics::Stage::write, seconds(now - round.write_started));
    for (const auto& item : round.items) {
      if (item->has_result()) m_metrics->end_to_end(seconds(now - item->input.started));
    }
  }
  Committed committed;
  for (const auto& row : round.rows) {
    (row.status == "ok" ? committed.ok : committed.errors) += 1;
    if (m_metrics) m_metrics->result_stored(row.status == "ok");
    log_result(row);
    if (m_listener) m_listener(row.id, row.path, row.json);
  }
  committed.items = std::move(round.items);
  committed.sidecars_missing = round.sidecars_missing;
  m_unsaved.reset();
  return committed;
}

}  // namespace inferwatch::pipeline
