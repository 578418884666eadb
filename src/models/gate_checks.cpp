#include <inferwatch/models/gate_checks.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace inferwatch::models {
namespace {

// Nested lists → flat values; null (how the raw form writes NaN and Inf) → NaN.
bool flatten(const boost::json::value& v, OutputTensor& out) {
  if (v.is_array()) {
    for (const auto& e : v.as_array()) {
      if (!flatten(e, out)) return false;
    }
    return true;
  }
  if (v.is_null()) {
    out.values.push_back(std::numeric_limits<double>::quiet_NaN());
    ++out.non_finite;
    return true;
  }
  if (v.is_bool()) {
    out.values.push_back(v.as_bool() ? 1.0 : 0.0);
    return true;
  }
  if (!v.is_number()) return false;
  out.values.push_back(v.to_number<double>());
  return true;
}

}  // namespace

util::Result<OutputTensor> output_tensor(const boost::json::value& raw) {
  const boost::json::value* v = &raw;
  if (v->is_array() && !v->as_array().empty()) v = &v->as_array()[0];
  const boost::json::object* o = v->if_object();
  const boost::json::value* shape = o ? o->if_contains("shape") : nullptr;
  const boost::json::value* dtype = o ? o->if_contains("dtype") : nullptr;
  const boost::json::value* data = o ? o->if_contains("data") : nullptr;
  if (!shape || !shape->is_array() || !dtype || !dtype->is_string() || !data) {
    return util::Error{"not_a_tensor",
                       "the model's output is not a tensor (or a tuple or list "
                       "starting with one)"};
  }
  OutputTensor out;
  for (const auto& d : shape->as_array()) {
    if (!d.is_int64()) return util::Error{"not_a_tensor", "the output's shape is not integers"};
    out.shape.push_back(d.as_int64());
  }
  out.dtype = std::string(dtype->as_string());
  if (!flatten(*data, out)) return util::Error{"not_a_tensor", "the output's data is not numbers"};
  return out;
}

std::string torch_dtype(std::string_view io_dtype) {
  if (io_dtype == "float32") return "Float";
  if (io_dtype == "float16") return "Half";
  if (io_dtype == "bfloat16") return "BFloat16";
  if (io_dtype == "float64") return "Double";
  if (io_dtype == "int64") return "Long";
  if (io_dtype == "int32") return "Int";
  if (io_dtype == "bool") return "Bool";
  return "";
}

double percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0.0;
  std::sort(samples.begin(), samples.end());
  const auto n = static_cast<double>(samples.size());
  const auto rank = static_cast<std::size_t>(std::ceil(std::clamp(p, 0.0, 100.0) / 100.0 * n));
  return samples[std::clamp<std::size_t>(rank, 1, samples.size()) - 1];
}

std::optional<std::size_t> top1(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  if (std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); }))
    return std::nullopt;
  return static_cast<std::size_t>(std::max_element(values.begin(), values.end()) - values.begin());
}

std::optional<double> max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return std::nullopt;
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::abs(a[i] - b[i]);
    if (std::isnan(d)) return std::numeric_limits<double>::infinity();
    worst = std::max(worst, d);
  }
  return worst;
}

}  // namespace inferwatch::models
