#pragma once

// Turning a TorchScript output (IValue) into per-item ModelOutputs. Private to infer/.

#include <inferwatch/config/config.hpp>
#include <inferwatch/infer/model_output.hpp>
#include <inferwatch/util/result.hpp>

#include <ATen/core/ivalue.h>

#include <string>
#include <vector>

namespace inferwatch::infer {

// Split a batch's output into `n` items. `classification` wants a [n, C] tensor (or a tuple/list
// whose first element is one), with C == `num_labels` when labels are known, all finite.
// `raw` accepts any tensor, tuple, list, dict or scalar; tensors whose first dimension is `n`
// are sliced per item, everything else is copied to every item. Error: `invalid_output`.
util::Result<std::vector<ModelOutput>> split_output(const c10::IValue& output, std::int64_t n,
                                                    config::PostprocessMode mode,
                                                    std::size_t num_labels);

}  // namespace inferwatch::infer
