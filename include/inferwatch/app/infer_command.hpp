#pragma once

#include <inferwatch/config/config.hpp>

#include <filesystem>
#include <vector>

namespace inferwatch::app {

struct InferOptions {
  std::vector<std::filesystem::path> images;
};

// `inferwatch infer`: one §5 result per image on stdout (one JSON object per line), in the order
// given. Exit code 0 when every image succeeded, 1 when some got an error result, 2 when the model
// could not be loaded.
int infer_command(const config::Config& config, const InferOptions& options);

}  // namespace inferwatch::app
