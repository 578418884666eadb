#include <inferwatch/pipeline/pipeline.hpp>
#include <inferwatch/util/thread_name.hpp>

#include <inferwatch/infer/prepared_input.hpp>
#include <inferwatch/pipeline/backoff.hpp>
#include <inferwatch/pipeline/batcher.hpp>
#include <inferwatch/pipeline/core_budget.hpp>
#include <inferwatch/pipeline/crash_guard.hpp>
#include <inferwatch/pipeline/decode_arena.hpp>
#include <inferwatch/pipeline/settler.hpp>
#include <inferwatch/results/record_builder.hpp>
#include <inferwatch/results/sidecar_writer.hpp>
#include <inferwatch/util/json_text.hpp>
#include <inferwatch/util/log_fields.hpp>
#include <inferwatch/util/root_dir.hpp>
#include <inferwatch/util/sha256.hpp>
#include <inferwatch/util/time.hpp>
#include <inferwatch/util/utf8.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_set>

namespace inferwatch::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::int64_t k_id_block = 1024;  // result ids reserved per database round trip
constexpr std::size_t k_candidates_per_round = 4096;
constexpr std::size_t k_max_candidates = 4 * k_candidates_per_round;  // before scans wait
// A file whose processing stopped the daemon this many times (a crash, or the out-of-memory
// killer) gets an error result instead of another try, until it changes.
constexpr int k_max_attempts = 2;

// One job's trip through the pipeline. Exactly one outcome is set when it comes back.
struct WorkItem {
  store::Job job;
  const util::RootDir* root = nullptr;  // the watch root the job's path is relative to
  Clock::time_point fed;
  Clock::time_point decode_started;
  std::shared_ptr<Engine> engine;  // the model this item is prepared for, from decode to result
  infer::PreparedInput prepared;
  std::optional<results::Record> record;         // a result to commit (ok or error)
  std::optional<store::FileVersion> changed_to;  // the file changed: no result for this version
  bool vanished = false;                         // the file is gone: no result
  std::function<void(results::Record)> reply;    // interactive: answer here, store nothing
};

using ItemPtr = std::unique_ptr<WorkItem>;

// Finished items turned into what the store must record: rows with their ids and sidecars
// written, new versions seen, files gone. Kept whole until the database has taken it.
struct Outcomes {
  std::vector<ItemPtr> items;
  std::vector<store::StoredResult> rows;
  std::vector<store::FileSighting> changed;
  std::vector<std::pair<std::int64_t, std::int64_t>> forgotten;  // file id, generation
  Clock::time_point write_started;
};

constexpr auto k_sidecar_retry_min = std::chrono::seconds(1);
constexpr auto k_sidecar_retry_max = std::chrono::minutes(5);
constexpr std::size_t k_sidecar_retries_per_round = 64;
constexpr auto k_store_backoff_min = std::chrono::milliseconds(100);
constexpr auto k_stop_margin = std::chrono::milliseconds(500);  // past the drain deadline
constexpr auto k_store_backoff_max = std::chrono::milliseconds(5000);

}  // namespace

class Pipeline::Impl {
 public:
  Impl(const config::Config& config, std::vector<std::filesystem::path> roots, store::Store& db,
       std::shared_ptr<Engine> engine, Listener listener, metrics::Metrics* metrics)
      : m_config(config),
        m_roots(open_roots(roots)),
        m_db(db),
        m_listener(std::move(listener)),
        m_metrics(metrics),
        m_engine(std::move(engine)),
        m_settler(std::chrono::milliseconds(config.watch.settle_ms)),
        m_capacity(in_flight_capacity(config.batching.max_batch_size)),
        // A partial batch waits for max_delay only while more files are being decoded: at light
        // load a lone file goes straight to the model.
        m_batcher(
            static_cast<std::size_t>(config.batching.max_batch_size),
            std::chrono::milliseconds(config.batching.max_delay_ms),
            [this](std::vector<ItemPtr> batch) { run_batch(std::move(batch)); },
            [this] { return m_decoding.load() > 0; }, [this] { warm_up_this_thread(); }) {
    for (const auto& root : roots) m_root_names.push_back(root.string());
  }

  // After an abandoned stop, threads still use this object: the process exits instead (see
  // Pipeline::stop).
  ~Impl() { stop(std::chrono::milliseconds(0)); }

  // Roots are held open for the pipeline's life: every file is reached beneath one of them.
  static std::vector<util::RootDir> open_roots(const std::vector<std::filesystem::path>& roots) {
    std::vector<util::RootDir> out;
    for (const auto& root : roots) {
      auto dir = util::RootDir::open(root);
      if (!dir) throw std::runtime_error(dir.error().message);
      out.push_back(std::move(*dir));
    }
    return out;
  }

