#pragma once

#include <inferwatch/config/config.hpp>
#include <inferwatch/infer/model.hpp>
#include <inferwatch/util/result.hpp>

#include <memory>

namespace inferwatch::infer {

// Load the TorchScript model named by `config.model` (the built-in demo model when no path is
// set), place it on its device, optimize it, and warm it up at the maximum batch size: outputs
// must be finite and shaped as the labels say. Errors (`model_load_failed`, `model_invalid`)
// name the model and the problem.
util::Result<std::unique_ptr<Model>> load_torch_model(const config::Config& config);

}  // namespace inferwatch::infer
