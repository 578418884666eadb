#include <inferwatch/app/bench_command.hpp>

#include <inferwatch/app/daemon_parts.hpp>
#include <inferwatch/pipeline/core_budget.hpp>
#include <inferwatch/pipeline/decode_arena.hpp>
#include <inferwatch/pipeline/pipeline.hpp>
#include <inferwatch/util/file.hpp>
#include <inferwatch/util/json_text.hpp>
#include <inferwatch/util/time.hpp>
#include <inferwatch/watch/tree_walk.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <tbb/concurrent_queue.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_pipeline.h>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <iostream>
#include <numeric>
#include <optional>
#include <thread>

namespace inferwatch::app {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

infer::PreparedInput prepare_file(const std::filesystem::path& file, const config::Config& config,
                                  const models::Engine& engine) {
  auto bytes = util::read_file(file, config.watch.max_file_bytes);
  if (!bytes) {
    infer::PreparedInput failed;
    failed.input = bytes.error();
    return failed;
  }
  return engine.prepare(*bytes);
}

struct ForwardLimit {
  double images_per_s = 0;
  double batch1_ms = 0;       // median one-image forward, back to back
  double batch1_idle_ms = 0;  // the same, 200 ms apart (as at light load)
  int iterations = 0;
};

// Forward only, on inputs prepared beforehand: nothing but the model runs.
ForwardLimit measure_forward(models::Engine& engine, const std::vector<infer::PreparedInput>& ok,
                             std::size_t batch_size, double min_seconds) {
  std::vector<const infer::InputTensor*> batch;
  for (std::size_t i = 0; batch.size() < batch_size; ++i) {
    batch.push_back(&ok[i % ok.size()].input.value());
  }
  ForwardLimit limit;
  for (int i = 0; i < 3; ++i) (void)engine.model().forward(batch);  // allocator and caches warm
  const auto started = Clock::now();
  while (limit.iterations < 5 || seconds_since(started) < min_seconds) {
    if (!engine.model().forward(batch)) break;
    ++limit.iterations;
  }
  limit.images_per_s = static_cast<double>(batch_size) * limit.iterations / seconds_since(started);
  std::vector<double> one;
  const std::vector<const infer::InputTensor*> single{batch.front()};
  for (int i = 0; i < 30; ++i) {
    const auto t = Clock::now();
    (void)engine.model().forward(single);
    one.push_back(util::ms_between(t, Clock::now()));
  }
  limit.batch1_ms = median(one);
  std::vector<double> idle;
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto t = Clock::now();
    (void)engine.model().forward(single);
    idle.push_back(util::ms_between(t, Clock::now()));
  }
  limit.batch1_idle_ms = median(idle);
  return limit;
}

struct ComputeLimit {
  double files_per_s = 0;
  std::size_t errors = 0;
};

struct Prepared {
  std::size_t index;
  models::Input input;
};
using PreparedPtr = std::unique_ptr<Prepared>;

// Forward `batch` (holding cores from `budget` if given), then build and serialize each result
// as the daemon does (Engine::run, the daemon's own path). Counts errors into `limit` and
// empties `batch`.
void finish_batch(models::Engine& engine, std::vector<PreparedPtr>& batch,
                  pipeline::CoreBudget* budget, ComputeLimit& limit,
                  models::Engine* shadow = nullptr) {
  std::vector<models::Input*> inputs;
  for (const auto& item : batch) inputs.push_back(&item->input);
  std::optional<pipeline::CoreBudget::Forward> hold;
  if (budget) hold.emplace(*budget, engine.forward_threads());
  const auto records = engine.run(inputs);
  // A shadow candidate costs the daemon one more forward over the same prepared batch (and its
  // records, compared and stored apart): nothing else on the live path.
  if (shadow) {
    for (const auto& record : shadow->run(inputs)) {
      (void)util::to_json_text(results::to_json(record));
    }
  }
  hold.reset();
  for (const auto& record : records) {
    if (!record.ok()) ++limit.errors;
    (void)util::to_json_text(results::to_json(record));
  }
  batch.clear();
}

