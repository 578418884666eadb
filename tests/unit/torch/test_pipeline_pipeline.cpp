// The whole pipeline (store thread, decode pool, batcher, commit) driven through its interface with
// a fake model and a store that can be switched to failing: whatever the store does, every file
// gets exactly one result, nothing is decoded or written twice, ids stay in commit order, and the
// trouble shows while it lasts. Waits are on conditions (results arriving, faults seen), never
// plain sleeps.
#include <inferwatch/pipeline/pipeline.hpp>

#include <inferwatch/config/config.hpp>
#include <inferwatch/store/database.hpp>

#include "../support/faulty_sidecars.hpp"
#include "../support/faulty_store.hpp"
#include "../support/images.hpp"
#include "../support/manual_clock.hpp"
#include "../support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace {

using inferwatch::test::Fault;
using inferwatch::test::FaultyStore;
using inferwatch::test::TempDir;
using namespace inferwatch;
using Clock = std::chrono::steady_clock;

// Scores [0.9, 0.1] for every image; counts the images it was given.
class FakeModel final : public infer::Model {
 public:
  explicit FakeModel(const config::Config& config) {
    m_info.name = "fake";
    m_info.version = "fake@000000000000";
    m_info.device = "cpu";
    m_info.labels = {"yes", "no"};
    m_info.channels = 1;
    m_info.height = config.preprocess.height;
    m_info.width = config.preprocess.width;
    m_info.max_batch_size = config.batching.max_batch_size;
  }
  const infer::ModelInfo& info() const override { return m_info; }
  util::Result<std::vector<infer::ModelOutput>> forward(
      std::span<const infer::InputTensor* const> batch) override {
    images += static_cast<int>(batch.size());
    return std::vector<infer::ModelOutput>(batch.size(), infer::ModelOutput{{0.9f, 0.1f}, {}});
  }
  std::atomic<int> images{0};

 private:
  infer::ModelInfo m_info;
};

// What the listener saw, with a way to wait for it.
struct Seen {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::int64_t> ids;
  std::set<std::string> paths;

  bool wait_for(std::size_t n, std::chrono::seconds limit = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, [&] { return ids.size() >= n; });
  }
};

template <typename Predicate>
bool eventually(Predicate done, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // poll a condition
  }
  return true;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Rig {
  TempDir dir;
  config::Config config;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<FaultyStore> store;
  test::FaultySidecars sidecars;
  // Time for the pipeline's decisions (backoffs, retries) moves only when the test moves it, or
  // while `ticking` (20 ms of it per 2 ms real), for tests that just need time to pass.
  test::ManualClock clock;
  std::atomic<bool> ticking{true};
  std::atomic<bool> done{false};
  std::thread ticker{[this] {
    while (!done) {
      if (ticking) clock.advance(std::chrono::milliseconds(20));
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }};
  FakeModel* model = nullptr;
  Seen seen;
  std::unique_ptr<pipeline::Pipeline> pipeline;

  Rig() {
    config.watch.settle_ms = 10;
    config.batching.max_delay_ms = 1;
    std::filesystem::create_directories(dir / "share");
    auto opened = store::Database::open(dir / "db.sqlite");
    REQUIRE(opened.ok());
    db = std::move(*opened);
    store = std::make_unique<FaultyStore>(*db);
    auto fake = std::make_unique<FakeModel>(config);
    model = fake.get();
    auto engine =
        std::make_shared<models::Engine>(std::move(fake), config.preprocess, config.postprocess);
    pipeline = std::make_unique<pipeline::Pipeline>(
        config, std::vector<std::filesystem::path>{dir / "share"},
        pipeline::Pipeline::Parts{
            .store = *store,
            .engine = engine,
            .listener =
                [this](std::int64_t id, const std::string& path, const std::string&) {
                  std::lock_guard lock(seen.mutex);
                  seen.ids.push_back(id);
                  seen.paths.insert(path);
                  seen.changed.notify_all();
                },
            .sidecars = &sidecars,
            .clock = &clock});
    pipeline->start();
    // The batcher thread warms up with one forward of zeros first: count only real images.
    REQUIRE(eventually([&] { return model->images >= 1; }));
    model->images = 0;
  }
  ~Rig() {
    pipeline->stop(std::chrono::seconds(5));
    done = true;
    ticker.join();
  }

  std::optional<std::string> current(const std::string& name) {
    auto r = db->current_result((dir / "share").string(), name);
    REQUIRE(r.ok());
    return *r;
  }

  // Save `n` small PNGs and hand them over as a watcher would after IN_CLOSE_WRITE.
  void drop(int n, const std::string& prefix) {
    const std::string png = test::png_from_rows(2, 0, {std::string("\x10\xF0", 2), "\xF0\x10"});
    std::vector<watch::Candidate> candidates;
    for (int i = 0; i < n; ++i) {
      const std::string name = prefix + std::to_string(i) + ".png";
      dir.write("share/" + name, png);
      candidates.push_back({0, name, watch::Origin::closed_after_write});
    }
    pipeline->add(std::move(candidates));
  }
};

}  // namespace

