#include <inferwatch/util/clock.hpp>

namespace inferwatch::util {

const Clock& steady_clock() {
  static const SteadyClock clock;
  return clock;
}

}  // namespace inferwatch::util
