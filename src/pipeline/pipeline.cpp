#include <inferwatch/pipeline/pipeline.hpp>

#include <inferwatch/pipeline/backoff.hpp>
#include <inferwatch/pipeline/batcher.hpp>
#include <inferwatch/pipeline/committer.hpp>
#include <inferwatch/pipeline/core_budget.hpp>
#include <inferwatch/pipeline/crash_guard.hpp>
#include <inferwatch/pipeline/decode_arena.hpp>
#include <inferwatch/pipeline/intake.hpp>
#include <inferwatch/pipeline/liveness.hpp>
#include <inferwatch/pipeline/recorder.hpp>
#include <inferwatch/pipeline/result_ids.hpp>
#include <inferwatch/pipeline/retention.hpp>
#include <inferwatch/pipeline/sidecar_retry.hpp>
#include <inferwatch/pipeline/watch_roots.hpp>
#include <inferwatch/pipeline/work_item.hpp>
#include <inferwatch/util/log_fields.hpp>
#include <inferwatch/util/thread_name.hpp>
#include <inferwatch/util/time.hpp>
#include <inferwatch/util/utf8.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_set>

namespace inferwatch::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t k_candidates_per_round = 4096;
constexpr std::size_t k_max_candidates = 4 * k_candidates_per_round;  // before scans wait
// A file whose processing stopped the daemon this many times (a crash, or the out-of-memory
// killer) gets an error result instead of another try, until it changes.
constexpr int k_max_attempts = 2;
constexpr auto k_store_backoff_min = std::chrono::milliseconds(100);
constexpr auto k_store_backoff_max = std::chrono::milliseconds(5000);
constexpr auto k_stop_margin = std::chrono::milliseconds(500);  // past the drain deadline
constexpr auto k_max_wait = std::chrono::milliseconds(200);     // the store thread's longest nap

WatchRoots open_roots(const std::vector<std::filesystem::path>& roots) {
  auto opened = WatchRoots::open(roots);
  if (!opened) throw std::runtime_error(opened.error().message);
  return std::move(*opened);
}

// The job's file as a log shows it: root/path, quoted when the name needs it.
std::string quoted(const WorkItem& item) {
  return util::quote_for_log(item.job.root + "/" + item.job.path);
}

}  // namespace

class Pipeline::Impl {
 public:
  Impl(const config::Config& config, const std::vector<std::filesystem::path>& roots, Parts parts)
      : m_config(config),
        m_roots(open_roots(roots)),
        m_store(parts.store),
        m_metrics(parts.metrics),
        m_clock(parts.clock ? *parts.clock : util::steady_clock()),
        m_sidecars(parts.sidecars ? *parts.sidecars : m_file_sidecars),
        m_registry(parts.registry),
        m_drift(parts.drift),
        m_engine(std::move(parts.engine)),
        m_intake(k_max_candidates, [this] { wake(); }),
        m_recorder(m_roots, m_store, std::chrono::milliseconds(config.watch.settle_ms)),
        m_ids(m_store),
        m_committer(m_store, m_ids, m_sidecars,
                    {config.results.sidecar, config.results.sidecar_suffix},
                    std::move(parts.listener), m_metrics),
        m_sidecar_retry(m_roots, m_store, m_sidecars, config.results.sidecar_suffix,
                        config.results.sidecar),
        m_retention(m_store, config.database.retention_days),
        m_capacity(in_flight_capacity(config.batching.max_batch_size)),
        // A partial batch waits for max_delay only while more files are being decoded: at light
        // load a lone file goes straight to the model.
        m_batcher(
            static_cast<std::size_t>(config.batching.max_batch_size),
            std::chrono::milliseconds(config.batching.max_delay_ms),
            [this](std::vector<ItemPtr> batch) { run_batch(std::move(batch)); },
            [this] { return m_decoding.load() > 0; }, [this] { warm_up_this_thread(); }) {}

  // After an abandoned stop, threads still use this object: the process exits instead (see
  // Pipeline::stop).
  ~Impl() { stop(std::chrono::milliseconds(0)); }

  // Touches no store: ids are reserved with the first results, so a store that is busy or
  // failing at startup delays results instead of failing the start.
  void start() {
    m_thread = std::thread([this] {
      util::name_this_thread("iw-store");
      store_loop();
    });
  }