TEST_SUITE_BEGIN("pipeline");

TEST_CASE("pipeline::Pipeline with a failing store") {
  Rig rig;

  SUBCASE("a store failing everything loses no file and recovers by itself") {
    rig.store->set(Fault::everything);
    rig.drop(6, "a");
    REQUIRE(eventually([&] { return rig.store->failures() >= 3; }));  // retried, with backoff
    CHECK(rig.pipeline->store_problem().has_value());
    CHECK(rig.seen.ids.empty());
    rig.store->set(Fault::none);
    REQUIRE(rig.seen.wait_for(6));
    CHECK(rig.seen.paths.size() == 6);
    CHECK(rig.model->images == 6);
    REQUIRE(eventually([&] { return !rig.pipeline->store_problem().has_value(); }));
  }

  SUBCASE("a store failing commits keeps the rows: nothing decoded or written twice") {
    rig.drop(2, "before");
    REQUIRE(rig.seen.wait_for(2));
    rig.store->set(Fault::commits);
    rig.drop(5, "b");
    REQUIRE(eventually([&] { return rig.store->failures() >= 3; }));
    const int decoded = rig.model->images;
    CHECK(decoded == 7);
    // The sidecars were written once, with the ids the rows will be committed with.
    const std::string sidecar = slurp(rig.dir / "share/b0.png.result.json");
    CHECK(sidecar.find("\"id\":") != std::string::npos);
    rig.store->set(Fault::none);
    REQUIRE(rig.seen.wait_for(7));
    CHECK(rig.model->images == decoded);
    CHECK(slurp(rig.dir / "share/b0.png.result.json") == sidecar);
    const auto ids = rig.seen.ids;
    CHECK(std::is_sorted(ids.begin(), ids.end()));  // commit order = id order
    CHECK(std::set<std::int64_t>(ids.begin(), ids.end()).size() == ids.size());
    CHECK(rig.store->commits() == 7);
  }

  SUBCASE("files seen while the store fails are all recorded once it works") {
    rig.store->set(Fault::everything);
    for (int round = 0; round < 4; ++round) rig.drop(3, "c" + std::to_string(round) + "_");
    REQUIRE(eventually([&] { return rig.store->failures() >= 2; }));
    rig.store->set(Fault::none);
    REQUIRE(rig.seen.wait_for(12));
    CHECK(rig.seen.paths.size() == 12);
    CHECK(rig.model->images == 12);
  }
}

TEST_CASE("pipeline::Pipeline with a share that refuses sidecars") {
  Rig rig;
  rig.ticking = false;  // the retry schedule is driven by hand below

  SUBCASE("the predictions are kept in the store and the sidecars written once the share allows") {
    rig.sidecars.fail(true);
    rig.drop(3, "ro");
    REQUIRE(rig.seen.wait_for(3));
    CHECK_FALSE(std::filesystem::exists(rig.dir / "share/ro0.png.result.json"));
    const std::string stored = rig.current("ro0.png").value();
    CHECK(stored.find("\"predictions\"") != std::string::npos);
    CHECK(stored.find("\"sidecar_error\"") != std::string::npos);
    CHECK_FALSE(rig.pipeline->store_problem().has_value());  // the store is fine
    const int attempts = rig.sidecars.attempts();
    rig.sidecars.fail(false);
    CHECK(rig.sidecars.attempts() == attempts);  // not retried while the clock stands still
    REQUIRE(eventually([&] {
      rig.clock.advance(std::chrono::milliseconds(100));  // the first retry is due after 1 s
      return std::filesystem::exists(rig.dir / "share/ro2.png.result.json") &&
             rig.current("ro2.png").value().find("sidecar_error") == std::string::npos;
    }));
    CHECK(rig.sidecars.attempts() == attempts + 3);
    CHECK(slurp(rig.dir / "share/ro0.png.result.json") == rig.current("ro0.png").value());
    CHECK(rig.model->images == 3);  // nothing decoded again
  }
}

TEST_CASE("pipeline::Pipeline store backoff follows the clock") {
  Rig rig;
  rig.ticking = false;
  rig.store->set(Fault::everything);
  rig.drop(1, "b");
  REQUIRE(eventually([&] { return rig.pipeline->store_problem().has_value(); }));
  const int failures = rig.store->failures();
  CHECK(failures == 1);  // no retry while the clock stands still
  REQUIRE(eventually([&] {
    rig.clock.advance(std::chrono::milliseconds(10));  // the first backoff is 100 ms
    return rig.store->failures() > failures;
  }));
  rig.store->set(Fault::none);
  REQUIRE(eventually([&] {
    rig.clock.advance(std::chrono::milliseconds(100));
    return rig.seen.ids.size() == 1;
  }));
  REQUIRE(eventually([&] { return !rig.pipeline->store_problem().has_value(); }));
}

TEST_SUITE_END();
