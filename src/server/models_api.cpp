#include <inferwatch/server/models_api.hpp>

#include <inferwatch/models/drift_monitor.hpp>
#include <inferwatch/models/registry.hpp>
#include <inferwatch/util/json_text.hpp>
#include <inferwatch/util/thread_name.hpp>
#include <inferwatch/util/time.hpp>
#include <inferwatch/util/utf8.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <stdlib.h>
#include <system_error>
#include <utility>
#include <vector>

namespace inferwatch::server {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr std::size_t k_max_reason_bytes = 1024;
constexpr std::string_view k_upload_prefix = "upload-";

Response error_of(const util::Error& e) {
  return error_response(model_error_status(e.code), e.code, e.message);
}

// The describe() entry of `model`, or null.
json::value model_entry(const models::Registry& registry, std::string_view model) {
  json::object all = registry.describe();
  for (auto& m : all["models"].as_array()) {
    if (m.as_object()["name"].as_string() == model) return std::move(m);
  }
  return nullptr;
}

json::object transition_json(const models::RolloutEvent& e) {
  return json::object{
      {"model", e.model},
      {"from", models::to_string(e.from)},
      {"to", models::to_string(e.to)},
      {"reason", e.reason},
      {"detail", e.detail},
      {"live_version", e.live_version},
      {"candidate_version", e.candidate_version},
      {"at", util::format_utc(e.at)},
  };
}

// {"transition": …, "model": <the model as GET /v1/models shows it now>}
Response transition_response(const models::Registry& registry,
                             const util::Result<models::RolloutEvent>& event) {
  if (!event) return error_of(event.error());
  return json_response(util::to_json_text(json::object{
      {"transition", transition_json(*event)}, {"model", model_entry(registry, event->model)}}));
}

std::optional<Response> bad_name(std::string_view what, const std::string& name) {
  if (models::valid_repository_name(name)) return std::nullopt;
  return error_response(400, "invalid_name",
                        fmt::format("{} \"{}\" is not a valid name: 1 to 64 of A-Z a-z 0-9 . _ -, "
                                    "starting with a letter or digit",
                                    what, util::to_valid_utf8(name)));
}

// A fresh folder under `staging`, removed with everything in it when this goes away.
class StagingDir {
 public:
  static util::Result<StagingDir> create(const fs::path& staging) {
    std::error_code ec;
    fs::create_directories(staging, ec);
    if (ec) {
      return util::Error{"staging_failed",
                         fmt::format("cannot create {}: {}", staging.string(), ec.message())};
    }
    std::string pattern = (staging / (std::string(k_upload_prefix) + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return util::Error{"staging_failed",
                         fmt::format("cannot create a folder in {}: {}", staging.string(),
                                     std::error_code(errno, std::generic_category()).message())};
    }
    return StagingDir(pattern);
  }
  StagingDir(StagingDir&& other) noexcept : m_path(std::exchange(other.m_path, {})) {}
  StagingDir& operator=(StagingDir&&) = delete;
  ~StagingDir() {
    if (m_path.empty()) return;
    std::error_code ec;
    fs::remove_all(m_path, ec);
    if (ec) spdlog::warn("cannot remove the upload folder {}: {}", m_path.string(), ec.message());
  }
  const fs::path& path() const { return m_path; }

 private:
  explicit StagingDir(fs::path path) : m_path(std::move(path)) {}
  fs::path m_path;
};

// The version directory inside an extracted upload: its top, or its one folder when the archive
// was made of the folder itself (`tar czf v2.tgz v2/`).
std::optional<fs::path> version_root(const fs::path& top) {
  std::error_code ec;
  if (fs::is_regular_file(fs::symlink_status(top / "model.toml", ec))) return top;
  std::vector<fs::path> entries;
  for (fs::directory_iterator it(top, ec), end; !ec && it != end; it.increment(ec)) {
    entries.push_back(it->path());
  }
  if (ec || entries.size() != 1 || !fs::is_directory(fs::symlink_status(entries[0], ec)))
    return std::nullopt;
  if (fs::is_regular_file(fs::symlink_status(entries[0] / "model.toml", ec))) return entries[0];
  return std::nullopt;
}

// An upload's leftovers from a daemon that stopped in the middle of one.
void remove_stale_uploads(const fs::path& staging) {
  std::error_code ec;
  for (fs::directory_iterator it(staging, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->path().filename().string().starts_with(k_upload_prefix)) continue;
    std::error_code removed;
    fs::remove_all(it->path(), removed);
    spdlog::info("removed the unfinished upload {}", it->path().string());
  }
}

}  // namespace

unsigned model_error_status(std::string_view code) {
  if (code == "unknown_model" || code == "unknown_version") return 404;
  if (code == "no_candidate" || code == "nothing_to_roll_back" || code == "already_live" ||
      code == "is_candidate" || code == "version_exists")
    return 409;
  if (code == "version_unusable" || code == "load_failed" || code == "manifest_invalid" ||
      code == "manifest_missing" || code == "gate_refused")
    return 422;
  if (code == "invalid_name" || code == "invalid_parameter" || code == "invalid_body" ||
      code == "archive_invalid" || code == "unsafe_entry")
    return 400;
  if (code == "archive_too_large") return 413;
  if (code.starts_with("store_") || code == "busy" || code == "shutting_down") return 503;
  return 500;  // move_failed, extract_failed, staging_failed, anything unforeseen
}

ModelsApi::ModelsApi(models::Registry& registry, ModelsApiOptions options)
    : m_registry(registry), m_options(std::move(options)) {
  remove_stale_uploads(m_options.staging_dir);
  m_thread = std::thread([this] { run(); });
}

ModelsApi::~ModelsApi() { shutdown(); }

void ModelsApi::shutdown() {
  std::deque<std::pair<Task, Router::Reply>> left;
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    left.swap(m_queue);
  }
  m_wake.notify_all();
  for (auto& [task, reply] : left) {
    reply(error_response(503, "shutting_down", "the daemon is stopping; nothing was changed"));
  }
  if (m_thread.joinable()) m_thread.join();
}

