#include <inferwatch/app/run.hpp>

#include <inferwatch/app/bench_command.hpp>
#include <inferwatch/app/check_command.hpp>
#include <inferwatch/app/config_options.hpp>
#include <inferwatch/app/export_command.hpp>
#include <inferwatch/app/gate_command.hpp>
#include <inferwatch/app/infer_command.hpp>
#include <inferwatch/app/logging.hpp>
#include <inferwatch/app/models_command.hpp>
#include <inferwatch/app/scan_command.hpp>
#include <inferwatch/app/serve_command.hpp>
#include <inferwatch/app/version.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <malloc.h>
#include <algorithm>
#include <iostream>
#include <thread>

namespace inferwatch::app {
namespace {

void add_config_flags(CLI::App& command, ConfigOptions& options) {
  command
      .add_option("-c,--config", options.file,
                  "TOML configuration file (default: embedded defaults)")
      ->check(CLI::ExistingFile);
  command.add_option("--model", options.model, "TorchScript model file (overrides [model] path)");
}

// Print every configuration problem; true when there were any.
bool report_problems(const config::Loaded& loaded) {
  if (loaded.problems.empty()) return false;
  std::cerr << fmt::format("inferwatch: {} configuration problem(s):\n", loaded.problems.size());
  for (const auto& p : loaded.problems) std::cerr << "  " << p.to_string() << '\n';
  return true;
}

// Decoded images and batch tensors are megabytes each. With glibc's defaults such blocks are
// mmap'ed and returned to the kernel on every free, so each file costs fresh zeroed pages: a
// page-fault storm that measured 18 % of the daemon's CPU under a burst. Keep blocks up to the
// mmap maximum (32 MiB) in the heap and trim it only past 256 MiB. Fewer malloc arenas (glibc
// makes up to 8 per core, one per busy thread) keep that retained memory from multiplying: the
// peak RSS under a 100,000-file backlog went from idle + 166 MB to idle + 110 MB.
void keep_large_blocks_in_the_heap() {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
  mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
}

}  // namespace

int run(int argc, char** argv) {
  keep_large_blocks_in_the_heap();
  CLI::App cli{
      "inferwatch — watches folders of CAD crops and runs a TorchScript model on each one"};
  cli.set_version_flag("--version", fmt::format("inferwatch {} ({})", version(), git_revision()));
  cli.require_subcommand(1);

  ConfigOptions config_options;
  InferOptions infer_options;
  CheckOptions check_options;
  BenchOptions bench_options;
  GateCommandOptions gate_options;
  ModelsCommandOptions models_options;
  std::filesystem::path scan_dir;

  CLI::App* serve =
      cli.add_subcommand("serve", "Watch folders and process every finished image (the daemon)");
  add_config_flags(*serve, config_options);
  serve->add_option("--watch", config_options.watch,
                    "Directory to watch (repeatable; replaces [watch] paths)");
  serve->add_option("--listen", config_options.listen,
                    "HOST:PORT for the HTTP API (overrides [server] listen)");

  CLI::App* scan = cli.add_subcommand(
      "scan", "Process every image under DIR that has no current result, then exit");
  add_config_flags(*scan, config_options);
  scan->add_option("DIR", scan_dir, "Directory to scan")->required()->check(CLI::ExistingDirectory);

  CLI::App* infer =
      cli.add_subcommand("infer", "Run the model on images and print one result JSON per line");
  add_config_flags(*infer, config_options);
  infer->add_option("IMAGE", infer_options.images, "Image files (PNG, JPEG, BMP, TIFF, WebP)")
      ->required();

  CLI::App* check = cli.add_subcommand(
      "check",
      "Validate the config, open the database, load and warm up the model; list every problem");
  add_config_flags(*check, config_options);
  check->add_flag("--print-config", check_options.print_config,
                  "Print the effective configuration as TOML");

  CLI::App* bench = cli.add_subcommand(
      "bench",
      "Measure the limits on images in DIR: bare batched forward, decode, and decode + forward + "
      "postprocess on all cores (JSON on stdout)");
  add_config_flags(*bench, config_options);
  bench->add_option("DIR", bench_options.dir, "Directory of images")
      ->required()
      ->check(CLI::ExistingDirectory);
  bench->add_option("--seconds", bench_options.seconds,
                    "Minimum duration of the forward measurement (default 3)");

  CLI::App* gate = cli.add_subcommand(
      "gate",
      "Run the deployment gate on a model version directory (model.toml, golden set); exit 0 "
      "passed, 1 refused");
  gate->add_option("DIR", gate_options.dir, "Model version directory")
      ->required()
      ->check(CLI::ExistingDirectory);
  gate->add_option("--live-accuracy", gate_options.live_accuracy,
                   "Golden-set accuracy of the live version, for [gate] max_accuracy_drop")
      ->check(CLI::Range(0.0, 1.0));
  gate->add_flag("--json", gate_options.json, "Print the verdict as JSON");

  CLI::App* models = cli.add_subcommand(
      "models",
      "The model lifecycle through the running daemon's API: list (default), promote, rollback, "
      "upload; exit 0 done, 1 refused");
  models
      ->add_option("-c,--config", config_options.file,
                   "TOML configuration file: server.listen and server.token_file")
      ->check(CLI::ExistingFile);
  models->add_option("--listen", models_options.listen,
                     "HOST:PORT of the daemon (default: [server] listen)");
  models->add_flag("--json", models_options.json, "Print the daemon's JSON reply as it is");
  models->add_flag("--offline", models_options.offline,
                   "Without the daemon: read and change database.path and model.repository "
                   "directly (list, promote, rollback; refused while a daemon runs)");
  models->add_option("--timeout", models_options.timeout_s,
                     "Seconds to wait for the daemon (default 600: the gate can take long)");
  models->fallthrough();
  models->require_subcommand(0, 1);
  models->add_subcommand("list", "Each model: rollout state, live and candidate versions, gates");
  CLI::App* promote = models->add_subcommand("promote", "Make NAME's candidate version live");
  promote->add_option("NAME", models_options.name, "Model name")->required();
  CLI::App* rollback = models->add_subcommand(
      "rollback", "Retire NAME's candidate, undo its last promotion, or make --to VERSION live");
  rollback->add_option("NAME", models_options.name, "Model name")->required();
  rollback->add_option("--to", models_options.to_version, "A retained version to make live");
  rollback->add_option("--reason", models_options.reason, "Why, kept with the rollback");
  CLI::App* upload = models->add_subcommand(
      "upload", "Upload DIR as version VERSION of model NAME: gated, then rolled out");
  upload->add_option("NAME", models_options.name, "Model name")->required();
  upload->add_option("VERSION", models_options.version, "The new version's name")->required();
  upload
      ->add_option("DIR", models_options.dir,
                   "The version directory (model.toml, model file, golden/)")
      ->required()
      ->check(CLI::ExistingDirectory);

  ExportCommandOptions export_options;
  CLI::App* export_cmd = cli.add_subcommand(
      "export",
      "Write the results with feedback as a training set: OUT/<label>/<file> and "
      "OUT/manifest.jsonl, adding only what is new; exit 0 done, 1 no example");
  export_cmd
      ->add_option("-c,--config", config_options.file,
                   "TOML configuration file: database.path (default: embedded defaults)")
      ->check(CLI::ExistingFile);
  export_cmd->add_option("--dataset", export_options.out, "Output folder (created if missing)")
      ->required();
  export_cmd->add_option("--since", export_options.since,
                         "Only feedback given at or after this RFC 3339 time");
  export_cmd->add_option("--model", export_options.model,
                         "Only results of model NAME, or of NAME@VERSION");
  export_cmd->add_flag("--copy", export_options.copy, "Copy files, never hard-link them");
  export_cmd->add_flag("--json", export_options.json, "Print the summary as JSON");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    const config::Loaded loaded = load_config(config_options);
    setup_logging(loaded.config.log);
    if (*check) return check_command(loaded, check_options);
    if (*gate) return gate_command(gate_options);
    if (report_problems(loaded)) return 2;
    if (*infer) return infer_command(loaded.config, infer_options);
    if (*serve) return serve_command(config_options, loaded.config);
    if (*scan) return scan_command(loaded.config, scan_dir);
    if (*bench) return bench_command(loaded.config, bench_options);
    if (*export_cmd) return export_command(loaded.config, export_options);
    if (*models) {
      for (const auto* sub : models->get_subcommands()) models_options.action = sub->get_name();
      return models_command(loaded.config, models_options);
    }
  } catch (const std::exception& e) {
    std::cerr << "inferwatch: fatal: " << e.what() << '\n';
    return 2;
  }
  return 2;
}

}  // namespace inferwatch::app
