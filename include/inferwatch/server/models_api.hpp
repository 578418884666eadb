#pragma once

// The model lifecycle endpoints (SPEC §10, docs/api.md "Models"):
//   GET  /v1/models                              the registry (models::Registry::describe)
//   POST /v1/models/{name}/promote               make the candidate live
//   POST /v1/models/{name}/rollback              {"to_version"?, "reason"?}
//   POST /v1/models/{name}/versions?version=V    body: the version directory as a tar archive
// All token-protected. Promote, rollback and upload gate, load and write the catalog, which takes
// seconds: they run one at a time, in arrival order, on this object's own thread, never on the
// HTTP server's io threads. An upload is extracted (server::extract_archive) into a fresh folder
// under `staging_dir` (on the repository's file system, so the registry can rename it into
// place), which is removed afterwards whatever the outcome.

#include <inferwatch/infer/model_info.hpp>
#include <inferwatch/server/router.hpp>
#include <inferwatch/server/version_archive.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>

namespace inferwatch::models {
class Registry;
class DriftMonitor;
}  // namespace inferwatch::models

namespace inferwatch::server {

struct ModelsApiOptions {
  // Uploads are extracted beneath it: `<model.repository>/.staging` (hidden, so the registry's
  // poll skips it). Created when missing.
  std::filesystem::path staging_dir;
  ArchiveLimits archive{};
  // Lifecycle requests waiting behind the one running; more get 503 `busy`.
  std::size_t max_waiting = 16;
  // GET /v1/models adds each version's "drift" from it (models::add_drift); null: none.
  const models::DriftMonitor* drift = nullptr;
};

// Without a model repository: GET /v1/models lists the one model `model()` returns (as a
// stable model with its live version and no versions to manage), and the lifecycle routes answer
// 409 `no_repository`, so clients see the same API whichever way the daemon is configured.
void add_single_model_routes(Router& router, std::function<infer::ModelInfo()> model);

// The HTTP status for an error code of models::Registry or of an upload.
unsigned model_error_status(std::string_view code);

// Thread-safe. Construct before the HttpServer and call shutdown() before stopping it, so no
// reply is sent after the server is gone.
class ModelsApi {
 public:
  // `registry` must outlive this object.
  ModelsApi(models::Registry& registry, ModelsApiOptions options);
  ~ModelsApi();  // shutdown()
  ModelsApi(const ModelsApi&) = delete;
  ModelsApi& operator=(const ModelsApi&) = delete;

  // Register the four routes on `router` (Access::token; the upload as Body::large, up to
  // server.max_body_bytes).
  void add_routes(Router& router);

  // Finish the operation running, answer the waiting ones 503 `shutting_down`, join the thread.
  // Idempotent.
  void shutdown();

 private:
  using Task = std::function<void()>;
  // Queue `task`, or answer `reply` 503 when the queue is full or shut down.
  void submit(Task task, const Router::Reply& reply);
  void run();

  Response promote(const Request& request);
  Response roll_back(const Request& request);
  Response upload(const Request& request);

  models::Registry& m_registry;
  ModelsApiOptions m_options;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::deque<std::pair<Task, Router::Reply>> m_queue;  // m_mutex
  bool m_stopping = false;                             // m_mutex
  std::thread m_thread;
};

}  // namespace inferwatch::server
