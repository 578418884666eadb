// Core sharing between decoding and a multi-threaded forward: decodes fill the cores, a forward
// waits until no decode runs or waits, decodes wait while a forward holds the cores, and a
// one-thread (or GPU) forward waits for nobody.
#include <inferwatch/pipeline/core_budget.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <optional>
#include <thread>

using inferwatch::pipeline::CoreBudget;
using namespace std::chrono_literals;

namespace {

// Polls `done` for up to 2 s; false if it never became true.
template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(2ms);
  return done();
}

}  // namespace

TEST_SUITE_BEGIN("pipeline");

TEST_CASE("pipeline::CoreBudget") {
  CoreBudget budget(2);

  SUBCASE("decodes take one core each; a forward waits until they are done") {
    std::optional<CoreBudget::Decode> a(budget), b(budget);
    CHECK(budget.in_use() == 2);
    std::atomic<bool> forwarding{false};
    std::thread model([&] {
      const CoreBudget::Forward forward(budget, 2);
      forwarding = true;
      std::this_thread::sleep_for(20ms);
    });
    std::this_thread::sleep_for(50ms);
    CHECK_FALSE(forwarding);
    a.reset();
    std::this_thread::sleep_for(50ms);
    CHECK_FALSE(forwarding);  // one core free is not enough for a 2-thread forward
    b.reset();
    CHECK(eventually([&] { return forwarding.load(); }));
    model.join();
    CHECK(budget.in_use() == 0);
  }

  SUBCASE("a decode waits while a forward holds the cores") {
    std::optional<CoreBudget::Forward> forward;
    forward.emplace(budget, 8);  // clamped to the 2 cores there are
    CHECK(budget.in_use() == 2);
    std::atomic<bool> decoding{false};
    std::thread worker([&] {
      const CoreBudget::Decode decode(budget);
      decoding = true;
    });
    std::this_thread::sleep_for(50ms);
    CHECK_FALSE(decoding);
    forward.reset();
    CHECK(eventually([&] { return decoding.load(); }));
    worker.join();
  }

  SUBCASE("between two forwards, a waiting decode goes first") {
    std::optional<CoreBudget::Forward> first;
    first.emplace(budget, 2);
    std::atomic<int> order{0}, decode_at{0}, forward_at{0};
    std::thread model([&] {
      const CoreBudget::Forward next(budget, 2);
      forward_at = ++order;
    });
    std::this_thread::sleep_for(20ms);  // the next forward asks first
    std::thread worker([&] {
      const CoreBudget::Decode decode(budget);
      decode_at = ++order;
      std::this_thread::sleep_for(20ms);
    });
    std::this_thread::sleep_for(20ms);
    first.reset();
    model.join();
    worker.join();
    CHECK(decode_at == 1);
    CHECK(forward_at == 2);
  }

  SUBCASE("a one-thread forward takes nothing and waits for nobody") {
    const CoreBudget::Decode a(budget), b(budget);
    const CoreBudget::Forward forward(budget, 1);  // returns at once
    CHECK(budget.in_use() == 2);
    const CoreBudget::Forward gpu(budget, 0);
    CHECK(budget.in_use() == 2);
  }
}

TEST_SUITE_END();
