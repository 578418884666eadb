// The model registry driven through its interface with a real repository folder and catalog, a
// fake loader (engines over a fake model, remembered per version) and a fake gate (verdicts set
// per version): which version serves which file, how rollouts move, and what survives a restart.
// No poll thread: each test polls by hand, so every step is deterministic.
#include <inferwatch/models/registry.hpp>

#include <inferwatch/store/model_catalog.hpp>

#include "../support/ok.hpp"
#include "../support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <map>
#include <set>
#include <thread>

namespace {

using namespace inferwatch;
using inferwatch::test::ok;
using inferwatch::test::TempDir;
namespace fs = std::filesystem;

class FakeModel final : public infer::Model {
 public:
  explicit FakeModel(std::string version) {
    m_info.name = "shapes";
    m_info.version = "shapes@" + version;
    m_info.device = "cpu";
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

// Loads a fake engine per version and remembers it, so a test can tell which engine serves.
struct FakeLoader {
  std::map<std::string, std::weak_ptr<models::Engine>> engines;  // the last one per version
  std::map<std::string, int> loads;
  std::set<std::string> broken;  // versions that fail to load

  models::Registry::Loader loader() {
    return [this](const config::ModelManifest& m) -> util::Result<std::shared_ptr<models::Engine>> {
      ++loads[m.version];
      if (broken.contains(m.version)) return util::Error{"load_failed", "broken on purpose"};
      auto engine = std::make_shared<models::Engine>(std::make_unique<FakeModel>(m.version),
                                                     m.preprocess, m.postprocess);
      engines[m.version] = engine;
      return engine;
    };
  }
  std::shared_ptr<models::Engine> engine(const std::string& version) {
    return engines[version].lock();
  }
};

// Passes every version unless told otherwise; remembers the live accuracy it was given.
struct FakeGate {
  std::map<std::string, std::string> refusals;  // version → reason code
  std::map<std::string, double> accuracy;       // version → golden-set accuracy
  std::map<std::string, std::optional<double>> live_accuracy_seen;

  models::Registry::GateRunner runner() {
    return [this](const config::ModelManifest& m, std::optional<double> live_accuracy) {
      live_accuracy_seen[m.version] = live_accuracy;
      models::GateVerdict v;
      v.name = m.name;
      v.version = m.version;
      if (auto it = accuracy.find(m.version); it != accuracy.end()) v.numbers.accuracy = it->second;
      if (auto it = refusals.find(m.version); it != refusals.end()) {
        v.reasons.push_back({it->second, "refused on purpose"});
      }
      v.passed = v.reasons.empty();
      return v;
    };
  }
};

const models::TimePoint k_now{std::chrono::milliseconds(1'767'225'600'000)};  // 2026-01-01

struct Rig {
  TempDir dir;
  fs::path repository = dir / "models";
  std::unique_ptr<store::ModelCatalog> catalog = ok(store::ModelCatalog::open(dir / "db"));
  FakeLoader loader;
  FakeGate gate;
  std::vector<models::RegistryEvent> events;
  std::unique_ptr<models::Registry> registry;
  std::int64_t keep_versions = 3;
  models::Registry::Options::Mode mode = models::Registry::Options::Mode::daemon;

  Rig() { fs::create_directories(repository); }

  // A complete version: model.pt, then model.toml (written last, as a writer must).
  fs::path version(const std::string& version, const std::string& toml = "",
                   const std::string& model = "shapes") {
    const std::string base = "models/" + model + "/" + version + "/";
    dir.write(base + "model.pt", "not a real model");
    return dir.write(base + "model.toml", toml).parent_path();
  }

  models::Registry& start(std::vector<config::Route> routes = {},
                          std::chrono::milliseconds poll = std::chrono::milliseconds(0)) {
    models::Registry::Options options;
    options.repository = repository;
    options.routes = std::move(routes);
    options.default_model = "shapes";
    options.poll = poll;
    options.now = [] { return k_now; };
    options.keep_versions = keep_versions;
    options.mode = mode;
    registry.reset();  // the previous one writes its counts first
    registry =
        std::make_unique<models::Registry>(options, *catalog, loader.loader(), gate.runner());
    registry->on_event([this](const models::RegistryEvent& e) { events.push_back(e); });
    ok(registry->start());
    return *registry;
  }

  boost::json::object model_json(const std::string& name = "shapes") {
    const boost::json::object all = registry->describe();
    for (const auto& m : all.at("models").as_array()) {
      if (m.at("name").as_string() == name) return m.as_object();
    }
    FAIL("no model " << name << " in describe()");
    return {};
  }
  std::string state_of(const std::string& version, const std::string& model = "shapes") {
    const boost::json::object m = model_json(model);
    for (const auto& v : m.at("versions").as_array()) {
      if (v.at("version").as_string() == version) return std::string(v.at("state").as_string());
    }
    return "absent";
  }
  models::RolloutSnapshot rollout(const std::string& model = "shapes") {
    for (auto& r : registry->rollouts()) {
      if (r.model == model) return r;
    }
    FAIL("no rollout of " << model);
    return {};
  }
  bool on_disk(const std::string& version, const std::string& model = "shapes") {
    return fs::exists(fs::symlink_status(repository / model / version));
  }
  std::vector<std::string> transitions() {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.transition) out.push_back(e.transition->reason);
    }
    return out;
  }
};

results::Record record(std::string label, double score = 0.9, bool ok = true) {
  results::Record r;
  if (ok) {
    r.predictions.push_back(infer::Prediction{std::move(label), 0, score});
  } else {
    r.error = util::Error{"inference_failed", "failed on purpose"};
  }
  r.timings.infer_ms = 1.0;
  return r;
}

const std::string k_shadow = "[rollout]\nmode = \"shadow\"\nmin_files = 4\n";

}  // namespace