  // The root a stored job belongs to (jobs keep the root's absolute path), or nullptr when that
  // root is no longer watched.
  const util::RootDir* root_named(const std::string& name) const {
    for (std::size_t i = 0; i < m_root_names.size(); ++i) {
      if (m_root_names[i] == name) return &m_roots[i];
    }
    return nullptr;
  }

  // Touches no database: ids are reserved with the first results, so a store that is busy or
  // failing at startup delays results instead of failing the start.
  void start() {
    m_thread = std::thread([this] {
      util::name_this_thread("iw-store");
      store_loop();
    });
  }

  void add(std::vector<watch::Candidate> candidates) {
    const bool from_scan =
        std::all_of(candidates.begin(), candidates.end(),
                    [](const watch::Candidate& c) { return c.origin == watch::Origin::scan; });
    {
      std::unique_lock lock(m_mutex);
      // A scan may list millions of files: it waits here until the store thread has taken
      // what came before, so memory stays bounded. Events come at the pace people save files
      // (and beyond inotify's own queue they become a scan), so they are never held up.
      if (from_scan) {
        m_room.wait(lock, [&] {
          return m_stopping || m_intake_closed || m_candidates.size() < k_max_candidates;
        });
      }
      if (m_intake_closed) return;  // shutting down: the next start's scan finds them
      m_candidates.insert(m_candidates.end(), std::make_move_iterator(candidates.begin()),
                          std::make_move_iterator(candidates.end()));
    }
    m_changed.notify_one();
  }

  bool stop(std::chrono::milliseconds timeout) {
    {
      std::lock_guard lock(m_mutex);
      if (m_stopping) return !m_abandoned;
      m_stopping = true;
      m_deadline = Clock::now() + timeout;
    }
    m_changed.notify_one();
    m_room.notify_all();
    if (m_thread.joinable()) m_thread.join();
    // A decode (a huge image, a read from a hung network mount) or a forward cannot be
    // interrupted: wait for them only until shortly after the drain deadline. Their files were
    // not committed, so they stay queued for the next run.
    const auto limit = std::max(Clock::now(), m_deadline) + k_stop_margin;
    while ((m_decoding.load() > 0 || m_forward_started.load() != 0) && Clock::now() < limit) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (m_decoding.load() > 0 || m_forward_started.load() != 0) {
      spdlog::warn(
          "stopping without waiting for {} decode(s){} still running past the drain "
          "deadline; their files stay queued",
          m_decoding.load(), m_forward_started.load() != 0 ? " and a model forward" : "");
      m_abandoned = true;
      return false;
    }
    m_batcher.stop();
    return true;
  }

  void use_engine(std::shared_ptr<Engine> engine) {
    std::lock_guard lock(m_engine_mutex);
    m_engine = std::move(engine);
  }

  std::shared_ptr<Engine> engine() const {
    std::lock_guard lock(m_engine_mutex);
    return m_engine;
  }