void ModelsApi::submit(Task task, const Router::Reply& reply) {
  {
    std::lock_guard lock(m_mutex);
    if (!m_stopping && m_queue.size() <= m_options.max_waiting) {
      m_queue.emplace_back(std::move(task), reply);
      m_wake.notify_one();
      return;
    }
    if (!m_stopping) {
      return reply(
          error_response(503, "busy", "too many model operations are waiting; retry shortly"));
    }
  }
  reply(error_response(503, "shutting_down", "the daemon is stopping; nothing was changed"));
}

void ModelsApi::run() {
  util::name_this_thread("iw-models-api");
  for (;;) {
    std::pair<Task, Router::Reply> next;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
      if (m_queue.empty()) return;  // stopping
      next = std::move(m_queue.front());
      m_queue.pop_front();
    }
    next.first();  // replies itself, never throws (wrapped in add_routes)
  }
}

void add_single_model_routes(Router& router, std::function<infer::ModelInfo()> model) {
  router.add("GET", "/v1/models", [model = std::move(model)](const Request&) {
    const infer::ModelInfo info = model();
    boost::json::object entry{{"name", info.name},
                              {"routed", true},
                              {"live_version", info.version},
                              {"candidate_version", nullptr},
                              {"state", "stable"},
                              {"repository", false},
                              {"versions", boost::json::array{}}};
    return json_response(
        util::to_json_text(boost::json::object{{"models", boost::json::array{entry}}}));
  });
  const auto refuse = [](const Request&) {
    return error_response(409, "no_repository",
                          "this daemon serves one model ([model] path); versions, promotion and "
                          "rollback need model.repository (see docs/models.md)");
  };
  router.add("POST", "/v1/models/{name}/promote", refuse);
  router.add("POST", "/v1/models/{name}/rollback", refuse);
  router.add("POST", "/v1/models/{name}/versions", refuse, Access::token, Body::large);
}

void ModelsApi::add_routes(Router& router) {
  router.add("GET", "/v1/models", [this](const Request&) {
    json::object all = m_registry.describe();
    if (m_options.drift) models::add_drift(all, *m_options.drift);
    return json_response(util::to_json_text(all));
  });
  // Each lifecycle route runs `work` on the API's thread; a throw there is a 500, logged.
  auto on_worker = [this](Response (ModelsApi::*work)(const Request&)) {
    return [this, work](const Request& request, Router::Reply reply) {
      submit(
          [this, work, request, reply] {
            try {
              reply((this->*work)(request));
            } catch (const std::exception& e) {
              spdlog::error("{} {}: {}", request.method, request.path, e.what());
              reply(error_response(500, "internal_error",
                                   "the request failed inside the server; see the log"));
            }
          },
          reply);
    };
  };
  router.add_async("POST", "/v1/models/{name}/promote", on_worker(&ModelsApi::promote));
  router.add_async("POST", "/v1/models/{name}/rollback", on_worker(&ModelsApi::roll_back));
  // The archive: like POST /v1/infer's image, up to server.max_body_bytes.
  router.add_async("POST", "/v1/models/{name}/versions", on_worker(&ModelsApi::upload),
                   Access::token, Body::large);
}