TEST_SUITE_BEGIN("models");

TEST_CASE("models::Registry::poll_once") {
  Rig rig;

  SUBCASE("a version directory is picked up once its model.toml exists") {
    rig.dir.write("models/shapes/v1/model.pt", "not a real model");
    auto& registry = rig.start();
    CHECK(registry.select("a.png").current == nullptr);
    CHECK(rig.state_of("v1") == "absent");

    rig.dir.write("models/shapes/v1/model.toml", "");
    registry.poll_once();
    const auto selection = registry.select("a.png");
    CHECK(selection.model == "shapes");
    REQUIRE(selection.current != nullptr);
    CHECK(selection.current == rig.loader.engine("v1"));
    CHECK(rig.state_of("v1") == "live");
    CHECK(rig.transitions() == std::vector<std::string>{"first_version"});
  }

  SUBCASE("the poll thread picks up a new version by itself; stop() ends it") {
    rig.version("v1");
    auto& registry = rig.start({}, std::chrono::milliseconds(5));
    rig.version("v2");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (registry.select("a.png").current == nullptr ||
           registry.select("a.png").current->info().version != "shapes@v2") {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // poll a condition
    }
    registry.stop();  // joined: nothing polls after this
    rig.version("v3");
    CHECK(rig.loader.loads.count("v3") == 0);
  }

  SUBCASE("dot-directories and invalid names are ignored") {
    rig.version(".v1.staging");
    rig.version("bad name");
    rig.version("v1", "", ".hidden");
    auto& registry = rig.start();
    CHECK(registry.select("a.png").current == nullptr);
    CHECK(rig.loader.loads.empty());
    CHECK(registry.describe().at("models").as_array().size() == 1);  // the routed "shapes"
  }

  SUBCASE("a refused version never serves, and describe() gives its reasons") {
    rig.version("v1");
    auto& registry = rig.start();
    rig.gate.refusals["v2"] = "accuracy_below_threshold";
    rig.version("v2", k_shadow);
    registry.poll_once();
    CHECK(registry.select("a.png").current == rig.loader.engine("v1"));
    CHECK(registry.select("a.png").shadow == nullptr);
    CHECK(rig.loader.loads.count("v2") == 0);
    CHECK(rig.state_of("v2") == "refused");
    const auto model = rig.model_json();
    const auto& versions = model.at("versions").as_array();
    const auto& gate = versions.at(1).at("gate").as_object();
    CHECK(gate.at("passed").as_bool() == false);
    CHECK(gate.at("reasons").as_array().at(0).at("code").as_string() == "accuracy_below_threshold");
    registry.poll_once();  // judged once, not again at every poll
    CHECK(std::count_if(rig.events.begin(), rig.events.end(),
                        [](const auto& e) { return e.verdict && e.version == "v2"; }) == 1);
  }

  SUBCASE("a model.toml with problems is refused as manifest_invalid") {
    rig.version("v1");
    auto& registry = rig.start();
    rig.version("v2", "[rollout]\nmode = \"sideways\"\n");
    registry.poll_once();
    CHECK(rig.state_of("v2") == "refused");
    const auto model = rig.model_json();
    const auto& gate = model.at("versions").as_array().at(1).at("gate").as_object();
    CHECK(gate.at("reasons").as_array().at(0).at("code").as_string() == "manifest_invalid");
    CHECK(registry.select("a.png").current == rig.loader.engine("v1"));
  }

  SUBCASE("a first start serves the newest version that passes; older passed ones are retired") {
    const auto v1 = rig.version("v1");
    const auto v2 = rig.version("v2");
    const auto v3 = rig.version("v3");
    const auto t = fs::file_time_type::clock::now();
    fs::last_write_time(v1 / "model.toml", t - std::chrono::hours(3));
    fs::last_write_time(v2 / "model.toml", t - std::chrono::hours(2));
    fs::last_write_time(v3 / "model.toml", t - std::chrono::hours(1));
    rig.gate.refusals["v3"] = "load_failed";
    auto& registry = rig.start();
    CHECK(registry.select("a.png").current == rig.loader.engine("v2"));
    CHECK(rig.state_of("v1") == "retired");
    CHECK(rig.state_of("v2") == "live");
    CHECK(rig.state_of("v3") == "refused");
  }

  SUBCASE("the gate is given the live version's golden-set accuracy") {
    rig.gate.accuracy["v1"] = 0.93;
    rig.version("v1");
    auto& registry = rig.start();
    rig.version("v2", k_shadow);
    registry.poll_once();
    CHECK_FALSE(rig.gate.live_accuracy_seen.at("v1").has_value());
    CHECK(rig.gate.live_accuracy_seen.at("v2") == 0.93);
  }

  SUBCASE("immediate: a passed version is live at once and the old one retired") {
    rig.version("v1");
    auto& registry = rig.start();
    rig.version("v2");  // [rollout] mode defaults to immediate
    registry.poll_once();
    CHECK(registry.select("a.png").current == rig.loader.engine("v2"));
    CHECK(rig.state_of("v1") == "retired");
    CHECK(rig.state_of("v2") == "live");
    CHECK(rig.rollout().state == models::RolloutState::promoted);
    CHECK(rig.loader.engine("v1") == nullptr);  // freed: nothing holds it any more
  }

  SUBCASE("a version that passed but does not load is refused with load_failed") {
    rig.version("v1");
    auto& registry = rig.start();
    rig.loader.broken.insert("v2");
    rig.version("v2", k_shadow);
    registry.poll_once();
    CHECK(rig.state_of("v2") == "refused");
    CHECK(registry.select("a.png").shadow == nullptr);
    const auto model = rig.model_json();
    const auto& gate = model.at("versions").as_array().at(1).at("gate").as_object();
    CHECK(gate.at("reasons").as_array().back().at("code").as_string() == "load_failed");
  }
}

