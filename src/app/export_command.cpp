#include <inferwatch/app/export_command.hpp>

#include <inferwatch/dataset/exporter.hpp>
#include <inferwatch/store/labelled_results.hpp>
#include <inferwatch/util/json_text.hpp>
#include <inferwatch/util/path_within.hpp>
#include <inferwatch/util/time.hpp>
#include <inferwatch/util/utf8.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <iostream>
#include <set>

namespace inferwatch::app {
namespace {

std::string skipped_counts(const dataset::ExportSummary& s) {
  std::string out;
  for (const auto& [reason, n] : s.skipped_by_reason) {
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", reason, n);
  }
  return out;
}

boost::json::object to_json(const dataset::ExportSummary& s, const std::filesystem::path& out) {
  boost::json::object o;
  o["dataset"] = util::to_valid_utf8(out.string());
  o["added"] = s.added;
  o["hardlinked"] = s.hardlinked;
  o["copied"] = s.copied;
  o["relabelled"] = s.relabelled;
  o["updated"] = s.updated;
  o["already_present"] = s.already_present;
  boost::json::object by_reason;
  for (const auto& [reason, n] : s.skipped_by_reason) by_reason[reason] = n;
  o["skipped"] = std::move(by_reason);
  o["examples"] = s.examples;
  o["folders"] = s.folders;
  return o;
}

}  // namespace

int export_command(const config::Config& config, const ExportCommandOptions& options) {
  store::LabelledQuery query;
  if (options.since) {
    const auto since = util::parse_rfc3339(*options.since);
    if (!since) {
      std::cerr << fmt::format(
          "inferwatch: --since {}: not an RFC 3339 time (e.g. 2026-11-23T10:00:00Z or "
          "2026-11-23)\n",
          *options.since);
      return 2;
    }
    query.since = util::format_utc(*since);
  }
  if (options.model) {
    const auto at = options.model->find('@');
    query.model = options.model->substr(0, at);
    if (at != std::string::npos) query.version = options.model->substr(at + 1);
    if (query.model.empty() || (query.version && query.version->empty())) {
      std::cerr << fmt::format("inferwatch: --model {}: expected NAME or NAME@VERSION\n",
                               *options.model);
      return 2;
    }
  }

  auto results = store::read_labelled_results(config.database.path, query);
  if (!results) {
    std::cerr << fmt::format("inferwatch: cannot export: {}\n", results.error().message);
    return 2;
  }
  // Exported files inside a watched tree would come back as new images to process (and a
  // label folder could be a watched folder's name).
  std::set<std::filesystem::path> roots(config.watch.paths.begin(), config.watch.paths.end());
  for (const auto& r : *results) roots.insert(r.root);
  for (const auto& root : roots) {
    if (util::path_within(options.out, root) || util::path_within(root, options.out)) {
      std::cerr << fmt::format(
          "inferwatch: cannot export into {}: it overlaps the watched tree {}, whose new "
          "files the daemon processes; choose a folder outside it\n",
          options.out.string(), root.string());
      return 2;
    }
  }

  dataset::ExportOptions export_options;
  export_options.out = options.out;
  export_options.max_file_bytes = config.watch.max_file_bytes;
  export_options.transfer =
      options.copy ? dataset::Transfer::copy : dataset::Transfer::link_or_copy;
  auto summary = dataset::export_dataset(*results, export_options);
  if (!summary) {
    std::cerr << fmt::format("inferwatch: export into {} failed ({}): {}\n", options.out.string(),
                             summary.error().code, summary.error().message);
    return 2;
  }
  const dataset::ExportSummary& s = *summary;
  for (const auto& skip : s.skipped) {
    std::cerr << fmt::format("skipped result {} {}: {}: {}\n", skip.result_id,
                             util::quote_for_log(skip.path), skip.reason,
                             util::escape_controls(skip.message));
  }
  if (options.json) {
    std::cout << util::to_json_text(to_json(s, options.out)) << '\n';
  } else {
    std::cout << fmt::format(
        "exported {} new ({} hardlinked, {} copied), {} relabelled, {} updated, {} already "
        "present, {} skipped{}: {} example(s) in {} label folder(s) in {}\n",
        s.added, s.hardlinked, s.copied, s.relabelled, s.updated, s.already_present,
        s.skipped.size(), s.skipped.empty() ? "" : " (" + skipped_counts(s) + ")", s.examples,
        s.folders, options.out.string());
  }
  std::cout.flush();
  return s.examples > 0 ? 0 : 1;
}

}  // namespace inferwatch::app
