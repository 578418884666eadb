// The LibTorch engine: one of the few translation units that include <torch/…>.
#include <inferwatch/infer/torch_model.hpp>

#include "intra_op_threads.hpp"
#include "torch_output.hpp"

#include <inferwatch/config/printer.hpp>
#include <inferwatch/infer/demo_model.hpp>
#include <inferwatch/util/file.hpp>
#include <inferwatch/util/lines.hpp>
#include <inferwatch/util/sha256.hpp>
#include <inferwatch/util/time.hpp>

#include <ATen/Parallel.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include <time.h>
#include <cstring>
#include <optional>
#include <thread>

namespace inferwatch::infer {
namespace {

using util::Error;

// Serves TorchScript bytes already in memory to torch::jit::load without copying them.
class MemoryReader final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit MemoryReader(std::string_view bytes) : m_bytes(bytes) {}
  size_t size() const override { return m_bytes.size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char*) const override {
    if (pos >= m_bytes.size()) return 0;
    n = std::min<size_t>(n, m_bytes.size() - pos);
    std::memcpy(buf, m_bytes.data() + pos, n);
    return n;
  }

 private:
  std::string_view m_bytes;
};

// The first line of a LibTorch error, without the C++ backtrace.
std::string first_lines(const c10::Error& e) {
  std::string text = e.what_without_backtrace();
  if (const auto cut = text.find("\nException raised from"); cut != std::string::npos)
    text.resize(cut);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

util::Result<c10::Device> pick_device(const std::string& wanted) {
  if (wanted == "cpu") return c10::Device(c10::kCPU);
  const bool cuda = torch::cuda::is_available();
  if (wanted == "auto") return cuda ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (!cuda) {
    return Error{"model_load_failed", fmt::format("model.device = \"{}\" but CUDA is not available "
                                                  "(no GPU, or a CPU-only LibTorch build)",
                                                  wanted)};
  }
  const int index = wanted == "cuda" ? 0 : std::stoi(wanted.substr(5));
  if (index >= static_cast<int>(torch::cuda::device_count())) {
    return Error{"model_load_failed",
                 fmt::format("model.device = \"{}\" but only {} CUDA device(s) exist", wanted,
                             torch::cuda::device_count())};
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

at::ScalarType scalar_type(config::Precision p) {
  switch (p) {
    case config::Precision::fp16:
      return at::kHalf;
    case config::Precision::bf16:
      return at::kBFloat16;
    case config::Precision::fp32:
      break;
  }
  return at::kFloat;
}

// LibTorch warnings go to our log instead of raw stderr.
class LogWarnings final : public c10::WarningHandler {
 public:
  void process(const c10::SourceLocation& where, const std::string& message, bool) override {
    spdlog::warn("libtorch: {} ({}:{})", message, where.file, where.line);
  }
};

// LibTorch's thread pools and warning handler are process-wide: set them once, from the first
// model's config.
int configure_libtorch(int wanted) {
  static const int threads = [wanted] {
    static LogWarnings handler;  // lives as long as the process
    c10::Warning::set_warning_handler(&handler);
    const int n =
        wanted > 0 ? wanted : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(n);
    try {
      at::set_num_interop_threads(1);  // inferwatch batches itself; one inter-op thread suffices
    } catch (const c10::Error&) {
    }
    return n;
  }();
  return threads;
}

class TorchModel final : public Model {
 public:
  TorchModel(torch::jit::Module module, ModelInfo info, c10::Device device, at::ScalarType dtype,
             config::PostprocessMode mode)
      : m_module(std::move(module)),
        m_info(std::move(info)),
        m_device(device),
        m_dtype(dtype),
        m_mode(mode) {}

  const ModelInfo& info() const override { return m_info; }

  // Called once, before the model is published to other threads.
  void record_warmup(double ms) { m_info.warmup_ms = ms; }
  void use_threads(int n) { m_info.threads = n; }

  util::Result<std::vector<ModelOutput>> forward(
      std::span<const InputTensor* const> batch) override {
    const auto n = static_cast<std::int64_t>(batch.size());
    if (n == 0) return std::vector<ModelOutput>{};
    try {
      set_intra_op_threads_here(m_info.threads);
      c10::InferenceMode guard;
      at::Tensor input = at::empty({n, m_info.channels, m_info.height, m_info.width}, at::kFloat);
      const std::size_t per_item =
          static_cast<std::size_t>(m_info.channels) * m_info.height * m_info.width;
      for (std::int64_t i = 0; i < n; ++i) {
        if (batch[i]->data.size() != per_item) {
          return Error{"inference_failed", fmt::format("input {} has {} values, the model takes {}",
                                                       i, batch[i]->data.size(), per_item)};
        }
        std::memcpy(input.data_ptr<float>() + i * per_item, batch[i]->data.data(),
                    per_item * sizeof(float));
      }
      if (m_device.is_cuda())
        input = input.pin_memory().to(m_device, m_dtype, /*non_blocking=*/true);
      else if (m_dtype != at::kFloat)
        input = input.to(m_dtype);
      const c10::IValue output = m_module.forward({input});
      return split_output(output, n, m_mode, m_info.labels.size());
    } catch (const c10::Error& e) {
      return Error{"inference_failed",
                   fmt::format("model {} failed: {}", m_info.version, first_lines(e))};
    } catch (const std::exception& e) {
      return Error{"inference_failed",
                   fmt::format("model {} failed: {}", m_info.version, e.what())};
    }
  }

 private:
  torch::jit::Module m_module;
  ModelInfo m_info;
  c10::Device m_device;
  at::ScalarType m_dtype;
  config::PostprocessMode m_mode;
};

// Values in the module's weights and buffers that are NaN or infinite.
long long count_non_finite(const torch::jit::Module& module) {
  long long n = 0;
  const auto count = [&n](const at::Tensor& t) {
    if (t.defined() && at::isFloatingType(t.scalar_type()))
      n += at::logical_not(at::isfinite(t)).sum().item<std::int64_t>();
  };
  for (const at::Tensor& p : module.parameters()) count(p);
  for (const at::Tensor& b : module.buffers()) count(b);
  return n;
}

// Run the model at batch sizes 1 and max on a mid-gray input and check what comes back.
util::Result<void> warm_up(Model& model, std::size_t max_batch) {
  const ModelInfo& info = model.info();
  const InputTensor zeros = zero_input(info);
  for (const std::size_t n : {std::size_t{1}, max_batch}) {
    const std::vector<const InputTensor*> batch(n, &zeros);
    auto out = model.forward(batch);
    if (!out) {
      return Error{"model_invalid",
                   fmt::format("warm-up at batch size {} with input [{}, {}, {}, {}] failed: {}", n,
                               n, info.channels, info.height, info.width, out.error().message)};
    }
  }
  return {};
}

// The calling thread's CPU time in ms. On one intra-op thread a forward runs on the calling
// thread, so this is its compute whatever else the machine does; wall time is not (under load,
// the demo model measured over 1 ms per image now and then and got every core: the same model
// then ran several times slower than its other loads, and a shadow rollout judged that latency).
double thread_cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// model.threads = 0: a model that needs under 1 ms per image on one thread (the demo model) runs
// on one thread. Its parallel regions are too short to repay waking OpenMP workers, and the
// workers' spin-wait after each region took up to half of a 2-core machine from the decode pool
// (measured: 292 → 427 files/s through the daemon). Bigger models use every core.
void choose_threads(TorchModel& model, std::size_t max_batch) {
  if (model.info().threads <= 1) return;
  const InputTensor zeros = zero_input(model.info());
  const std::vector<const InputTensor*> batch(max_batch, &zeros);
  const int all = model.info().threads;
  model.use_threads(1);
  double best = 1e9;
  for (int i = 0; i < 3; ++i) {
    const double t = thread_cpu_ms();
    (void)model.forward(batch);
    best = std::min(best, thread_cpu_ms() - t);
  }
  if (best / static_cast<double>(max_batch) >= 1.0) model.use_threads(all);
}

util::Result<std::unique_ptr<Model>> load_on_this_thread(const config::Config& config) {
  const config::Model& mc = config.model;
  const auto started = std::chrono::steady_clock::now();
  const bool built_in = mc.path.empty();
  std::string file_bytes;
  std::string_view bytes;
  if (built_in) {
    bytes = demo_model_bytes();
  } else {
    auto read = util::read_file(mc.path);
    if (!read)
      return Error{"model_load_failed", fmt::format("cannot read model: {}", read.error().message)};
    file_bytes = std::move(*read);
    bytes = file_bytes;
  }

  ModelInfo info;
  info.source = built_in ? "built-in" : mc.path.string();
  info.name = !mc.name.empty() ? mc.name
              : built_in       ? std::string(k_demo_model_name)
                               : mc.path.stem().string();
  info.sha256 = util::sha256_hex(bytes);
  info.version =
      info.name + "@" + (mc.version.empty() ? info.sha256.substr(0, 12) : mc.version);
  info.channels = config.preprocess.colour == config::Colour::gray ? 1 : 3;
  info.height = config.preprocess.height;
  info.width = config.preprocess.width;
  info.max_batch_size = config.batching.max_batch_size;
  info.precision = std::string(config::to_string(mc.precision));
  info.threads = configure_libtorch(mc.threads);

  auto device = pick_device(mc.device);
  if (!device) return device.error();
  info.device = device->str();
  const at::ScalarType dtype = scalar_type(mc.precision);
  if (device->is_cpu() && dtype == at::kHalf) {
    return Error{"model_load_failed",
                 "model.precision = \"fp16\" needs a CUDA device; use fp32 or bf16 on the CPU"};
  }

  torch::jit::Module module;
  torch::jit::ExtraFilesMap extra{{"labels.txt", ""}};
  try {
    module = torch::jit::load(std::make_shared<MemoryReader>(bytes), *device, extra);
  } catch (const c10::Error& e) {
    return Error{"model_load_failed", fmt::format("{} is not a loadable TorchScript model: {}",
                                                  info.source, first_lines(e))};
  } catch (const std::exception& e) {
    return Error{"model_load_failed",
                 fmt::format("{} is not a loadable TorchScript model: {}", info.source, e.what())};
  }

  info.labels = mc.labels;
  if (info.labels.empty()) info.labels = util::non_empty_lines(extra["labels.txt"]);

  try {
    info.non_finite_parameters = count_non_finite(module);
    module.eval();
    if (dtype != at::kFloat) module.to(dtype);
    if (mc.optimize) {
      try {
        module = torch::jit::optimize_for_inference(module);
        info.optimized = true;
      } catch (const c10::Error& e) {
        spdlog::warn("model {}: optimize_for_inference failed, running unoptimized: {}",
                     info.version, first_lines(e));
      }
    }
  } catch (const c10::Error& e) {
    return Error{"model_load_failed", fmt::format("{}: {}", info.source, first_lines(e))};
  }

  info.load_ms = util::ms_between(started, std::chrono::steady_clock::now());
  auto model = std::make_unique<TorchModel>(std::move(module), info, *device, dtype,
                                            config.postprocess.mode);
  const auto warm_start = std::chrono::steady_clock::now();
  if (auto ok = warm_up(*model, static_cast<std::size_t>(config.batching.max_batch_size)); !ok) {
    return Error{ok.error().code,
                 fmt::format("model {} ({}): {}", info.version, info.source, ok.error().message)};
  }
  if (mc.threads == 0) {
    choose_threads(*model, static_cast<std::size_t>(config.batching.max_batch_size));
  }
  model->record_warmup(util::ms_between(warm_start, std::chrono::steady_clock::now()));
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace

// Load and warm up on a short-lived thread. Warm-up runs parallel regions, which leave an
// OpenMP (libgomp) thread team parked on the calling thread for as long as it lives. With more
// OpenMP threads parked than cores, libgomp stops spinning and puts every worker to sleep between
// parallel regions, which made each one-image forward on the batcher thread ~10 ms slower
// (ResNet-18: 24.5 ms instead of 14 ms on 2 cores). A team dies with its thread.
util::Result<std::unique_ptr<Model>> load_torch_model(const config::Config& config) {
  std::optional<util::Result<std::unique_ptr<Model>>> result;
  std::thread([&] {
    try {
      result.emplace(load_on_this_thread(config));
    } catch (const std::exception& e) {  // e.g. out of memory: must not end the thread uncaught
      result.emplace(Error{"model_load_failed", fmt::format("cannot load model: {}", e.what())});
    }
  }).join();
  return std::move(*result);
}

}  // namespace inferwatch::infer
