#pragma once

// Files named by a trusted caller (the `infer` command, the gate's golden set) through an Engine:
// read, prepare, run in batches. The daemon's share goes through the pipeline instead, which
// reads beneath its watch roots.

#include <inferwatch/models/engine.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>

namespace inferwatch::models {

// Read each file (at most `max_file_bytes`), prepare it and run it in batches of `batch_size`;
// `emit` gets each file's record in the order given. Runs on the calling thread.
void infer_files(Engine& engine, std::span<const std::filesystem::path> files,
                 std::int64_t max_file_bytes, std::size_t batch_size,
                 const std::function<void(results::Record)>& emit);

}  // namespace inferwatch::models
