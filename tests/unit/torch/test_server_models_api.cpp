// The model lifecycle routes driven through the Router, as the HTTP server calls them, over a
// real models::Registry (real repository folder and catalog, fake loader and gate): statuses,
// bodies, and what the repository and the staging folder hold afterwards.
#include <inferwatch/server/models_api.hpp>

#include <inferwatch/models/registry.hpp>
#include <inferwatch/server/version_archive.hpp>
#include <inferwatch/store/model_catalog.hpp>

#include "../support/ok.hpp"
#include "../support/temp_dir.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <future>
#include <set>

namespace {

using namespace inferwatch;
using inferwatch::test::ok;
using inferwatch::test::TempDir;
namespace fs = std::filesystem;
namespace json = boost::json;

class FakeModel final : public infer::Model {
 public:
  FakeModel() {
    m_info.name = "shapes";
    m_info.version = "shapes@fake";
    m_info.labels = {"yes", "no"};
    m_info.channels = 1;
    m_info.height = 64;
    m_info.width = 64;
    m_info.max_batch_size = 16;
  }
  const infer::ModelInfo& info() const override { return m_info; }
  util::Result<std::vector<infer::ModelOutput>> forward(
      std::span<const infer::InputTensor* const> batch) override {
    return std::vector<infer::ModelOutput>(batch.size(), infer::ModelOutput{{0.9f, 0.1f}, {}});
  }

 private:
  infer::ModelInfo m_info;
};

const std::string k_token = "s3cret";
const std::string k_shadow = "[rollout]\nmode = \"shadow\"\nmin_files = 100\n";

struct Rig {
  TempDir dir;
  fs::path repository = dir / "models";
  fs::path staging = repository / ".staging";
  std::unique_ptr<store::ModelCatalog> catalog = ok(store::ModelCatalog::open(dir / "db"));
  std::set<std::string> refused;  // versions the fake gate refuses
  std::unique_ptr<models::Registry> registry;
  std::unique_ptr<server::ModelsApi> api;
  server::Router router{k_token};

  Rig() {
    write("models/shapes/v1/", "");
    models::Registry::Options options;
    options.repository = repository;
    options.default_model = "shapes";
    options.poll = std::chrono::hours(1);  // polled by start() only
    registry = std::make_unique<models::Registry>(
        options, *catalog,
        [](const config::ModelManifest& m) -> util::Result<std::shared_ptr<models::Engine>> {
          return std::make_shared<models::Engine>(std::make_unique<FakeModel>(), m.preprocess,
                                                  m.postprocess);
        },
        [this](const config::ModelManifest& m, std::optional<double>) {
          models::GateVerdict v;
          v.name = m.name;
          v.version = m.version;
          if (refused.contains(m.version))
            v.reasons.push_back({"accuracy_below_threshold", "refused on purpose"});
          v.passed = v.reasons.empty();
          return v;
        });
    ok(registry->start());
    api = std::make_unique<server::ModelsApi>(*registry,
                                              server::ModelsApiOptions{.staging_dir = staging});
    api->add_routes(router);
  }
  ~Rig() {
    api->shutdown();
    registry->stop();
  }

  // A version directory (model.pt, then model.toml) under `base` in the rig's folder.
  fs::path write(const std::string& base, const std::string& toml) {
    dir.write(base + "model.pt", "not a real model");
    return dir.write(base + "model.toml", toml).parent_path();
  }

  // The request as the HTTP server hands it over, waiting for the reply from the API's thread.
  server::Response call(const std::string& method, const std::string& path, std::string body = {},
                        std::map<std::string, std::string> query = {},
                        const std::string& token = k_token) {
    server::Request r;
    r.method = method;
    r.path = path;
    r.query = std::move(query);
    r.bearer_token = token;
    r.body = std::move(body);
    std::promise<server::Response> reply;
    auto answered = reply.get_future();
    router.handle(std::move(r),
                  [&reply](server::Response response) { reply.set_value(std::move(response)); });
    return answered.get();
  }

  server::Response upload(const std::string& version, std::string archive) {
    return call("POST", "/v1/models/shapes/versions", std::move(archive), {{"version", version}});
  }