Response ModelsApi::promote(const Request& r) {
  const std::string& name = r.params.at("name");
  if (auto bad = bad_name("model", name)) return *bad;
  return transition_response(m_registry, m_registry.promote(name));
}

Response ModelsApi::roll_back(const Request& r) {
  const std::string& name = r.params.at("name");
  if (auto bad = bad_name("model", name)) return *bad;
  std::optional<std::string> to_version;
  std::string reason;
  if (r.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    boost::system::error_code ec;
    const json::value body = json::parse(r.body, ec);
    if (ec || !body.is_object()) {
      return error_response(400, "invalid_body",
                            "the body must be empty or a JSON object {\"to_version\": \"...\", "
                            "\"reason\": \"...\"}");
    }
    for (const auto& [key, value] : body.as_object()) {
      if (key != "to_version" && key != "reason") {
        return error_response(400, "invalid_body",
                              fmt::format("unknown key \"{}\": only to_version and reason",
                                          util::to_valid_utf8(std::string(key))));
      }
      if (!value.is_string() && !value.is_null()) {
        return error_response(400, "invalid_body", fmt::format("{} must be a string", key));
      }
    }
    const auto& o = body.as_object();
    if (const auto* v = o.if_contains("to_version"); v && v->is_string()) {
      to_version = std::string(v->as_string());
      if (auto bad = bad_name("version", *to_version)) return *bad;
    }
    if (const auto* v = o.if_contains("reason"); v && v->is_string()) {
      reason = std::string(v->as_string());
      if (reason.size() > k_max_reason_bytes)
        return error_response(400, "invalid_body",
                              fmt::format("reason is longer than {} bytes", k_max_reason_bytes));
    }
  }
  return transition_response(m_registry,
                             m_registry.roll_back(name, std::move(to_version), std::move(reason)));
}

Response ModelsApi::upload(const Request& r) {
  const std::string& name = r.params.at("name");
  if (auto bad = bad_name("model", name)) return *bad;
  const auto version_it = r.query.find("version");
  if (version_it == r.query.end() || version_it->second.empty()) {
    return error_response(400, "invalid_parameter",
                          "the version's name is required: ?version=NAME");
  }
  const std::string& version = version_it->second;
  if (auto bad = bad_name("version", version)) return *bad;
  if (r.body.empty()) {
    return error_response(400, "archive_invalid",
                          "the body must be the version directory as a tar archive (gzip "
                          "optional)");
  }

  auto staged = StagingDir::create(m_options.staging_dir);
  if (!staged) return error_of(staged.error());
  const auto extracted = extract_archive(r.body, staged->path(), m_options.archive);
  if (!extracted) return error_of(extracted.error());
  const auto root = version_root(staged->path());
  if (!root) {
    return error_response(422, "manifest_missing",
                          "the archive has no model.toml at its top (or in its one top folder): "
                          "a version directory holds model.toml, the TorchScript file and "
                          "optionally golden/");
  }
  spdlog::info("model {} version {}: uploaded ({} files, {} bytes), gating", name, version,
               extracted->files, extracted->bytes);
  const auto verdict = m_registry.add_version(name, version, *root);
  if (!verdict) return error_of(verdict.error());
  json::object verdict_json = models::to_json(*verdict);
  if (!verdict->passed) {
    json::array reasons;
    std::string summary;
    for (const auto& reason : verdict->reasons) {
      reasons.push_back(json::object{{"code", reason.code}, {"message", reason.message}});
      summary += (summary.empty() ? "" : "; ") + reason.message;
    }
    json::object error{{"code", "gate_refused"},
                       {"message", fmt::format("model {} version {} did not pass the gate: {}",
                                               name, version, summary)},
                       {"reasons", std::move(reasons)}};
    return json_response(util::to_json_text(json::object{{"error", std::move(error)},
                                                         {"verdict", std::move(verdict_json)}}),
                         422);
  }
  return json_response(util::to_json_text(json::object{{"verdict", std::move(verdict_json)},
                                                       {"model", model_entry(m_registry, name)}}),
                       201);
}

}  // namespace inferwatch::server