  void add(std::vector<watch::Candidate> candidates) { m_intake.add(std::move(candidates)); }

  void close_intake() { m_intake.close(); }

  bool stop(std::chrono::milliseconds timeout) {
    {
      std::lock_guard lock(m_mutex);
      if (m_stopping) return !m_abandoned;
      m_stopping = true;
      m_deadline = Clock::now() + timeout;
    }
    m_intake.close();
    m_changed.notify_one();
    if (m_thread.joinable()) m_thread.join();
    // A decode (a huge image, a read from a hung network mount) or a forward cannot be
    // interrupted: wait for them only until shortly after the drain deadline. Their files were
    // not committed, so they stay queued for the next run.
    const auto limit = std::max(Clock::now(), m_deadline) + k_stop_margin;
    const auto running = [this] { return m_decoding.load() > 0 || m_liveness.forward_running(); };
    while (running() && Clock::now() < limit) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (running()) {
      spdlog::warn(
          "stopping without waiting for {} decode(s){} still running past the drain "
          "deadline; their files stay queued",
          m_decoding.load(), m_liveness.forward_running() ? " and a model forward" : "");
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

  // Uploads (POST /v1/infer) go to the single engine, or the default model's live version.
  std::shared_ptr<Engine> interactive_engine() const {
    if (m_registry) return m_registry->select("").current;
    return engine();
  }

  std::optional<std::string> stalled(std::chrono::milliseconds limit) const {
    return m_liveness.stalled(m_clock.now(), limit, m_thread.joinable());
  }

  bool infer_now(std::string bytes, std::function<void(results::Record)> reply) {
    if (m_interactive.fetch_add(1) >= m_capacity) {
      --m_interactive;
      return false;
    }
    auto item = std::make_unique<WorkItem>();
    item->job.path = "upload";
    item->input.path = "upload";
    item->input.started = Clock::now();
    item->reply = std::move(reply);
    run_on_pool(std::move(item), [this, bytes = std::move(bytes)](ItemPtr& owned) {
      owned->engine = interactive_engine();
      if (!owned->engine) return fail(owned, no_model("the default model"));
      owned->input.prepared = owned->engine->prepare(bytes);
      if (!owned->input.prepared.input) return fail(owned, owned->input.prepared.input.error());
      m_batcher.submit(std::move(owned), Lane::interactive);
    });
    return true;
  }

  std::optional<std::string> store_problem() const {
    std::lock_guard lock(m_problem_mutex);
    return m_store_problem;
  }

  bool idle() const {
    std::lock_guard lock(m_mutex);
    return !m_busy && m_intake.empty() && m_done.empty() && m_pending == 0 && m_settling == 0 &&
           m_in_flight == 0;
  }

  PipelineStats stats() const {
    std::lock_guard lock(m_mutex);
    return PipelineStats{m_detected, m_ok, m_errors, m_pending, m_in_flight, m_settling};
  }

 private:
  // ---- store thread ------------------------------------------------------------------------

  // The intake has candidates (called by Intake::add without its lock).
  void wake() {
    { std::lock_guard lock(m_mutex); }  // the store thread is waiting or will see them
    m_changed.notify_one();
  }

  // When the store thread must look again without being woken: a file settles, a sidecar retry
  // is due, the store's backoff ends; at most k_max_wait (counts and retention).
  Clock::time_point next_wake(Clock::time_point now) const {
    if (m_store_backoff.waiting(now)) return m_store_backoff.retry_at();
    auto wake = std::min(now + k_max_wait, m_sidecar_retry.due());
    if (const auto due = m_recorder.next_due()) wake = std::min(wake, *due);
    return wake;
  }

  void store_loop() {
    std::unique_lock lock(m_mutex);
    for (;;) {
      const auto now = m_clock.now();
      m_liveness.store_turned(now);
      // The clock may be a test's: wait for real at most k_max_wait, then look at it again.
      const auto nap =
          std::clamp<Clock::duration>(next_wake(now) - now, Clock::duration::zero(), k_max_wait);
      m_changed.wait_for(lock, nap, [&] {
        return m_stopping ||
               (!m_store_backoff.waiting(m_clock.now()) && (!m_intake.empty() || !m_done.empty()));
      });
      const bool stopping = m_stopping;
      if (m_store_backoff.waiting(m_clock.now())) {
        // The store failed: wait out the backoff (new work waits in memory meanwhile).
        if (stopping && Clock::now() >= m_deadline) return stop_now();
        continue;
      }
      for (auto& item : m_done) m_finished.push_back(std::move(item));
      m_done.clear();
      m_busy = true;  // until the counts below are published, idle() must not say yes
      lock.unlock();
      const auto round = stopping ? commit_round() : full_round();
      if (round) {
        store_recovered();
      } else {
        store_failed(round.error());
      }
      lock.lock();
      m_busy = false;
      if (stopping && m_done.empty() && (m_in_flight == 0 || Clock::now() >= m_deadline)) {
        return stop_now();
      }
    }
  }

  // While stopping only finished work is committed; nothing new is taken.
  util::Result<void> commit_round() {
    if (auto committed = commit(); !committed) return committed;
    return publish_counts();
  }

  // One turn of the store thread. Stops at the first store failure; every part keeps what it
  // could not hand over, so the next round picks up where this one failed.
  util::Result<void> full_round() {
    if (auto committed = commit(); !committed) return committed;
    if (auto deleted = m_retention.apply(m_clock.now(), std::chrono::system_clock::now());
        !deleted) {
      return deleted.error();
    }
    // A startup scan of a big tree arrives as one flood: take it in slices, so the work (and
    // the memory) of one round stays bounded and commits keep flowing in between.
    auto candidates = m_intake.take(k_candidates_per_round);
    auto taken = m_recorder.take(candidates, m_clock.now());
    if (!taken) {
      m_intake.put_back(std::move(candidates));  // nothing of them was recorded
      return taken.error();
    }
    if (!candidates.empty()) {
      if (m_metrics) m_metrics->file_detected(candidates.size());
      std::lock_guard lock(m_mutex);
      m_detected += candidates.size();
    }
    if (taken->sidecar_due) m_sidecar_retry.look_now(m_clock.now());
    auto settled = m_recorder.settle(m_clock.now());
    if (!settled) return settled.error();
    if (m_metrics) {
      for (const auto waited : *settled) {
        m_metrics->stage(metrics::Stage::settle, std::chrono::duration<double>(waited).count());
      }
    }
    if (auto fed = feed(); !fed) return fed;
    if (auto written = m_sidecar_retry.run(m_clock.now()); !written) return written.error();
    return publish_counts();
  }

  // m_mutex must be held.
  void stop_now() {
    if (m_in_flight > 0)
      spdlog::warn("stopping with {} file(s) unfinished; they stay queued", m_in_flight);
    // After a clean stop the next run starts right above the highest committed id.
    if (!m_store_backoff.failing()) {
      if (auto released = m_ids.release(); !released) {
        spdlog::warn("store: could not release unused result ids: {}", released.error().message);
      }
    }
  }

  // The store refused a round (busy past its timeout, full, I/O error). Nothing is lost:
  // candidates, sightings and finished results wait in memory and are retried with backoff.
  // One error line per episode, not one per round.
  void store_failed(const util::Error& error) {
    if (m_metrics) m_metrics->store_failure();
    if (!m_store_backoff.failed(m_clock.now())) return;
    spdlog::error("store: {}; retrying with backoff, files wait until it works again",
                  error.message);
    std::lock_guard lock(m_problem_mutex);
    m_store_problem = fmt::format("the database is failing: {}", error.message);
  }

  void store_recovered() {
    const auto lasted = m_store_backoff.succeeded(m_clock.now());
    if (!lasted) return;
    spdlog::info("store: working again after {:.1f} s",
                 std::chrono::duration<double>(*lasted).count());
    std::lock_guard lock(m_problem_mutex);
    m_store_problem.reset();
  }

  // Keep at most m_capacity jobs in memory; the rest of the backlog waits in the store. A file
  // is in flight at most once: a newer version waits until the older one's outcome is back.
  // Each start is counted durably before decoding (see CrashGuard).
  util::Result<void> feed() {
    if (m_in_flight >= m_capacity || m_crash_guard.alone()) return {};
    auto jobs = m_store.pending(static_cast<std::size_t>(m_capacity + m_in_flight));
    if (!jobs) return jobs.error();
    std::vector<ItemPtr> items;
    std::vector<std::int64_t> counted;
    bool alone = false;  // the last item is a suspect that runs alone
    for (auto& job : *jobs) {
      const auto busy = m_in_flight + static_cast<std::int64_t>(items.size());
      if (busy >= m_capacity) break;
      if (m_in_flight_files.contains(job.file_id)) continue;
      const auto verdict = m_crash_guard.judge(job, busy);
      if (verdict == CrashGuard::Verdict::wait) break;  // keeps backlog order
      auto item = std::make_unique<WorkItem>();
      item->root = m_roots.named(job.root);
      item->input.path = job.path;
      item->input.started = Clock::now();
      item->job = std::move(job);
      if (verdict != CrashGuard::Verdict::give_up) counted.push_back(item->job.file_id);
      items.push_back(std::move(item));
      if (verdict == CrashGuard::Verdict::start_alone) {
        alone = true;
        break;
      }
    }
    // Durable before any of them is decoded; on failure none is in flight.
    if (auto c = m_store.count_attempts(counted); !c) return c;
    {
      std::lock_guard lock(m_mutex);
      m_in_flight += static_cast<std::int64_t>(items.size());
    }
    if (alone) {
      m_crash_guard.running_alone(items.back()->job.file_id);
      spdlog::warn("{}: the daemon stopped while this file was being processed; trying it alone",
                   quoted(*items.back()));
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
    return {};
  }

  // Commit finished items; their files leave the in-flight set and the counts move.
  util::Result<void> commit() {
    auto rounds = m_committer.commit(m_finished);
    if (!rounds) return rounds.error();
    for (auto& round : *rounds) {
      for (const auto& item : round.items) {
        m_in_flight_files.erase(item->job.file_id);
        m_crash_guard.finished(item->job.file_id);  // a suspect's solo run is over
      }
      if (round.sidecars_missing > 0) m_sidecar_retry.missed(m_clock.now());
      std::lock_guard lock(m_mutex);
      m_in_flight -= static_cast<std::int64_t>(round.items.size());
      m_ok += round.ok;
      m_errors += round.errors;
    }
    return {};
  }

  util::Result<void> publish_counts() {
    const auto pending = m_store.pending_count();
    if (!pending) return pending.error();
    std::lock_guard lock(m_mutex);
    m_pending = *pending;
    m_settling = static_cast<std::int64_t>(m_recorder.settling());
    if (m_metrics) m_metrics->queue_depth(m_pending, m_in_flight, m_settling);
    return {};
  }

  // ---- decode pool -------------------------------------------------------------------------

  // Run `work` on the decode pool. `work` hands the item on; if it throws instead, the item
  // comes back as an error result: no worker dies, no item is lost.
  void run_on_pool(ItemPtr item, std::function<void(ItemPtr&)> work) {
    ++m_decoding;
    m_arena.enqueue([this, raw = item.release(), work = std::move(work)] {
      ItemPtr owned(raw);
      try {
        const CoreBudget::Decode core(m_cores);
        owned->input.queue_ms = util::ms_between(owned->input.started, Clock::now());
        work(owned);
      } catch (const std::exception& e) {
        spdlog::error("{}: decode task failed: {}", owned ? quoted(*owned) : "?", e.what());
        if (owned) fail(owned, util::Error{"internal_error", e.what()});
      }
      if (--m_decoding == 0) m_batcher.poke();
    });
  }

  // Hands `item` on (batcher or store thread) unless it throws; then the caller still owns it.
  void decode(ItemPtr& item) {
    if (m_registry) {
      item->selection = m_registry->select(item->job.path);
      item->engine = item->selection->current;
      if (!item->engine) return fail(item, no_model(item->selection->model));
    } else {
      item->engine = engine();
    }
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
    item->input.prepared = item->engine->prepare(*bytes);
    if (item->selection && item->selection->shadow) prepare_shadow(*item, *bytes);
    if (m_metrics) {
      m_metrics->stage(metrics::Stage::queue, item->input.queue_ms / 1000.0);
      m_metrics->stage(metrics::Stage::decode, item->input.prepared.decode_ms / 1000.0);
    }
    if (!item->input.prepared.input) return fail(item, item->input.prepared.input.error());
    m_batcher.submit(std::move(item), Lane::backlog);
  }

  // The shadow candidate gets the same file: the same tensor when it preprocesses the same way
  // (no second decode on the live path), else its own preparation.
  static void prepare_shadow(WorkItem& item, std::string_view bytes) {
    const Engine& shadow = *item.selection->shadow;
    models::Input input;
    input.path = item.input.path;
    input.started = item.input.started;
    input.queue_ms = item.input.queue_ms;
    input.prepared = shadow.preprocessor().options() == item.engine->preprocessor().options()
                         ? item.input.prepared
                         : shadow.prepare(bytes);
    item.shadow_input = std::move(input);
  }

  static util::Error no_model(const std::string& model) {
    return util::Error{"model_unavailable",
                       fmt::format("no version of model {} has passed the gate and loaded; the "
                                   "file is processed again when it changes",
                                   model)};
  }

  // Hand `item` back with an error result.
  void fail(ItemPtr& item, util::Error error) {
    if (!item->engine) item->engine = m_registry ? nullptr : engine();
    item->record = item->engine ? item->engine->failed(item->input, std::move(error))
                                : bare_error(*item, std::move(error));
    finish(std::move(item));
  }

  // An error record when no engine is there to build it (the route's model has no version).
  static results::Record bare_error(const WorkItem& item, util::Error error) {
    results::Record r;
    r.path = item.input.path;
    r.sha256 = item.input.prepared.sha256;
    if (item.selection) r.model_name = item.selection->model;
    r.error = std::move(error);
    r.created_at = util::format_utc(std::chrono::system_clock::now());
    return r;
  }

  void finish(ItemPtr item) { finish(std::span<ItemPtr>(&item, 1)); }

  // Hands all of `items` on; a batch wakes the store thread once, not once per file.
  void finish(std::span<ItemPtr> items) {
    std::size_t queued = 0;
    for (auto& item : items) {
      item->input.prepared.input = util::Error{"released", ""};  // free the tensor now
      item->engine.reset();  // an old model goes as soon as its last item is done
      if (item->selection) {
        item->selection->current.reset();
        item->selection->shadow.reset();
      }
      item->shadow_input.reset();
      if (item->reply) {  // interactive: straight back to the caller
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
    const auto engine = interactive_engine();
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
    std::vector<models::Input*> inputs;
    inputs.reserve(group.size());
    for (auto& item : group) inputs.push_back(&item->input);
    std::vector<results::Record> records;
    {
      const CoreBudget::Forward cores(m_cores, engine.forward_threads());  // until records built
      m_liveness.forward_started(m_clock.now());
      records = engine.run(inputs);
      m_liveness.forward_ended();
    }
    if (m_metrics && !records.empty()) {
      m_metrics->stage(metrics::Stage::infer, records.front().timings.infer_ms / 1000.0);
    }
    for (std::size_t i = 0; i < group.size(); ++i) group[i]->record = std::move(records[i]);
    run_shadows(group);
    for (const auto& item : group) {
      count_prediction(*item->record);
      if (item->shadow_record) count_prediction(*item->shadow_record);
    }
    if (m_registry) {
      for (const auto& item : group) {
        if (!item->selection) continue;
        m_registry->observe(*item->selection, *item->record,
                            item->shadow_record ? &*item->shadow_record : nullptr);
        count_model_result(*item->selection, *item->record,
                           item->selection->arm == models::Arm::canary ? "canary" : "live");
        if (item->shadow_record)
          count_model_result(*item->selection, *item->shadow_record, "shadow");
      }
    }
    finish(group);
  }

  // Drift (SPEC §11): a result's top-1 prediction per model version (the record's
  // `<name>@<version>`), counted by label and put in the version's drift window. O(1).
  void count_prediction(const results::Record& record) {
    if ((!m_metrics && !m_drift) || !record.ok() || record.predictions.empty()) return;
    const auto at = record.model_version.rfind('@');
    if (at == std::string::npos) return;
    const std::string model = record.model_version.substr(0, at);
    const std::string version = record.model_version.substr(at + 1);
    const infer::Prediction& top = record.predictions.front();
    if (m_metrics) {
      // Label values stay within the version's first labels (docs/models.md, "Drift").
      const bool named =
          top.index >= 0 && static_cast<std::size_t>(top.index) < models::k_label_bins;
      m_metrics->model_prediction(model, version, named ? top.label : "other", top.score);
    }
    if (m_drift) m_drift->observe(model, version, top.index, top.score);
  }

  // Per model and version (the record's `<name>@<version>`), for the lifecycle metrics.
  void count_model_result(const models::Selection& selection, const results::Record& record,
                          std::string_view arm) {
    if (!m_metrics) return;
    const auto at = record.model_version.rfind('@');
    const std::string version =
        at == std::string::npos ? record.model_version : record.model_version.substr(at + 1);
    m_metrics->model_result(selection.model, version, arm, record.ok(),
                            record.timings.infer_ms / 1000.0);
  }

  // Shadow arm: one more forward per candidate engine over the group's files that have one
  // (batches never mix models). Its records are compared and stored apart, never current.
  void run_shadows(std::span<ItemPtr> group) {
    std::vector<WorkItem*> shadowed;
    for (auto& item : group) {
      if (item->shadow_input && item->selection->shadow) shadowed.push_back(item.get());
    }
    std::stable_sort(shadowed.begin(), shadowed.end(), [](WorkItem* a, WorkItem* b) {
      return std::less<>()(a->selection->shadow.get(), b->selection->shadow.get());
    });
    auto first = shadowed.begin();
    while (first != shadowed.end()) {
      Engine& shadow = *(*first)->selection->shadow;
      const auto last = std::find_if(first, shadowed.end(), [&](WorkItem* item) {
        return item->selection->shadow.get() != &shadow;
      });
      std::vector<models::Input*> inputs;
      for (auto it = first; it != last; ++it) inputs.push_back(&*(*it)->shadow_input);
      std::vector<results::Record> records;
      {
        const CoreBudget::Forward cores(m_cores, shadow.forward_threads());
        m_liveness.forward_started(m_clock.now());
        records = shadow.run(inputs);
        m_liveness.forward_ended();
      }
      for (std::size_t i = 0; i < records.size(); ++i) {
        (*(first + static_cast<std::ptrdiff_t>(i)))->shadow_record = std::move(records[i]);
      }
      first = last;
    }
  }

  const config::Config& m_config;
  const WatchRoots m_roots;  // every path in the share is opened beneath these
  store::Store& m_store;
  metrics::Metrics* m_metrics;
  const util::Clock& m_clock;
  results::FileSidecars m_file_sidecars;
  results::SidecarSink& m_sidecars;
  models::Registry* m_registry;   // null: one engine for every file
  models::DriftMonitor* m_drift;  // null: drift not measured

  mutable std::mutex m_engine_mutex;
  std::shared_ptr<Engine> m_engine;  // for items decoded from now on; guarded by m_engine_mutex

  mutable std::mutex m_problem_mutex;
  std::optional<std::string> m_store_problem;  // for /readyz; guarded by m_problem_mutex

  Liveness m_liveness;
  Intake m_intake;  // thread-safe

  // Store thread only.
  Recorder m_recorder;
  ResultIds m_ids;
  Committer m_committer;
  SidecarRetry m_sidecar_retry;
  Retention m_retention;
  const std::int64_t m_capacity;
  std::unordered_set<std::int64_t> m_in_flight_files;  // file ids being processed
  CrashGuard m_crash_guard{k_max_attempts};
  std::vector<ItemPtr> m_finished;  // back from the workers, not yet committed
  Backoff m_store_backoff{k_store_backoff_min, k_store_backoff_max};
  std::thread m_thread;

  mutable std::mutex m_mutex;  // guards everything below
  std::condition_variable m_changed;
  std::vector<ItemPtr> m_done;  // back from the workers, not yet seen by the store thread
  bool m_stopping = false;
  bool m_busy = false;       // the store thread is between taking work and publishing counts
  bool m_abandoned = false;  // stop() left a decode or forward running
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

Pipeline::Pipeline(const config::Config& config, const std::vector<std::filesystem::path>& roots,
                   Parts parts)
    : m_impl(std::make_unique<Impl>(config, roots, std::move(parts))) {}
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