TEST_CASE("models::Registry::select") {
  Rig rig;
  rig.version("v1");

  SUBCASE("shadow: the live version makes the current result, the candidate runs beside it") {
    auto& registry = rig.start();
    rig.version("v2", k_shadow);
    registry.poll_once();
    const auto s = registry.select("line-1/a.png");
    CHECK(s.arm == models::Arm::shadow);
    CHECK(s.current == rig.loader.engine("v1"));
    CHECK(s.shadow == rig.loader.engine("v2"));
    CHECK(rig.state_of("v2") == "candidate");
  }

  SUBCASE("canary: the files in the canary share by path hash get the candidate") {
    auto& registry = rig.start();
    rig.version("v2", "[rollout]\nmode = \"canary\"\ncanary_fraction = 0.3\n");
    registry.poll_once();
    int in_canary = 0;
    for (int i = 0; i < 200; ++i) {
      const std::string path = "line-1/crop_" + std::to_string(i) + ".png";
      const auto s = registry.select(path);
      const bool expected = models::in_canary(path, 0.3);
      in_canary += expected;
      CHECK(s.arm == (expected ? models::Arm::canary : models::Arm::live));
      CHECK(s.current == rig.loader.engine(expected ? "v2" : "v1"));
      CHECK(s.shadow == nullptr);
    }
    CHECK(in_canary > 0);
    CHECK(in_canary < 200);
  }

  SUBCASE("routes pick the model; a model without a version gives no engine") {
    rig.version("r1", "", "rulers");
    auto& registry = rig.start({config::Route{"rulers/**", "rulers"}, {"tapes/**", "tapes"}});
    CHECK(registry.select("rulers/a.png").current == rig.loader.engine("r1"));
    CHECK(registry.select("a.png").current == rig.loader.engine("v1"));
    const auto tapes = registry.select("tapes/a.png");
    CHECK(tapes.model == "tapes");
    CHECK(tapes.current == nullptr);
    CHECK(rig.model_json("tapes").at("routed").as_bool());
    CHECK(rig.model_json("tapes").at("live_version").is_null());
  }
}