  std::optional<std::string> stalled(std::chrono::milliseconds limit) const {
    const auto now = Clock::now().time_since_epoch().count();
    const auto limit_ticks = std::chrono::duration_cast<Clock::duration>(limit).count();
    const auto forward = m_forward_started.load();
    if (forward != 0 && now - forward > limit_ticks) {
      return fmt::format(
          "a model forward has been running for {} s",
          (now - forward) /
              std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(1)).count());
    }
    if (m_thread.joinable() && now - m_store_turn.load() > limit_ticks) {
      return std::string("the store thread has not turned for longer than the watchdog limit");
    }
    return std::nullopt;
  }

  bool infer_now(std::string bytes, std::function<void(results::Record)> reply) {
    if (m_interactive.fetch_add(1) >= m_capacity) {
      --m_interactive;
      return false;
    }
    auto item = std::make_unique<WorkItem>();
    item->job.path = "upload";
    item->fed = Clock::now();
    item->reply = std::move(reply);
    run_on_pool(std::move(item), [this, bytes = std::move(bytes)](ItemPtr& owned) {
      owned->decode_started = Clock::now();
      owned->engine = engine();
      owned->prepared = infer::prepare_input(bytes, owned->engine->preprocessor());
      if (!owned->prepared.input) return fail(owned, owned->prepared.input.error());
      m_batcher.submit(std::move(owned), Lane::interactive);
    });
    return true;
  }

  void close_intake() {
    {
      std::lock_guard lock(m_mutex);
      m_intake_closed = true;
    }
    m_room.notify_all();
  }

  std::optional<std::string> store_problem() const {
    std::lock_guard lock(m_problem_mutex);
    return m_store_problem;
  }

  bool idle() const {
    std::lock_guard lock(m_mutex);
    return !m_busy && m_candidates.empty() && m_done.empty() && m_pending == 0 && m_settling == 0 &&
           m_in_flight == 0;
  }

  PipelineStats stats() const {
    std::lock_guard lock(m_mutex);
    return PipelineStats{m_detected, m_ok, m_errors, m_pending, m_in_flight, m_settling};
  }

 private:
  // ---- store thread ------------------------------------------------------------------------

  void store_loop() {
    std::unique_lock lock(m_mutex);
    for (;;) {
      m_store_turn = Clock::now().time_since_epoch().count();
      const auto now = Clock::now();
      const bool backing_off = m_store_backoff.waiting(now);
      auto wake = std::min(now + std::chrono::milliseconds(200), m_sidecar_retry_at);
      if (const auto due = m_settler.next_due()) wake = std::min(wake, *due);
      if (backing_off) {
        // The store failed: wait out the backoff (new work waits in memory meanwhile).
        m_changed.wait_until(lock, m_store_backoff.retry_at());
      } else {
        m_changed.wait_until(
            lock, wake, [&] { return m_stopping || !m_candidates.empty() || !m_done.empty(); });
      }
      const bool stopping = m_stopping;
      if (m_store_backoff.waiting(Clock::now())) {
        if (stopping && Clock::now() >= m_deadline) return stop_now();
        continue;
      }
      // A startup scan of a big tree arrives as one flood: take it in slices, so the work (and
      // the memory) of one round stays bounded and commits keep flowing in between.
      std::vector<watch::Candidate> candidates;
      if (m_candidates.size() <= k_candidates_per_round) {
        candidates.swap(m_candidates);
      } else {
        const auto end = m_candidates.begin() + k_candidates_per_round;
        candidates.assign(std::make_move_iterator(m_candidates.begin()),
                          std::make_move_iterator(end));
        m_candidates.erase(m_candidates.begin(), end);
      }
      m_room.notify_all();
      for (auto& item : m_done) m_waiting.push_back(std::move(item));
      m_done.clear();
      m_busy = true;  // until the counts below are published, idle() must not say yes
      lock.unlock();
      bool taken = false;
      try {
        commit();
        if (!stopping) {
          apply_retention();
          take(candidates);
          taken = true;
          settle();
          feed();
          retry_sidecars();
        }
        publish_counts();
        store_recovered();
      } catch (const std::exception& e) {
        store_failed(e.what());
      }
      lock.lock();
      if (!taken && !stopping) {  // nothing of them was recorded: they go first next time
        m_candidates.insert(m_candidates.begin(), std::make_move_iterator(candidates.begin()),
                            std::make_move_iterator(candidates.end()));
      }
      m_busy = false;
      if (stopping && m_done.empty() && (m_in_flight == 0 || Clock::now() >= m_deadline)) {
        return stop_now();
      }
    }
  }

  // m_mutex must be held.
  void stop_now() {
    if (m_in_flight > 0)
      spdlog::warn("stopping with {} file(s) unfinished; they stay queued", m_in_flight);
    if (!m_store_backoff.failing()) release_unused_ids();
  }

  // The database refused a round (busy past its timeout, full, I/O error). Nothing is lost:
  // candidates, sightings and finished results wait in memory and are retried with backoff.
  // One error line per episode, not one per round.
  void store_failed(const std::string& what) {
    if (m_metrics) m_metrics->store_failure();
    if (!m_store_backoff.failed(Clock::now())) return;
    spdlog::error("store: {}; retrying with backoff, files wait until it works again", what);
    std::lock_guard lock(m_problem_mutex);
    m_store_problem = fmt::format("the database is failing: {}", what);
  }

  void store_recovered() {
    const auto lasted = m_store_backoff.succeeded(Clock::now());
    if (!lasted) return;
    spdlog::info("store: working again after {:.1f} s",
                 std::chrono::duration<double>(*lasted).count());
    std::lock_guard lock(m_problem_mutex);
    m_store_problem.reset();
  }

  // Events mean the writer is done: record now. Scan finds wait until stable, unless known.
  void take(const std::vector<watch::Candidate>& candidates) {
    if (candidates.empty()) return;
    const auto now = Clock::now();
    std::vector<store::FileSighting> sightings;
    for (const auto& c : candidates) {
      // Anything but a directory is recorded: a symlink, FIFO or socket at an image's name gets
      // its error result once (decode refuses it), instead of being silently ignored.
      const auto entry = m_roots[c.root].entry(c.path);
      if (!entry || entry->type == util::EntryType::directory) continue;  // gone, or unsafe
      const store::FileVersion version = entry->version;
      if (c.origin == watch::Origin::scan) {
        const auto known = m_db.file_state(m_root_names[c.root], c.path);
        if (known && known->version == version) {                // pending or done already
          if (known->sidecar_missing) m_sidecar_retry_at = now;  // a scan passing by retries it
          continue;
        }
        m_settler.hold({c.root, c.path}, version, now);
      } else {
        sightings.push_back({m_root_names[c.root], c.path, version});
      }
    }
    m_db.record(sightings);
    if (m_metrics) m_metrics->file_detected(candidates.size());
    std::lock_guard lock(m_mutex);
    m_detected += candidates.size();
  }

  void settle() {
    if (!m_unrecorded.empty()) {  // stable files a failed round could not record
      m_db.record(m_unrecorded);
      m_unrecorded.clear();
    }
    const auto ready = m_settler.due(
        Clock::now(), [this](const Settler::Key& key) -> std::optional<store::FileVersion> {
          const auto entry = m_roots[key.first].entry(key.second);
          if (!entry || entry->type == util::EntryType::directory) return std::nullopt;
          return entry->version;
        });
    for (const auto& r : ready) {
      m_unrecorded.push_back({m_root_names[r.key.first], r.key.second, r.version});
      if (m_metrics)
        m_metrics->stage(metrics::Stage::settle, std::chrono::duration<double>(r.waited).count());
    }
    m_db.record(m_unrecorded);
    m_unrecorded.clear();
  }

  // Keep at most m_capacity jobs in memory; the rest of the backlog waits in SQLite. A file is
  // in flight at most once: a newer version waits until the older one's outcome is back.
  //
  // Each job's attempt is counted durably before it is decoded, and the count goes back to zero
  // with its outcome, so a count left over at startup means the daemon died with that file in
  // flight. Such a suspect runs alone: if it takes the daemon down again, the count says which
  // file did it, and the next start gives it an error result instead of a third try. Files that
  // were merely in flight beside the culprit pass their solo run and go back to normal.
  void feed() {
    if (m_in_flight >= m_capacity || m_crash_guard.alone()) return;
    auto jobs = m_db.pending(static_cast<std::size_t>(m_capacity + m_in_flight));
    std::vector<ItemPtr> items;
    std::vector<std::int64_t> counted;
    for (auto& job : jobs) {
      const auto busy = m_in_flight + static_cast<std::int64_t>(items.size());
      if (busy >= m_capacity) break;
      if (m_in_flight_files.contains(job.file_id)) continue;
      const auto verdict = m_crash_guard.judge(job, busy);
      if (verdict == CrashGuard::Verdict::wait) break;  // keeps backlog order
      auto item = std::make_unique<WorkItem>();
      item->root = root_named(job.root);
      item->job = std::move(job);
      item->fed = Clock::now();
      if (verdict != CrashGuard::Verdict::give_up) counted.push_back(item->job.file_id);
      items.push_back(std::move(item));
      if (verdict == CrashGuard::Verdict::start_alone) {
        m_crash_guard.running_alone(items.back()->job.file_id);
        spdlog::warn("{}: the daemon stopped while this file was being processed; trying it alone",
                     quoted(*items.back()));
        break;
      }
    }
    m_db.count_attempts(counted);  // durable before any of them is decoded
    {
      std::lock_guard lock(m_mutex);
      m_in_flight += static_cast<std::int64_t>(items.size());
    }
    for (auto& item : items) {
      m_in_flight_files.insert(item->job.file_id);
      if (item->job.attempts >= m_crash_guard.max_attempts()) {
        const int attempts = item->job.attempts;
        fail(item, util::Error{"decode_crashed",
                               fmt::format("processing this file stopped the daemon {} times (a "
                                           "crash or the out-of-memory killer); it is not tried "
                                           "again until it changes",
                                           attempts)});
        continue;
      }
      run_on_pool(std::move(item), [this](ItemPtr& owned) { decode(owned); });
    }
  }

  // The job's file as a log shows it: root/path, quoted when the name needs it.
  static std::string quoted(const WorkItem& item) {
    return util::quote_for_log(item.job.root + "/" + item.job.path);
  }

  // Run `work` on the decode pool. `work` hands the item on; if it throws instead, the item
  // comes back as an error result: no worker dies, no item is lost.
  void run_on_pool(ItemPtr item, std::function<void(ItemPtr&)> work) {
    ++m_decoding;
    m_arena.enqueue([this, raw = item.release(), work = std::move(work)] {
      ItemPtr owned(raw);
      try {
        const CoreBudget::Decode core(m_cores);
        work(owned);
      } catch (const std::exception& e) {
        spdlog::error("{}: decode task failed: {}", owned ? quoted(*owned) : "?", e.what());
        if (owned) fail(owned, util::Error{"internal_error", e.what()});
      }
      if (--m_decoding == 0) m_batcher.poke();
    });
  }

  // Hand `item` back with an error result.
  void fail(ItemPtr& item, util::Error error) {
    const infer::PreparedInput* prepared =
        item->prepared.sha256.empty() ? nullptr : &item->prepared;
    if (!item->engine) item->engine = engine();
    item->record = item->engine->builder().failed(item->job.path, prepared, std::move(error),
                                                  timings(*item, 0));
    finish(std::move(item));
  }

  // After a clean stop the next run starts right above the highest committed id: ids stay dense
  // across clean restarts (a crash leaves the rest of its block unused: ids are never reused).
  void release_unused_ids() {
    if (m_next_id == m_id_end) return;  // nothing reserved, or all of it used
    try {
      m_db.release_ids(m_next_id, m_id_end);
    } catch (const std::exception& e) {
      spdlog::warn("store: could not release unused result ids: {}", e.what());
    }
  }

  // At least `n` ids left in the reserved block (a fresh block when not: ids may skip).
  void reserve_ids(std::int64_t n) {
    if (m_id_end - m_next_id >= n) return;
    const std::int64_t size = std::max(k_id_block, n);
    m_next_id = m_db.reserve_ids(size);
    m_id_end = m_next_id + size;
  }

  // Sidecars first, then the rows and "done" states in one transaction, then the listener.
  // Ids are taken and sidecars written once; if the database then fails, exactly those rows wait
  // in memory (their files stay "in flight", so nothing decodes them again) and are committed on
  // a later round, before anything newer, so ids stay in commit order.
  void commit() {
    if (m_unsaved) save();
    if (m_waiting.empty()) return;
    m_unsaved = prepare();
    save();
  }

  // Results of `m_waiting` as rows with ids, their sidecars written. Throws before taking any
  // item when no ids can be reserved; nothing is lost then.
  Outcomes prepare() {
    const auto results = std::count_if(m_waiting.begin(), m_waiting.end(), [](const ItemPtr& i) {
      return !i->vanished && !i->changed_to;
    });
    reserve_ids(results);
    Outcomes out;
    out.items = std::move(m_waiting);
    m_waiting.clear();
    std::vector<results::SidecarWrite> sidecars;
    std::vector<std::size_t> sidecar_row;           // rows index of each sidecar
    std::vector<boost::json::object> sidecar_json;  // its JSON, to amend if it cannot be written
    for (auto& item : out.items) {
      const store::Job& job = item->job;
      if (item->vanished) {
        out.forgotten.emplace_back(job.file_id, job.generation);
        continue;
      }
      if (item->changed_to) {
        out.changed.push_back({job.root, job.path, *item->changed_to});
        continue;
      }
      store::StoredResult row;
      results::Record& record = *item->record;
      record.id = m_next_id++;
      row.id = *record.id;
      row.status = record.ok() ? "ok" : "error";
      row.error_code = record.ok() ? "" : record.error->code;
      row.model_version = record.model_version;
      row.created_at = record.created_at;
      auto json = results::to_json(record);
      row.json = util::to_json_text(json);
      row.file_id = job.file_id;
      row.generation = job.generation;
      row.root = job.root;
      row.path = job.path;
      row.version = job.version;
      if (m_config.results.sidecar && item->root) {
        sidecar_row.push_back(out.rows.size());
        sidecars.push_back({item->root, job.path + m_config.results.sidecar_suffix, row.json});
        sidecar_json.push_back(std::move(json));
      }
      out.rows.push_back(std::move(row));
    }
    out.write_started = Clock::now();
    const auto written = results::write_sidecars(sidecars);
    for (std::size_t i = 0; i < written.size(); ++i) {
      if (written[i].ok()) continue;
      // The result cannot sit beside the image: the database keeps it, predictions and all,
      // and says why the sidecar is missing.
      store::StoredResult& row = out.rows[sidecar_row[i]];
      auto& json = sidecar_json[i];
      json["sidecar_error"] = {{"code", written[i].error().code},
                               {"message", written[i].error().message}};
      row.json = util::to_json_text(json);
      row.sidecar_missing = true;
      spdlog::warn("{}; the result is kept and the sidecar is written once the share allows",
                   util::quote_for_log(written[i].error().message));
      if (m_sidecar_retry_at == Clock::time_point::max()) {
        m_sidecar_backoff = k_sidecar_retry_min;
        m_sidecar_retry_at = Clock::now() + m_sidecar_backoff;
      }
    }
    return out;
  }

  // Make `m_unsaved` durable (each step may be repeated after a failure), then let its files
  // go and tell the listener.
  void save() {
    Outcomes& out = *m_unsaved;
    for (const auto& [file_id, generation] : out.forgotten) m_db.forget(file_id, generation);
    m_db.record(out.changed);
    m_db.commit(out.rows);
    const auto committed = Clock::now();
    for (const auto& item : out.items) {
      m_in_flight_files.erase(item->job.file_id);
      m_crash_guard.finished(item->job.file_id);  // a suspect's solo run is over
    }
    if (m_metrics && !out.rows.empty()) {
      m_metrics->stage(metrics::Stage::write,
                       std::chrono::duration<double>(committed - out.write_started).count());
      for (const auto& item : out.items) {
        if (item->record && !item->vanished && !item->changed_to) {
          m_metrics->end_to_end(std::chrono::duration<double>(committed - item->fed).count());
        }
      }
    }
    std::uint64_t ok = 0, errors = 0;
    for (const auto& row : out.rows) {
      (row.status == "ok" ? ok : errors) += 1;
      if (m_metrics) m_metrics->result_stored(row.status == "ok");
      log_result(row);
      if (m_listener) m_listener(row.id, row.path, row.json);
    }
    const auto finished = static_cast<std::int64_t>(out.items.size());
    m_unsaved.reset();
    std::lock_guard lock(m_mutex);
    m_in_flight -= finished;
    m_ok += ok;
    m_errors += errors;
  }

  // Sidecars that could not be written (a read-only or full share, something in the way) are
  // tried again with backoff, at start, and when a scan passes their file, until they are
  // written; the stored result then loses its sidecar_error. A file that changed meanwhile is
  // left to its new version's result.
  void retry_sidecars() {
    const auto now = Clock::now();
    if (!m_config.results.sidecar) {
      m_sidecar_retry_at = Clock::time_point::max();  // none are written: nothing to retry
      return;
    }
    if (now < m_sidecar_retry_at) return;
    const auto missing = m_db.missing_sidecars(k_sidecar_retries_per_round);
    std::size_t written = 0, skipped = 0;
    for (const auto& m : missing) {
      const util::RootDir* root = root_named(m.root);
      const auto version = root ? root->stat(m.path) : util::Result<util::FileStat>(util::Error{});
      boost::system::error_code ec;
      auto json = boost::json::parse(m.json, ec);
      if (!version || !(*version == m.version) || ec || !json.is_object()) {
        ++skipped;  // changed or gone: its next result brings its own sidecar
        continue;
      }
      json.as_object().erase("sidecar_error");
      const std::string text = util::to_json_text(json);
      const results::SidecarWrite write{root, m.path + m_config.results.sidecar_suffix, text};
      if (!results::write_sidecars(std::span(&write, 1)).front().ok()) continue;
      m_db.sidecar_written(m.file_id, m.result_id, text);
      ++written;
    }
    if (written > 0) spdlog::info("wrote {} sidecar(s) that could not be written before", written);
    if (missing.empty() || written + skipped == missing.size()) {
      // All done, or more to come at once; skipped ones stay marked until their file settles.
      m_sidecar_backoff = k_sidecar_retry_min;
      m_sidecar_retry_at = missing.size() == k_sidecar_retries_per_round && written > 0
                               ? now
                               : Clock::time_point::max();
      if (skipped > 0 && m_sidecar_retry_at == Clock::time_point::max())
        m_sidecar_retry_at = now + k_sidecar_retry_max;
    } else {
      m_sidecar_backoff = std::min<std::chrono::milliseconds>(
          m_sidecar_backoff * 2,
          std::chrono::duration_cast<std::chrono::milliseconds>(k_sidecar_retry_max));
      m_sidecar_retry_at = now + m_sidecar_backoff;
    }
  }

  // One line per result: debug when ok, warning when an error, with the file as journal fields.
  static void log_result(const store::StoredResult& row) {
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
    spdlog::warn("{}: result {} is an error: {}: {}",
                 util::quote_for_log(row.root + "/" + row.path), row.id, row.error_code,
                 message && message->is_string() ? std::string(message->get_string()) : "");
  }

  // Old results go (database.retention_days), at start and then hourly; current ones never do.
  void apply_retention() {
    const auto now = Clock::now();
    if (m_config.database.retention_days <= 0 || now < m_next_retention) return;
    m_next_retention = now + std::chrono::hours(1);
    const auto cutoff = std::chrono::system_clock::now() -
                        std::chrono::hours(24) * m_config.database.retention_days;
    if (const auto deleted = m_db.delete_results_before(util::format_utc(cutoff)); deleted > 0) {
      spdlog::info("retention: deleted {} result(s) older than {} days", deleted,
                   m_config.database.retention_days);
    }
  }

  void publish_counts() {
    const std::int64_t pending = m_db.pending_count();
    std::lock_guard lock(m_mutex);
    m_pending = pending;
    m_settling = static_cast<std::int64_t>(m_settler.size());
    if (m_metrics) m_metrics->queue_depth(m_pending, m_in_flight, m_settling);
  }

  // ---- decode pool -------------------------------------------------------------------------

  // Hands `item` on (batcher or store thread) unless it throws; then the caller still owns it.
  void decode(ItemPtr& item) {
    item->decode_started = Clock::now();
    item->engine = engine();
    util::FileStat st;
    auto bytes = item->root ? item->root->read(item->job.path, m_config.watch.max_file_bytes, &st)
                            : util::Result<std::string>(util::Error{
                                  "not_found", "the watch root of this file is no longer watched"});
    if (!bytes && bytes.error().code == "not_found") {
      item->vanished = true;
      return finish(std::move(item));
    }
    if (bytes && !(st == item->job.version)) {
      item->changed_to = st;
      return finish(std::move(item));
    }
    if (!bytes) return fail(item, bytes.error());
    item->prepared = infer::prepare_input(*bytes, item->engine->preprocessor());
    if (m_metrics) {
      m_metrics->stage(metrics::Stage::queue,
                       util::ms_between(item->fed, item->decode_started) / 1000.0);
      m_metrics->stage(metrics::Stage::decode, item->prepared.decode_ms / 1000.0);
    }
    if (!item->prepared.input) return fail(item, item->prepared.input.error());
    m_batcher.submit(std::move(item), Lane::backlog);
  }

  results::Timings timings(const WorkItem& item, double infer_ms) const {
    results::Timings t;
    t.queue_ms = util::ms_between(item.fed, item.decode_started);
    t.decode_ms = item.prepared.decode_ms;
    t.infer_ms = infer_ms;
    t.total_ms = util::ms_between(item.fed, Clock::now());
    return t;
  }

  void finish(ItemPtr item) { finish(std::span<ItemPtr>(&item, 1)); }

  // Hands all of `items` on; a batch wakes the store thread once, not once per file.
  void finish(std::span<ItemPtr> items) {
    std::size_t queued = 0;
    for (auto& item : items) {
      item->prepared.input = util::Error{"released", ""};  // free the tensor before queueing
      item->engine.reset();  // an old model goes as soon as its last item is done
      if (item->reply) {     // interactive: straight back to the caller
        --m_interactive;
        item->reply(std::move(*item->record));
        item.reset();
      } else {
        ++queued;
      }
    }
    if (queued == 0) return;
    {
      std::lock_guard lock(m_mutex);
      for (auto& item : items) {
        if (item) m_done.push_back(std::move(item));
      }
    }
    m_changed.notify_one();
  }

  // ---- batcher thread ----------------------------------------------------------------------

  // The model was warmed up on its loading thread, but this thread's first forward still
  // creates its own OpenMP team and per-thread oneDNN state: 54 ms instead of 14 for a one-image
  // ResNet-18 forward. Pay that now, not on the first user's file.
  void warm_up_this_thread() {
    const auto engine = this->engine();
    if (!engine) return;
    const infer::InputTensor zeros = infer::zero_input(engine->info());
    const std::vector<const infer::InputTensor*> one{&zeros};
    try {
      if (auto out = engine->model().forward(one); !out) {
        spdlog::warn("batcher warm-up forward failed: {}", out.error().message);
      }
    } catch (const std::exception& e) {
      spdlog::warn("batcher warm-up forward failed: {}", e.what());
    }
  }

  void run_batch(std::vector<ItemPtr> batch) {
    try {
      forward_batch(batch);
    } catch (const std::exception& e) {
      spdlog::error("batch of {} failed: {}", batch.size(), e.what());
      for (auto& item : batch) {
        if (item) fail(item, util::Error{"internal_error", e.what()});  // null: already handed on
      }
    }
  }

  // Hands each item on as it is done; the ones left in `batch` were not. Right after a model
  // swap a batch may hold items prepared for either engine: each group runs on its own.
  void forward_batch(std::vector<ItemPtr>& batch) {
    if (m_metrics) m_metrics->batch_formed(batch.size());
    std::stable_sort(batch.begin(), batch.end(), [](const ItemPtr& a, const ItemPtr& b) {
      return std::less<>()(a->engine.get(), b->engine.get());
    });
    auto first = batch.begin();
    while (first != batch.end()) {
      const auto last = std::find_if(first, batch.end(), [&](const ItemPtr& item) {
        return item->engine != (*first)->engine;
      });
      forward_group(std::span<ItemPtr>(first, last));
      first = last;
    }
  }

  // Items of one engine: forward, then build and hand on each result.
  void forward_group(std::span<ItemPtr> group) {
    Engine& engine = *group.front()->engine;
    std::vector<const infer::InputTensor*> inputs;
    inputs.reserve(group.size());
    for (const auto& item : group) inputs.push_back(&item->prepared.input.value());
    const CoreBudget::Forward cores(m_cores, engine.forward_threads());  // until results are built
    const auto started = Clock::now();
    m_forward_started = started.time_since_epoch().count();
    auto outputs = engine.model().forward(inputs);
    m_forward_started = 0;
    const double infer_ms = util::ms_between(started, Clock::now());
    if (m_metrics) m_metrics->stage(metrics::Stage::infer, infer_ms / 1000.0);
    const auto& builder = engine.builder();
    for (std::size_t i = 0; i < group.size(); ++i) {
      WorkItem& item = *group[i];
      item.record = outputs ? builder.finished(item.job.path, item.prepared,
                                               std::move((*outputs)[i]), timings(item, infer_ms))
                            : builder.failed(item.job.path, &item.prepared, outputs.error(),
                                             timings(item, infer_ms));
    }
    finish(group);
  }

  const config::Config& m_config;
  const std::vector<util::RootDir> m_roots;  // every path in the share is opened beneath these
  std::vector<std::string> m_root_names;
  store::Store& m_db;
  Listener m_listener;
  metrics::Metrics* m_metrics;

  mutable std::mutex m_engine_mutex;
  std::shared_ptr<Engine> m_engine;  // for items decoded from now on; guarded by m_engine_mutex

  mutable std::mutex m_problem_mutex;
  std::optional<std::string> m_store_problem;  // for /readyz; guarded by m_problem_mutex

  // Liveness for the watchdog: steady-clock ticks; 0 = no forward running.
  std::atomic<Clock::rep> m_store_turn{0};
  std::atomic<Clock::rep> m_forward_started{0};

  // Store thread only.
  Settler m_settler;
  const std::int64_t m_capacity;
  std::unordered_set<std::int64_t> m_in_flight_files;  // file ids being processed
  CrashGuard m_crash_guard{k_max_attempts};
  std::vector<ItemPtr> m_waiting;                 // finished, not yet prepared for the store
  std::optional<Outcomes> m_unsaved;              // prepared, not yet committed
  std::vector<store::FileSighting> m_unrecorded;  // settled, not yet recorded
  Backoff m_store_backoff{k_store_backoff_min, k_store_backoff_max};
  Clock::time_point m_sidecar_retry_at{};  // min: look at start; max: nothing to retry
  std::chrono::milliseconds m_sidecar_backoff = k_sidecar_retry_min;
  std::int64_t m_next_id = 0;
  std::int64_t m_id_end = 0;
  Clock::time_point m_next_retention{};
  std::thread m_thread;

  mutable std::mutex m_mutex;  // guards everything below
  std::condition_variable m_changed;
  std::condition_variable m_room;  // m_candidates has room again, or stopping
  std::vector<watch::Candidate> m_candidates;
  std::vector<ItemPtr> m_done;
  bool m_stopping = false;
  bool m_busy = false;           // the store thread is between taking work and publishing counts
  bool m_abandoned = false;      // stop() left a decode or forward running
  bool m_intake_closed = false;  // close_intake(): add() takes nothing more
  Clock::time_point m_deadline{};
  std::int64_t m_in_flight = 0;
  std::int64_t m_pending = 0;
  std::int64_t m_settling = 0;
  std::uint64_t m_detected = 0, m_ok = 0, m_errors = 0;

  CoreBudget m_cores{DecodeArena::cores()};  // decoding and the model take turns
  std::atomic<int> m_decoding{0};
  std::atomic<std::int64_t> m_interactive{0};  // interactive requests not yet answered
  DecodeArena m_arena;
  Batcher<ItemPtr> m_batcher;  // last: its thread calls back into the members above
};

