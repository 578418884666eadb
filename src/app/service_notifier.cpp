#include <inferwatch/app/service_notifier.hpp>

#include <fmt/format.h>
#include <systemd/sd-daemon.h>

#include <ctime>
#include <string>

namespace inferwatch::app {
namespace {

void notify(const std::string& message) { (void)sd_notify(0, message.c_str()); }

std::uint64_t monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000 +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
}

}  // namespace

ServiceNotifier::ServiceNotifier() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) m_watchdog = std::chrono::microseconds(usec);
}

void ServiceNotifier::ready(std::string_view status) const {
  notify(fmt::format("READY=1\nSTATUS={}", status));
}

// MONOTONIC_USEC lets systemd (Type=notify-reload, v253+) tell this reload from an older one.
void ServiceNotifier::reloading() const {
  notify(fmt::format("RELOADING=1\nMONOTONIC_USEC={}\nSTATUS=reloading configuration and model",
                     monotonic_usec()));
}

void ServiceNotifier::stopping() const { notify("STOPPING=1\nSTATUS=draining"); }

void ServiceNotifier::status(std::string_view status) const {
  notify(fmt::format("STATUS={}", status));
}

void ServiceNotifier::watchdog_ping() const { notify("WATCHDOG=1"); }

}  // namespace inferwatch::app