TEST_CASE("models::Registry::observe") {
  Rig rig;
  rig.version("v1");
  auto& registry = rig.start();

  SUBCASE("shadow: promoted once min_files agreeing files are counted") {
    rig.version("v2", k_shadow);
    registry.poll_once();
    for (int i = 0; i < 4; ++i) {
      const auto s = registry.select("f" + std::to_string(i) + ".png");
      const auto live = record("yes"), candidate = record("yes", 0.8);
      registry.observe(s, live, &candidate);
    }
    const auto s = registry.select("next.png");
    CHECK(s.current == rig.loader.engine("v2"));
    CHECK(s.shadow == nullptr);
    CHECK(rig.state_of("v2") == "live");
    CHECK(rig.state_of("v1") == "retired");
    CHECK(rig.transitions() == std::vector<std::string>{"first_version", "started", "policy_met"});
  }

  SUBCASE("shadow: rolled back on a certain breach, and the live version keeps serving") {
    rig.version("v2", "[rollout]\nmode = \"shadow\"\nmin_files = 20\nmax_error_rate = 0.05\n");
    registry.poll_once();
    const auto live = record("yes"), failed = record("", 0, false);
    registry.observe(registry.select("a.png"), live, &failed);
    CHECK(rig.rollout().state == models::RolloutState::shadow);  // 1 of 20 allowed
    registry.observe(registry.select("b.png"), live, &failed);
    CHECK(rig.rollout().state == models::RolloutState::rolled_back);
    CHECK(rig.rollout().reason == "error_rate");
    const auto s = registry.select("c.png");
    CHECK(s.current == rig.loader.engine("v1"));
    CHECK(s.shadow == nullptr);
    CHECK(rig.state_of("v2") == "rolled_back");
    CHECK(rig.state_of("v1") == "live");
  }

  SUBCASE("canary: the candidate's and the live version's files are counted apart") {
    rig.version("v2", "[rollout]\nmode = \"canary\"\ncanary_fraction = 0.5\nmin_files = 100\n");
    registry.poll_once();
    int canary = 0, live = 0;
    for (int i = 0; i < 40; ++i) {
      const auto s = registry.select("f" + std::to_string(i) + ".png");
      registry.observe(s, record("yes"));
      (s.arm == models::Arm::canary ? canary : live) += 1;
    }
    CHECK(rig.rollout().counters.files == canary);
    CHECK(rig.rollout().counters.live_files == live);
  }

  SUBCASE("an outcome selected in an earlier rollout is not counted") {
    rig.version("v2", k_shadow);
    registry.poll_once();
    const auto old = registry.select("a.png");
    ok(registry.roll_back("shapes", std::nullopt, "wrong labels"));
    rig.version("v3", k_shadow);
    registry.poll_once();
    CHECK(rig.rollout().candidate_version == "v3");
    const auto live = record("yes"), candidate = record("yes");
    registry.observe(old, live, &candidate);
    CHECK(rig.rollout().counters.files == 0);
    registry.observe(registry.select("a.png"), live, &candidate);
    CHECK(rig.rollout().counters.files == 1);
  }
}