// The daemon's shape: one decode worker per core (oneTBB) fills a queue bounded like the
// pipeline's in-flight items; this thread takes full batches and runs the model. Decoding and
// the model share the cores through a CoreBudget, as in the pipeline.
ComputeLimit measure_compute_pool(models::Engine& engine, const config::Config& config,
                                  const std::vector<std::filesystem::path>& files,
                                  std::size_t batch_size, models::Engine* shadow = nullptr) {
  pipeline::CoreBudget budget(pipeline::DecodeArena::cores());
  pipeline::DecodeArena arena;
  tbb::concurrent_bounded_queue<PreparedPtr> ready;
  ready.set_capacity(pipeline::in_flight_capacity(static_cast<std::int64_t>(batch_size)));

  ComputeLimit limit;
  std::vector<PreparedPtr> batch;
  const auto started = Clock::now();
  std::promise<void> decoded;
  const auto all_decoded = decoded.get_future();  // taken before the workers can set it
  arena.enqueue([&] {
    tbb::parallel_for(std::size_t{0}, files.size(), [&](std::size_t i) {
      auto item = std::make_unique<Prepared>();
      item->index = i;
      {
        const pipeline::CoreBudget::Decode core(budget);
        item->input.path = files[i].string();
        item->input.prepared = prepare_file(files[i], config, engine);
      }
      ready.push(std::move(item));
    });
    decoded.set_value();
  });
  for (std::size_t taken = 0; taken < files.size(); ++taken) {
    PreparedPtr item;
    ready.pop(item);
    if (!item->input.prepared.input) {
      ++limit.errors;
    } else {
      batch.push_back(std::move(item));
    }
    if (batch.size() == batch_size) finish_batch(engine, batch, &budget, limit, shadow);
  }
  if (!batch.empty()) finish_batch(engine, batch, &budget, limit, shadow);
  limit.files_per_s = static_cast<double>(files.size()) / seconds_since(started);
  all_decoded.wait();
  return limit;
}

// The other way to share the cores: a oneTBB pipeline whose parallel stage decodes and whose
// serial stage batches and runs the model on the same threads (no third thread, no budget).
// Faster for a light one-thread model, whose forward fits between decodes.
ComputeLimit measure_compute_pipeline(models::Engine& engine, const config::Config& config,
                                      const std::vector<std::filesystem::path>& files,
                                      std::size_t batch_size) {
  ComputeLimit limit;
  std::vector<PreparedPtr> batch;
  std::size_t next = 0;
  const auto started = Clock::now();
  tbb::parallel_pipeline(
      batch_size * 2 + std::thread::hardware_concurrency(),
      tbb::make_filter<void, std::size_t>(tbb::filter_mode::serial_in_order,
                                          [&](tbb::flow_control& fc) -> std::size_t {
                                            if (next == files.size()) fc.stop();
                                            return next++;
                                          }) &
          tbb::make_filter<std::size_t, PreparedPtr>(tbb::filter_mode::parallel,
                                                     [&](std::size_t i) {
                                                       auto item = std::make_unique<Prepared>();
                                                       item->index = i;
                                                       item->input.path = files[i].string();
                                                       item->input.prepared =
                                                           prepare_file(files[i], config, engine);
                                                       return item;
                                                     }) &
          tbb::make_filter<PreparedPtr, void>(tbb::filter_mode::serial_out_of_order,
                                              [&](PreparedPtr item) {
                                                if (!item->input.prepared.input) {
                                                  ++limit.errors;
                                                  return;
                                                }
                                                batch.push_back(std::move(item));
                                                if (batch.size() == batch_size)
                                                  finish_batch(engine, batch, nullptr, limit);
                                              }));
  if (!batch.empty()) finish_batch(engine, batch, nullptr, limit);
  limit.files_per_s = static_cast<double>(files.size()) / seconds_since(started);
  return limit;
}

}  // namespace

