#include <inferwatch/dataset/exporter.hpp>

#include <inferwatch/dataset/manifest.hpp>
#include <inferwatch/dataset/names.hpp>
#include <inferwatch/dataset/plan.hpp>
#include <inferwatch/util/file.hpp>
#include <inferwatch/util/json_text.hpp>
#include <inferwatch/util/root_dir.hpp>
#include <inferwatch/util/sha256.hpp>
#include <inferwatch/util/time.hpp>
#include <inferwatch/util/utf8.hpp>

#include "out_dir.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <sys/stat.h>
#include <chrono>
#include <optional>

namespace inferwatch::dataset {
namespace {

constexpr const char* k_manifest = "manifest.jsonl";
constexpr const char* k_skipped = "skipped.jsonl";
constexpr std::int64_t k_max_manifest_bytes = 4LL * 1024 * 1024 * 1024;

util::FileStat stat_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return {};
  return util::FileStat{
      static_cast<std::int64_t>(st.st_dev), static_cast<std::int64_t>(st.st_ino),
      static_cast<std::int64_t>(st.st_size),
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

// What differs between the version a result was made from and the file now.
std::string differences(const util::FileStat& then, const util::FileStat& now) {
  std::string out;
  const auto add = [&](bool differs, std::string_view what) {
    if (!differs) return;
    out += out.empty() ? "" : ", ";
    out += what;
  };
  add(then.dev != now.dev || then.inode != now.inode, "another file (device/inode)");
  add(then.size != now.size, "size");
  add(then.mtime_ns != now.mtime_ns, "modification time");
  return out;
}

// The skip reason for an error of opening a source file beneath its root.
std::string reason_of(const std::string& code) {
  if (code == "not_found") return "gone";
  if (code == "file_too_large") return "too_large";
  if (code == "not_regular_file" || code == "unsafe_path" || code == "permission_denied") {
    return code;
  }
  return "read_failed";
}

std::string skip_line(const Skip& s) {
  boost::json::object o;
  o["result_id"] = s.result_id;
  o["path"] = s.path;
  o["reason"] = s.reason;
  o["message"] = s.message;
  return util::to_json_text(o);
}

class Run {
 public:
  Run(OutDir out, Manifest manifest, const ExportOptions& options)
      : m_out(std::move(out)), m_manifest(std::move(manifest)), m_options(options) {}

  // One result; an Error only when OUT cannot be written.
  util::Result<void> take(const store::LabelledResult& r) {
    auto folder = label_folder(r.feedback.label);
    if (!folder) return skip(r, "unsafe_label", folder.error().message);
    const std::string name = example_file_name(r.result_id, r.raw_path);
    const auto found = m_manifest.find(r.result_id);
    const ManifestEntry* previous = found == m_manifest.end() ? nullptr : &found->second;
    const bool present = previous && m_out.has_file(previous->file);
    const Step step = plan_step(previous, present, r.feedback.id, *folder);
    switch (step) {
      case Step::keep:
        ++m_summary.already_present;
        return {};
      case Step::update:
        with_feedback(m_manifest[r.result_id], r);
        ++m_summary.updated;
        return changed();
      case Step::relabel: {
        auto dir = m_out.folder(*folder);
        if (!dir) return dir.error();
        if (auto moved = m_out.move(previous->file, *dir, name); !moved) return moved;
        ManifestEntry& entry = m_manifest[r.result_id];
        entry.file = *folder + "/" + name;
        with_feedback(entry, r);
        ++m_summary.relabelled;
        return changed();
      }
      case Step::add:
        break;
    }
    return add(r, *folder, name);
  }

  util::Result<ExportSummary> finish() {
    if (auto synced = m_out.sync_folders(); !synced) return synced.error();
    if (auto saved = save(); !saved) return saved.error();
    std::string skipped;
    for (const auto& s : m_summary.skipped) skipped += skip_line(s) + "\n";
    if (auto written = m_out.replace_top(k_skipped, skipped); !written) return written.error();
    m_summary.examples = static_cast<std::int64_t>(m_manifest.size());
    m_summary.folders = m_out.count_folders();
    return std::move(m_summary);
  }

  // Write the manifest as it stands (also after a failure: what was done stays recorded).
  util::Result<void> save() {
    if (auto synced = m_out.sync_folders(); !synced) return synced;
    return m_out.replace_top(k_manifest, to_text(m_manifest));
  }

 private:
  util::Result<void> skip(const store::LabelledResult& r, std::string reason, std::string message) {
    ++m_summary.skipped_by_reason[reason];
    m_summary.skipped.push_back(Skip{r.result_id, r.path, std::move(reason), std::move(message)});
    return {};
  }

  util::Result<void> changed() {
    if (++m_changes % m_options.checkpoint_every == 0) return save();
    return {};
  }

  static void with_feedback(ManifestEntry& e, const store::LabelledResult& r) {
    e.label = r.feedback.label;
    e.user = r.feedback.user;
    e.comment = r.feedback.comment;
    e.feedback_id = r.feedback.id;
    e.feedback_at = r.feedback.created_at;
  }

  const util::RootDir* root(const std::string& path, std::string& error) {
    auto it = m_roots.find(path);
    if (it == m_roots.end()) {
      auto opened = util::RootDir::open(path);
      if (!opened) {
        m_root_errors[path] = opened.error().message;
        it = m_roots.emplace(path, std::nullopt).first;
      } else {
        it = m_roots.emplace(path, std::move(*opened)).first;
      }
    }
    if (!it->second) error = m_root_errors[path];
    return it->second ? &*it->second : nullptr;
  }

  util::Result<void> add(const store::LabelledResult& r, const std::string& folder,
                         const std::string& name) {
    if (r.current_result_id && *r.current_result_id != r.result_id) {
      return skip(r, "superseded",
                  fmt::format("the file has a newer result ({}) since this feedback; give "
                              "feedback on that one",
                              *r.current_result_id));
    }
    std::string root_error;
    const util::RootDir* dir = root(r.root, root_error);
    if (!dir) return skip(r, "root_unavailable", root_error);
    util::FileStat opened;
    auto file = dir->open_file(r.raw_path, m_options.max_file_bytes, &opened);
    if (!file) return skip(r, reason_of(file.error().code), file.error().message);
    if (opened != r.version) {
      return skip(r, "changed",
                  fmt::format("the file changed since its result: {} differ(s)",
                              differences(r.version, opened)));
    }
    auto bytes = util::read_to_end(file->get(), opened.size, m_options.max_file_bytes, r.path);
    if (!bytes) return skip(r, reason_of(bytes.error().code), bytes.error().message);
    const std::string sha256 = util::sha256_hex(*bytes);
    if (!r.sha256.empty() && sha256 != r.sha256) {
      return skip(r, "changed", "the file's bytes differ from those its result was made from");
    }
    if (const auto after = stat_of(file->get()); after != r.version) {
      return skip(r, "changed", "the file changed while it was read");
    }

    auto out_dir = m_out.folder(folder);
    if (!out_dir) return out_dir.error();
    std::string method = "copy";
    if (m_options.transfer == Transfer::link_or_copy) {
      auto linked = m_out.link(file->get(), *out_dir, name);
      if (linked) {
        method = "hardlink";
        // The link is the inode itself: if it was written to since the check, the example is
        // not the bytes that were hashed.
        if (stat_of(file->get()) != r.version) {
          m_out.remove(*out_dir, name);
          return skip(r, "changed", "the file changed while it was linked");
        }
      } else if (linked.error().code != "link_unsupported") {
        return linked;
      }
    }
    if (method == "copy") {
      if (auto written = m_out.write(*out_dir, name, *bytes); !written) return written;
    }

    const std::string file_name = folder + "/" + name;
    ManifestEntry entry;
    entry.result_id = r.result_id;
    entry.file = file_name;
    entry.root = r.root;
    entry.path = r.path;
    if (r.raw_path != r.path) entry.path_bytes = util::base64_encode(r.raw_path);
    entry.sha256 = sha256;
    entry.model_version = r.model_version;
    entry.predicted_label = r.feedback.predicted_label;
    entry.predicted_score = r.predicted_score;
    with_feedback(entry, r);
    entry.exported_at = util::format_utc(std::chrono::system_clock::now());
    entry.method = method;
    m_manifest[r.result_id] = std::move(entry);
    ++m_summary.added;
    ++(method == "hardlink" ? m_summary.hardlinked : m_summary.copied);
    return changed();
  }

  OutDir m_out;
  Manifest m_manifest;
  const ExportOptions& m_options;
  ExportSummary m_summary;
  std::int64_t m_changes = 0;
  std::map<std::string, std::optional<util::RootDir>> m_roots;
  std::map<std::string, std::string> m_root_errors;
};

}  // namespace

util::Result<ExportSummary> export_dataset(std::span<const store::LabelledResult> results,
                                           const ExportOptions& options) {
  auto out = OutDir::open(options.out);
  if (!out) return out.error();
  auto text = out->read_top(k_manifest, k_max_manifest_bytes);
  if (!text) return text.error();
  Manifest manifest;
  if (*text) {
    auto parsed = parse_manifest(**text);
    if (!parsed) {
      return util::Error{parsed.error().code, fmt::format("{}/{}: {}", options.out.string(),
                                                          k_manifest, parsed.error().message)};
    }
    manifest = std::move(*parsed);
  }
  Run run(std::move(*out), std::move(manifest), options);
  for (const auto& r : results) {
    if (auto taken = run.take(r); !taken) {
      (void)run.save();  // keep what was done
      return taken.error();
    }
  }
  return run.finish();
}

}  // namespace inferwatch::dataset