TEST_CASE("models::Registry::observe_feedback") {
  Rig rig;
  rig.version("v1");
  auto& registry = rig.start();
  rig.version("v2",
              "[rollout]\nmode = \"canary\"\ncanary_fraction = 0.5\nmin_files = 1000\n"
              "min_feedback_accuracy = 0.8\nmin_feedback_count = 10\n");
  registry.poll_once();
  REQUIRE(rig.rollout().state == models::RolloutState::canary);

  SUBCASE("the canary candidate's feedback accuracy below the policy rolls it back") {
    registry.observe_feedback("shapes", "v2", 9, 0);  // not yet min_feedback_count
    CHECK(rig.rollout().state == models::RolloutState::canary);
    registry.observe_feedback("shapes", "v2", 10, 7);
    CHECK(rig.rollout().state == models::RolloutState::rolled_back);
    CHECK(rig.rollout().reason == "feedback_accuracy");
    CHECK(rig.transitions().back() == "feedback_accuracy");
    CHECK(rig.state_of("v2") == "rolled_back");
    CHECK(rig.state_of("v1") == "live");
    const auto s = registry.select("any.png");
    CHECK(s.current == rig.loader.engine("v1"));
  }
  SUBCASE("feedback on the live version, another model or a good candidate changes nothing") {
    registry.observe_feedback("shapes", "v1", 100, 0);
    registry.observe_feedback("sketch", "v2", 100, 0);
    registry.observe_feedback("shapes", "v2", 10, 8);
    CHECK(rig.rollout().state == models::RolloutState::canary);
    CHECK(rig.state_of("v2") == "candidate");
  }
}

