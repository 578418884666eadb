#pragma once

#include <string_view>

namespace inferwatch::infer {

// The TorchScript bytes of models/demo/demo-shapes.pt, compiled into the binary.
std::string_view demo_model_bytes();

inline constexpr std::string_view k_demo_model_name = "demo-shapes";

}  // namespace inferwatch::infer