  std::string state_of(const std::string& version) {
    const json::object all = registry->describe();
    for (const auto& m : all.at("models").as_array()) {
      for (const auto& v : m.at("versions").as_array()) {
        if (v.at("version").as_string() == version) return std::string(v.at("state").as_string());
      }
    }
    return "absent";
  }

  bool staging_empty() const { return !fs::exists(staging) || fs::is_empty(staging); }
};

json::value body_of(const server::Response& r) { return json::parse(r.body); }
std::string code_of(const server::Response& r) {
  return std::string(body_of(r).at("error").at("code").as_string());
}

la_ssize_t append(archive*, void* out, const void* data, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

// A tar archive with one symbolic link (which pack_directory would refuse to make).
std::string archive_with_symlink() {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open(a, &out, nullptr, append, nullptr);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "model.toml");
  archive_entry_set_filetype(e, AE_IFLNK);
  archive_entry_set_symlink(e, "/etc/passwd");
  archive_write_header(a, e);
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

}  // namespace

TEST_SUITE_BEGIN("server");

TEST_CASE("server::ModelsApi") {
  Rig rig;

  SUBCASE("every route needs the token") {
    CHECK(rig.call("GET", "/v1/models", {}, {}, "").status == 401);
    CHECK(rig.call("POST", "/v1/models/shapes/promote", {}, {}, "wrong").status == 401);
    CHECK(rig.call("POST", "/v1/models/shapes/rollback", {}, {}, "").status == 401);
    CHECK(rig.upload("v2", "x").status == 400);  // with it, the route judges the body
    CHECK(rig.call("POST", "/v1/models/shapes/versions", "x", {{"version", "v2"}}, "").status ==
          401);
  }
  SUBCASE("GET /v1/models shows the registry") {
    const auto r = rig.call("GET", "/v1/models");
    CHECK(r.status == 200);
    const auto models = body_of(r).at("models").as_array();
    REQUIRE(models.size() == 1);
    CHECK(models[0].at("name").as_string() == "shapes");
    CHECK(models[0].at("live_version").as_string() == "v1");
  }
  SUBCASE("an upload that passes the gate is 201 and lands in the repository") {
    const fs::path source = rig.write("src/v2/", k_shadow);
    rig.dir.write("src/v2/golden/yes/a.png", "png");
    const auto r = rig.upload("v2", ok(server::pack_directory(source)));
    CHECK(r.status == 201);
    CHECK(body_of(r).at("verdict").at("passed").as_bool());
    CHECK(body_of(r).at("model").at("candidate_version").as_string() == "v2");
    CHECK(rig.state_of("v2") == "candidate");
    CHECK(fs::exists(rig.repository / "shapes" / "v2" / "golden" / "yes" / "a.png"));
    CHECK(rig.staging_empty());
  }
  SUBCASE("an archive of the folder itself (one top folder) is accepted") {
    rig.write("src/v2/", "");
    const auto r = rig.upload("v2", ok(server::pack_directory(rig.dir / "src")));
    CHECK(r.status == 201);
    CHECK(fs::exists(rig.repository / "shapes" / "v2" / "model.toml"));
    CHECK(rig.staging_empty());
  }
  SUBCASE("a version the gate refuses is 422 with its reasons, and nothing is added") {
    rig.refused.insert("v2-worse");
    const auto r = rig.upload("v2-worse", ok(server::pack_directory(rig.write("src/v2/", ""))));
    CHECK(r.status == 422);
    const auto body = body_of(r);
    CHECK(body.at("error").at("code").as_string() == "gate_refused");
    CHECK(body.at("error").at("reasons").at(0).at("code").as_string() ==
          "accuracy_below_threshold");
    CHECK_FALSE(body.at("verdict").at("passed").as_bool());
    CHECK_FALSE(fs::exists(rig.repository / "shapes" / "v2-worse"));
    CHECK(rig.state_of("v1") == "live");
    CHECK(rig.staging_empty());
  }
  SUBCASE("an unsafe archive is 400 unsafe_entry, and nothing stays behind") {
    const auto r = rig.upload("v2", archive_with_symlink());
    CHECK(r.status == 400);
    CHECK(code_of(r) == "unsafe_entry");
    CHECK(rig.staging_empty());
  }
  SUBCASE("a body that is not an archive is 400 archive_invalid") {
    const auto r = rig.upload("v2", "model.toml = nonsense");
    CHECK(r.status == 400);
    CHECK(code_of(r) == "archive_invalid");
    CHECK(rig.staging_empty());
  }
  SUBCASE("an archive without model.toml is 422 manifest_missing") {
    rig.dir.write("src/v2/model.pt", "x");
    const auto r = rig.upload("v2", ok(server::pack_directory(rig.dir / "src" / "v2")));
    CHECK(r.status == 422);
    CHECK(code_of(r) == "manifest_missing");
    CHECK(rig.staging_empty());
  }
  SUBCASE("an existing version is 409 version_exists") {
    const auto r = rig.upload("v1", ok(server::pack_directory(rig.write("src/v1/", ""))));
    CHECK(r.status == 409);
    CHECK(code_of(r) == "version_exists");
    CHECK(rig.staging_empty());
  }
  SUBCASE("a missing or invalid version name is 400") {
    CHECK(rig.call("POST", "/v1/models/shapes/versions", "x").status == 400);
    const auto r = rig.upload("../v2", "x");
    CHECK(r.status == 400);
    CHECK(code_of(r) == "invalid_name");
  }
  SUBCASE("promote: 200 with the transition; 409 without a candidate; 404 for no model") {
    CHECK(code_of(rig.call("POST", "/v1/models/shapes/promote")) == "no_candidate");
    CHECK(rig.call("POST", "/v1/models/shapes/promote").status == 409);
    CHECK(rig.call("POST", "/v1/models/bolts/promote").status == 404);
    REQUIRE(rig.upload("v2", ok(server::pack_directory(rig.write("src/v2/", k_shadow)))).status ==
            201);
    const auto r = rig.call("POST", "/v1/models/shapes/promote");
    CHECK(r.status == 200);
    const auto body = body_of(r);
    CHECK(body.at("transition").at("from").as_string() == "shadow");
    CHECK(body.at("transition").at("to").as_string() == "promoted");
    CHECK(body.at("model").at("live_version").as_string() == "v2");
    CHECK(rig.state_of("v2") == "live");
  }
  SUBCASE("rollback: the body's reason is kept; bad bodies and unknown versions are refused") {
    REQUIRE(rig.upload("v2", ok(server::pack_directory(rig.write("src/v2/", k_shadow)))).status ==
            201);
    CHECK(code_of(rig.call("POST", "/v1/models/shapes/rollback", "[1]")) == "invalid_body");
    CHECK(code_of(rig.call("POST", "/v1/models/shapes/rollback", R"({"why": "x"})")) ==
          "invalid_body");
    CHECK(rig.call("POST", "/v1/models/shapes/rollback", R"({"to_version": "v9"})").status == 404);
    const auto r =
        rig.call("POST", "/v1/models/shapes/rollback", R"({"reason": "customer complaint"})");
    CHECK(r.status == 200);
    const auto body = body_of(r);
    CHECK(body.at("transition").at("to").as_string() == "rolled_back");
    CHECK(body.at("transition").at("detail").as_string() == "customer complaint");
    CHECK(rig.state_of("v2") == "rolled_back");
    CHECK(rig.call("POST", "/v1/models/shapes/rollback").status == 409);  // nothing left
  }
  SUBCASE("after shutdown, lifecycle requests are 503 shutting_down") {
    rig.api->shutdown();
    const auto r = rig.call("POST", "/v1/models/shapes/promote");
    CHECK(r.status == 503);
    CHECK(code_of(r) == "shutting_down");
  }
}

TEST_CASE("server::model_error_status") {
  CHECK(server::model_error_status("unknown_model") == 404);
  CHECK(server::model_error_status("is_candidate") == 409);
  CHECK(server::model_error_status("load_failed") == 422);
  CHECK(server::model_error_status("store_busy") == 503);
  CHECK(server::model_error_status("archive_too_large") == 413);
  CHECK(server::model_error_status("move_failed") == 500);
}

TEST_SUITE_END();