TEST_CASE("models::Registry manual changes") {
  Rig rig;
  rig.version("v1");
  auto& registry = rig.start();

  SUBCASE("promote makes the candidate live") {
    rig.version("v2", k_shadow);
    registry.poll_once();
    const auto event = ok(registry.promote("shapes"));
    CHECK(event.reason == "manual");
    CHECK(registry.select("a.png").current == rig.loader.engine("v2"));
    CHECK(rig.state_of("v2") == "live");
    CHECK(registry.promote("shapes").error().code == "no_candidate");
    CHECK(registry.promote("nope").error().code == "unknown_model");
  }

  SUBCASE("roll_back to an older version that passed loads it and makes it live") {
    rig.version("v2");
    registry.poll_once();
    REQUIRE(registry.select("a.png").current == rig.loader.engine("v2"));
    const auto event = ok(registry.roll_back("shapes", std::string("v1"), "v2 mislabels tapes"));
    CHECK(event.live_version == "v1");
    CHECK(event.detail == "v2 mislabels tapes");
    CHECK(registry.select("a.png").current == rig.loader.engine("v1"));
    CHECK(rig.loader.loads["v1"] == 2);
    CHECK(rig.state_of("v1") == "live");
    CHECK(rig.state_of("v2") == "rolled_back");  // the version rolled back from
  }

  SUBCASE("roll_back without a version undoes the last promotion") {
    rig.version("v2");
    registry.poll_once();
    ok(registry.roll_back("shapes", std::nullopt, ""));
    CHECK(registry.select("a.png").current == rig.loader.engine("v1"));
    CHECK(rig.state_of("v2") == "rolled_back");
  }

  SUBCASE("roll_back refuses versions that cannot serve") {
    rig.gate.refusals["v2"] = "non_finite_weights";
    rig.version("v2");
    rig.version("v3", k_shadow);
    registry.poll_once();
    CHECK(registry.roll_back("shapes", std::string("v2"), "").error().code == "version_unusable");
    CHECK(registry.roll_back("shapes", std::string("v9"), "").error().code == "unknown_version");
    CHECK(registry.roll_back("shapes", std::string("v3"), "").error().code == "is_candidate");
    fs::remove_all(rig.repository / "shapes" / "v1");
    ok(registry.roll_back("shapes", std::nullopt, ""));  // retires v3; v1 stays loaded
    CHECK(registry.select("a.png").current == rig.loader.engine("v1"));
  }

  SUBCASE("a version found during a rollout waits; when it ends the newest starts") {
    rig.version("v2", k_shadow);
    registry.poll_once();
    const auto v3 = rig.version("v3", k_shadow);
    const auto v4 = rig.version("v4", k_shadow);
    fs::last_write_time(v3 / "model.toml",
                        fs::last_write_time(v4 / "model.toml") - std::chrono::seconds(10));
    registry.poll_once();
    CHECK(rig.state_of("v3") == "waiting");
    CHECK(rig.state_of("v4") == "waiting");
    ok(registry.promote("shapes"));
    registry.poll_once();
    CHECK(rig.state_of("v2") == "live");
    CHECK(rig.state_of("v3") == "retired");
    CHECK(rig.state_of("v4") == "candidate");
    CHECK(registry.select("a.png").shadow == rig.loader.engine("v4"));
  }
}

TEST_CASE("models::Registry::add_version") {
  Rig rig;
  rig.version("v1");
  auto& registry = rig.start();
  const auto staged = rig.dir.write("models/.staging/x/model.toml", k_shadow).parent_path();
  rig.dir.write("models/.staging/x/model.pt", "not a real model");

  SUBCASE("a version that passes is moved into the repository and starts its rollout") {
    const auto verdict = ok(registry.add_version("shapes", "v2", staged));
    CHECK(verdict.passed);
    CHECK(verdict.version == "v2");
    CHECK(fs::exists(rig.repository / "shapes" / "v2" / "model.toml"));
    CHECK_FALSE(fs::exists(staged));
    CHECK(registry.select("a.png").shadow == rig.loader.engine("v2"));
    registry.poll_once();  // the poll does not admit it a second time
    CHECK(rig.loader.loads["v2"] == 1);
  }

  SUBCASE("a refused version is neither moved nor stored") {
    rig.gate.refusals["v2"] = "expected_output_mismatch";
    const auto verdict = ok(registry.add_version("shapes", "v2", staged));
    CHECK_FALSE(verdict.passed);
    CHECK(fs::exists(staged));
    CHECK(rig.state_of("v2") == "absent");
  }

  SUBCASE("names are checked and versions never replaced") {
    CHECK(registry.add_version("shapes", "../v2", staged).error().code == "invalid_name");
    CHECK(registry.add_version("shapes", "v1", staged).error().code == "version_exists");
  }
}