int bench_command(const config::Config& config, const BenchOptions& options) {
  const watch::NameFilter filter(config.watch.include, config.watch.exclude,
                                 config.results.sidecar_suffix);
  std::vector<std::filesystem::path> files;
  for (const auto& c : watch::list_tree(options.dir, 0, true, filter)) {
    files.push_back(options.dir / c.path);
  }
  std::sort(files.begin(), files.end());
  auto engine = load_engine(config);
  if (!engine) {
    spdlog::critical("cannot bench: {}", engine.error().message);
    return 2;
  }
  const auto batch_size = static_cast<std::size_t>(config.batching.max_batch_size);

  // Decode on one thread: the per-file cost (the latency target adds it to one forward).
  std::vector<infer::PreparedInput> sample;
  std::vector<double> decode_ms;
  for (std::size_t i = 0; i < std::min<std::size_t>(files.size(), 200); ++i) {
    const auto t = Clock::now();
    auto prepared = prepare_file(files[i], config, **engine);
    decode_ms.push_back(util::ms_between(t, Clock::now()));
    if (prepared.input) sample.push_back(std::move(prepared));
  }
  if (sample.empty()) {
    spdlog::critical("cannot bench: no image under {} decodes", options.dir.string());
    return 2;
  }
  const double decode_mean = std::accumulate(decode_ms.begin(), decode_ms.end(), 0.0) /
                             static_cast<double>(decode_ms.size());

  // Decode on all cores: the machine's decode limit.
  const auto decode_started = Clock::now();
  tbb::parallel_for(std::size_t{0}, files.size(),
                    [&](std::size_t i) { (void)prepare_file(files[i], config, **engine); });
  const double decode_files_per_s =
      static_cast<double>(files.size()) / seconds_since(decode_started);

  const auto forward = measure_forward(**engine, sample, batch_size, options.seconds);
  // The compute limit is the faster of the two ways to share the cores in one process.
  const auto pool = measure_compute_pool(**engine, config, files, batch_size);
  const auto pipelined = measure_compute_pipeline(**engine, config, files, batch_size);
  const auto& compute = pool.files_per_s >= pipelined.files_per_s ? pool : pipelined;
  // The daemon's shape again with a shadow candidate (a second copy of the model) beside it.
  auto shadow = load_engine(config, spdlog::level::debug);
  if (!shadow) {
    spdlog::critical("cannot bench: {}", shadow.error().message);
    return 2;
  }
  const auto with_shadow = measure_compute_pool(**engine, config, files, batch_size, &**shadow);

  const auto& info = (*engine)->info();
  const boost::json::object out{{"model", info.version},
                                {"device", info.device},
                                {"batch_size", batch_size},
                                {"files", files.size()},
                                {"cores", std::thread::hardware_concurrency()},
                                {"forward_images_per_s", forward.images_per_s},
                                {"forward_batch1_ms", forward.batch1_ms},
                                {"forward_batch1_idle_ms", forward.batch1_idle_ms},
                                {"decode_ms_mean", decode_mean},
                                {"decode_ms_median", median(decode_ms)},
                                {"decode_files_per_s", decode_files_per_s},
                                {"compute_files_per_s", compute.files_per_s},
                                {"compute_pool_files_per_s", pool.files_per_s},
                                {"compute_pipeline_files_per_s", pipelined.files_per_s},
                                {"compute_pool_shadow_files_per_s", with_shadow.files_per_s},
                                {"compute_errors", compute.errors}};
  std::cout << util::to_json_text(out) << '\n';
  std::cerr << fmt::format(
      "{} on {}, batch {}, {} files:\n"
      "  forward limit  {:8.1f} images/s   (one image: {:.2f} ms, {:.2f} ms 200 ms apart)\n"
      "  decode         {:8.1f} files/s on all cores   ({:.2f} ms per file on one)\n"
      "  compute limit  {:8.1f} files/s   (decode pool + model thread {:.1f}, oneTBB pipeline "
      "{:.1f}; {} errors)\n"
      "  with a shadow  {:8.1f} files/s   (decode pool + model thread, one more forward per "
      "batch: {:.2f} x without)\n",
      info.version, info.device, batch_size, files.size(), forward.images_per_s, forward.batch1_ms,
      forward.batch1_idle_ms, decode_files_per_s, decode_mean, compute.files_per_s,
      pool.files_per_s, pipelined.files_per_s, compute.errors, with_shadow.files_per_s,
      pool.files_per_s > 0 ? with_shadow.files_per_s / pool.files_per_s : 0.0);
  return 0;
}

}  // namespace inferwatch::app
