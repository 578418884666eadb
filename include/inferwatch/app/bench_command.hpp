#pragma once

#include <inferwatch/config/config.hpp>

#include <filesystem>

namespace inferwatch::app {

struct BenchOptions {
  std::filesystem::path dir;  // images to measure on
  double seconds = 3.0;       // minimum duration of the forward measurement
};

// `inferwatch bench`: the limits the daemon is measured against (SPEC §9), in process, with the
// configured model, preprocessing and batch size, on the images under `dir`:
//   forward  — bare batched forward images/s at max_batch_size (inputs prepared beforehand),
//              and the one-image forward time;
//   decode   — read + hash + decode + preprocess: ms per file on one thread, files/s on all cores;
//   compute  — read + decode + preprocess + forward + postprocess over all files on all cores,
//              decode overlapped with forward as in the daemon, without watching, database,
//              sidecars or pushes.
// Prints one JSON object on stdout and a readable summary on stderr. Exit 2 if the model cannot
// be loaded or no image decodes.
int bench_command(const config::Config& config, const BenchOptions& options);

}  // namespace inferwatch::app