TEST_CASE("models::Registry restart") {
  Rig rig;
  rig.version("v1");
  rig.start();
  rig.version("v2", "[rollout]\nmode = \"shadow\"\nmin_files = 10\n");
  rig.registry->poll_once();
  const auto yes = record("yes"), no = record("no");
  rig.registry->observe(rig.registry->select("a.png"), yes, &yes);
  rig.registry->observe(rig.registry->select("b.png"), yes, &no);
  rig.registry->observe(rig.registry->select("c.png"), yes, &yes);
  const models::RolloutCounters before = rig.rollout().counters;
  REQUIRE(before.files == 3);
  rig.registry.reset();  // stops: the counts are written

  SUBCASE("a new registry on the same catalog resumes the rollout with its counts") {
    auto& registry = rig.start();
    CHECK(rig.rollout().state == models::RolloutState::shadow);
    CHECK(rig.rollout().live_version == "v1");
    CHECK(rig.rollout().candidate_version == "v2");
    CHECK(rig.rollout().counters == before);
    const auto s = registry.select("d.png");
    CHECK(s.current == rig.loader.engine("v1"));
    CHECK(s.shadow == rig.loader.engine("v2"));
    registry.observe(s, yes, &yes);
    CHECK(rig.rollout().counters.files == 4);
    CHECK(rig.gate.live_accuracy_seen.size() == 2);  // nothing gated again
  }

  SUBCASE("a promotion survives a restart") {
    rig.start();
    ok(rig.registry->promote("shapes"));
    rig.registry.reset();
    auto& registry = rig.start();
    CHECK(registry.select("a.png").current == rig.loader.engine("v2"));
    CHECK(rig.state_of("v1") == "retired");
    CHECK(rig.rollout().state == models::RolloutState::promoted);
  }

  SUBCASE("a candidate that no longer loads is rolled back at start") {
    rig.loader.broken.insert("v2");
    auto& registry = rig.start();
    CHECK(rig.rollout().state == models::RolloutState::rolled_back);
    CHECK(registry.select("a.png").current == rig.loader.engine("v1"));
    CHECK(registry.select("a.png").shadow == nullptr);
    CHECK(rig.state_of("v2") == "rolled_back");
  }
}

TEST_CASE("models::Registry retention (keep_versions)") {
  Rig rig;
  rig.keep_versions = 1;
  rig.version("v1");
  auto& registry = rig.start();
  // Each version is immediate: live at the next poll, the one before it retired.
  const auto next = [&](const std::string& version, const std::string& toml = "") {
    rig.version(version, toml);
    registry.poll_once();
  };

  SUBCASE("old directories beyond keep_versions are removed, oldest first; the rows stay") {
    next("v2");
    next("v3");
    CHECK(rig.on_disk("v1"));  // v1 is the one old version kept; v2 the rollback target
    next("v4");
    CHECK_FALSE(rig.on_disk("v1"));
    CHECK(rig.state_of("v1") == "removed");
    CHECK(rig.on_disk("v2"));
    CHECK(rig.state_of("v2") == "retired");
    CHECK(rig.on_disk("v3"));  // a plain rollback returns to it
    CHECK(rig.on_disk("v4"));
    for (const auto& e : fs::directory_iterator(rig.repository / "shapes")) {
      CHECK(e.path().filename().string().rfind(".removing.", 0) != 0);
    }
  }

  SUBCASE("the live version, the candidate and waiting versions are never removed") {
    rig.gate.refusals["r1"] = "non_finite_weights";
    rig.gate.refusals["r2"] = "non_finite_weights";
    next("r1");
    next("r2");
    next("c", k_shadow);
    next("w", k_shadow);
    CHECK(rig.state_of("c") == "candidate");
    CHECK(rig.state_of("w") == "waiting");
    CHECK(rig.state_of("r1") == "removed");
    CHECK(rig.state_of("r2") == "refused");
    for (const char* kept : {"v1", "r2", "c", "w"}) CHECK(rig.on_disk(kept));
    CHECK_FALSE(rig.on_disk("r1"));
  }

  SUBCASE("a rollback by hand prunes too; the version it rolled back is the newest old one") {
    next("v2");
    next("v3");
    next("v4", k_shadow);
    ok(registry.roll_back("shapes", std::nullopt, "no"));
    CHECK(rig.state_of("v4") == "rolled_back");
    CHECK(rig.on_disk("v4"));
    CHECK(rig.state_of("v2") == "retired");  // the return point of v3's promotion
    CHECK(rig.on_disk("v2"));
    CHECK(rig.state_of("v1") == "removed");
  }

  SUBCASE("keep_versions = 0 removes nothing") {
    rig.keep_versions = 0;
    auto& again = rig.start();
    for (const char* v : {"v2", "v3", "v4", "v5"}) {
      rig.version(v);
      again.poll_once();
    }
    for (const char* v : {"v1", "v2", "v3", "v4", "v5"}) CHECK(rig.on_disk(v));
  }

  SUBCASE("roll_back to a removed version is version_unusable and says why") {
    next("v2");
    next("v3");
    next("v4");
    REQUIRE(rig.state_of("v1") == "removed");
    const auto back = registry.roll_back("shapes", std::string("v1"), "");
    REQUIRE_FALSE(back.ok());
    CHECK(back.error().code == "version_unusable");
    CHECK(back.error().message.find("was removed") != std::string::npos);
    CHECK(back.error().message.find("model.keep_versions = 1") != std::string::npos);
    CHECK(registry.select("a.png").current == rig.loader.engine("v4"));
  }

  SUBCASE("a removed version is not imported again, whole or half-deleted") {
    next("v2");
    next("v3");
    next("v4");
    REQUIRE(rig.state_of("v1") == "removed");
    const int gated = static_cast<int>(rig.gate.live_accuracy_seen.size());
    rig.version("v1");            // copied back under its old name
    rig.version(".removing.v9");  // what a removal cut short leaves
    registry.poll_once();
    CHECK(rig.state_of("v1") == "removed");
    CHECK(rig.state_of(".removing.v9") == "absent");
    CHECK(static_cast<int>(rig.gate.live_accuracy_seen.size()) == gated);
    rig.start();  // a start clears what interrupted removals left
    CHECK_FALSE(rig.on_disk(".removing.v9"));
    CHECK(rig.state_of("v1") == "removed");  // the row survives a restart
  }

  SUBCASE("symlinks inside a removed version are not followed") {
    const fs::path outside = rig.dir.write("outside/keep.txt", "mine").parent_path();
    fs::create_directory_symlink(outside, rig.repository / "shapes" / "v1" / "golden");
    next("v2");
    next("v3");
    next("v4");
    CHECK(rig.state_of("v1") == "removed");
    CHECK_FALSE(rig.on_disk("v1"));
    CHECK(fs::exists(outside / "keep.txt"));
  }
}

