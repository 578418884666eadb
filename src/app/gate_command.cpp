#include <inferwatch/app/gate_command.hpp>

#include <inferwatch/config/model_manifest.hpp>
#include <inferwatch/models/gate.hpp>
#include <inferwatch/util/json_text.hpp>

#include <fmt/format.h>

#include <iostream>

namespace inferwatch::app {
namespace {

std::string number(const std::optional<double>& x, std::string_view format = "{:.4f}") {
  return x ? fmt::format(fmt::runtime(format), *x) : "-";
}

// The verdict for people: the numbers against their thresholds, then every reason.
void print_text(const models::GateVerdict& v, std::ostream& out) {
  const models::GateNumbers& n = v.numbers;
  const config::GatePolicy& p = v.policy;
  out << fmt::format("gate {}/{}{}: {}\n", v.name, v.version,
                     v.model_version.empty() ? "" : " (" + v.model_version + ")",
                     v.passed ? "passed" : "refused");
  out << fmt::format("  golden set:  {} image(s), {} with an expected output\n", n.golden_images,
                     n.expected_outputs);
  out << fmt::format("  accuracy:    {} (min_accuracy {}, live {}, max_accuracy_drop {})\n",
                     number(n.accuracy), p.min_accuracy, number(n.live_accuracy),
                     p.max_accuracy_drop);
  out << fmt::format("  output diff: {} (output_tolerance {}){}\n",
                     number(n.max_output_diff, "{:.3g}"), p.output_tolerance,
                     n.worst_file.empty() ? "" : ", largest at golden/" + n.worst_file);
  out << fmt::format(
      "  latency:     p50 {} ms, p99 {} ms over {} one-image forwards (max {} / {} ms)\n",
      number(n.p50_ms, "{:.2f}"), number(n.p99_ms, "{:.2f}"), n.latency_samples, p.max_p50_ms,
      p.max_p99_ms);
  out << fmt::format("  time:        load {:.0f} ms, gate {:.0f} ms\n", n.load_ms, n.elapsed_ms);
  for (const auto& r : v.reasons) out << fmt::format("  {}: {}\n", r.code, r.message);
}

}  // namespace

int gate_command(const GateCommandOptions& options) {
  const config::LoadedManifest loaded = config::load_manifest(options.dir);
  if (!loaded.problems.empty()) {
    std::cerr << fmt::format("inferwatch: {} problem(s) in {}:\n", loaded.problems.size(),
                             (options.dir / config::k_manifest_file).string());
    for (const auto& p : loaded.problems) std::cerr << "  " << p.to_string() << '\n';
    return 2;
  }
  models::GateOptions gate_options;
  gate_options.live_accuracy = options.live_accuracy;
  const models::GateVerdict verdict = models::Gate(gate_options).run(loaded.manifest);
  if (options.json)
    std::cout << util::to_json_text(models::to_json(verdict)) << '\n';
  else
    print_text(verdict, std::cout);
  std::cout.flush();
  return verdict.passed ? 0 : 1;
}

}  // namespace inferwatch::app
