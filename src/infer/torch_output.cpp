#include "torch_output.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/json.hpp>

namespace inferwatch::infer {
namespace {

using util::Error;

Error invalid(std::string message) { return Error{"invalid_output", std::move(message)}; }

std::string shape_of(const at::Tensor& t) {
  return fmt::format("[{}]", fmt::join(t.sizes(), ", "));
}

// Nested JSON lists of a CPU tensor's values (dimension by dimension).
boost::json::value nested(const at::Tensor& t, std::int64_t dim, std::int64_t offset) {
  boost::json::array out;
  const std::int64_t size = t.size(dim), stride = t.stride(dim);
  out.reserve(static_cast<std::size_t>(size));
  for (std::int64_t i = 0; i < size; ++i) {
    const std::int64_t at_offset = offset + i * stride;
    if (dim + 1 < t.dim()) {
      out.push_back(nested(t, dim + 1, at_offset));
    } else if (t.scalar_type() == at::kBool) {
      out.push_back(t.data_ptr<bool>()[at_offset]);
    } else if (at::isIntegralType(t.scalar_type(), false)) {
      out.push_back(t.data_ptr<std::int64_t>()[at_offset]);
    } else {
      const double v = t.data_ptr<double>()[at_offset];
      out.push_back(std::isfinite(v) ? boost::json::value(v) : boost::json::value(nullptr));
    }
  }
  return out;
}

// {"shape": [...], "dtype": "...", "data": ...}; non-finite floats become null.
boost::json::value tensor_json(const at::Tensor& tensor) {
  at::Tensor t = tensor.detach().to(at::kCPU);
  const std::string dtype(c10::toString(t.scalar_type()));
  if (t.scalar_type() == at::kBool)
    t = t.contiguous();
  else if (at::isIntegralType(t.scalar_type(), false))
    t = t.to(at::kLong);
  else
    t = t.to(at::kDouble);
  boost::json::array shape;
  for (const auto s : t.sizes()) shape.push_back(s);
  boost::json::value data =
      t.dim() == 0 ? (t.scalar_type() == at::kLong   ? boost::json::value(t.item<std::int64_t>())
                      : t.scalar_type() == at::kBool ? boost::json::value(t.item<bool>())
                                                     : boost::json::value(t.item<double>()))
                   : nested(t, 0, 0);
  return boost::json::object{{"shape", shape}, {"dtype", dtype}, {"data", data}};
}

// Item `i`'s share of a value: tensors batched on dim 0 are sliced, the rest copied.
util::Result<boost::json::value> item_json(const c10::IValue& v, std::int64_t n, std::int64_t i) {
  if (v.isTensor()) {
    const at::Tensor t = v.toTensor();
    if (t.dim() >= 1 && t.size(0) == n) return tensor_json(t[i]);
    return tensor_json(t);
  }
  if (v.isTuple() || v.isList()) {
    boost::json::array out;
    const auto elements = v.isTuple() ? v.toTupleRef().elements().vec() : v.toListRef().vec();
    for (const auto& e : elements) {
      auto item = item_json(e, n, i);
      if (!item) return item;
      out.push_back(std::move(*item));
    }
    return boost::json::value(std::move(out));
  }
  if (v.isGenericDict()) {
    boost::json::object out;
    for (const auto& entry : v.toGenericDict()) {
      const c10::IValue& key = entry.key();
      const std::string name = key.isString() ? key.toStringRef()
                               : key.isInt()  ? std::to_string(key.toInt())
                                              : "?";
      auto item = item_json(entry.value(), n, i);
      if (!item) return item;
      out[name] = std::move(*item);
    }
    return boost::json::value(std::move(out));
  }
  if (v.isDouble()) return boost::json::value(v.toDouble());
  if (v.isInt()) return boost::json::value(v.toInt());
  if (v.isBool()) return boost::json::value(v.toBool());
  if (v.isString()) return boost::json::value(v.toStringRef());
  if (v.isNone()) return boost::json::value(nullptr);
  return invalid(fmt::format("the model returned a {}, which has no JSON form", v.tagKind()));
}

util::Result<std::vector<ModelOutput>> classification(const c10::IValue& output, std::int64_t n,
                                                      std::size_t num_labels) {
  c10::IValue first = output;
  if (output.isTuple() && !output.toTupleRef().elements().empty())
    first = output.toTupleRef().elements()[0];
  else if (output.isList() && output.toListRef().size() > 0)
    first = output.toListRef()[0];
  if (!first.isTensor()) {
    return invalid(
        fmt::format("classification needs a [batch, classes] tensor, the model returned a {} "
                    "(use postprocess.mode = \"raw\" for other outputs)",
                    first.tagKind()));
  }
  const at::Tensor t = first.toTensor().detach().to(at::kCPU, at::kFloat).contiguous();
  if (t.dim() != 2 || t.size(0) != n) {
    return invalid(
        fmt::format("classification needs a [{}, classes] tensor for a batch of {}, got {}", n, n,
                    shape_of(t)));
  }
  if (num_labels > 0 && t.size(1) != static_cast<std::int64_t>(num_labels)) {
    return invalid(fmt::format("the model gives {} scores per image but {} labels are configured",
                               t.size(1), num_labels));
  }
  if (!at::isfinite(t).all().item<bool>())
    return invalid("the model's output holds NaN or infinite values");
  std::vector<ModelOutput> out(static_cast<std::size_t>(n));
  const float* data = t.data_ptr<float>();
  for (std::int64_t i = 0; i < n; ++i)
    out[i].scores.assign(data + i * t.size(1), data + (i + 1) * t.size(1));
  return out;
}

}  // namespace

util::Result<std::vector<ModelOutput>> split_output(const c10::IValue& output, std::int64_t n,
                                                    config::PostprocessMode mode,
                                                    std::size_t num_labels) {
  if (mode == config::PostprocessMode::classification) return classification(output, n, num_labels);
  std::vector<ModelOutput> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    auto item = item_json(output, n, i);
    if (!item) return item.error();
    out[i].raw = std::move(*item);
  }
  return out;
}

}  // namespace inferwatch::infer