TEST_CASE("models::Registry offline") {
  Rig rig;
  rig.version("v1");
  rig.start();
  rig.version("v2", k_shadow);
  rig.registry->poll_once();
  rig.registry.reset();
  const int loads_v1 = rig.loader.loads["v1"];
  rig.mode = models::Registry::Options::Mode::offline;

  SUBCASE("start loads nothing and gates nothing new") {
    rig.version("v3");
    auto& registry = rig.start();
    CHECK(rig.loader.loads["v1"] == loads_v1);
    CHECK(registry.select("a.png").current == nullptr);
    CHECK(rig.state_of("v2") == "candidate");
    CHECK(rig.state_of("v3") == "absent");
  }

  SUBCASE("promote is stored, and the daemon serves it at its next start") {
    ok(rig.start().promote("shapes"));
    CHECK(rig.loader.loads["v2"] == 1);  // loaded by the daemon only
    rig.mode = models::Registry::Options::Mode::daemon;
    auto& daemon = rig.start();
    CHECK(daemon.select("a.png").current == rig.loader.engine("v2"));
    CHECK(rig.state_of("v1") == "retired");
  }

  SUBCASE("roll_back to a version checks its directory but loads nothing") {
    auto& registry = rig.start();
    ok(registry.roll_back("shapes", std::nullopt, "offline"));
    CHECK(rig.state_of("v2") == "rolled_back");
    fs::remove_all(rig.repository / "shapes" / "v2");
    const auto gone = registry.roll_back("shapes", std::string("v2"), "");
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.error().code == "version_unusable");
    CHECK(rig.loader.loads["v1"] == loads_v1);
  }
}

TEST_SUITE_END();