std::int64_t in_flight_capacity(std::int64_t max_batch_size) {
  return std::max<std::int64_t>(64, 4 * max_batch_size);
}

Pipeline::Pipeline(const config::Config& config, std::vector<std::filesystem::path> roots,
                   store::Store& database, std::shared_ptr<Engine> engine, Listener listener,
                   metrics::Metrics* metrics)
    : m_impl(std::make_unique<Impl>(config, std::move(roots), database, std::move(engine),
                                    std::move(listener), metrics)) {}
Pipeline::~Pipeline() = default;
void Pipeline::start() { m_impl->start(); }
void Pipeline::add(std::vector<watch::Candidate> candidates) { m_impl->add(std::move(candidates)); }
bool Pipeline::infer_now(std::string bytes, std::function<void(results::Record)> reply) {
  return m_impl->infer_now(std::move(bytes), std::move(reply));
}
bool Pipeline::stop(std::chrono::milliseconds timeout) { return m_impl->stop(timeout); }
void Pipeline::use_engine(std::shared_ptr<Engine> engine) { m_impl->use_engine(std::move(engine)); }
std::shared_ptr<Engine> Pipeline::engine() const { return m_impl->engine(); }
std::optional<std::string> Pipeline::stalled(std::chrono::milliseconds limit) const {
  return m_impl->stalled(limit);
}
std::optional<std::string> Pipeline::store_problem() const { return m_impl->store_problem(); }
void Pipeline::close_intake() { m_impl->close_intake(); }
bool Pipeline::idle() const { return m_impl->idle(); }
PipelineStats Pipeline::stats() const { return m_impl->stats(); }

}  // namespace inferwatch::pipeline
