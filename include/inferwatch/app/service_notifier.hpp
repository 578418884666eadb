#pragma once

// The systemd notify protocol (sd_notify): READY=1 once the model is warm and the watcher armed,
// RELOADING=1 / READY=1 around a SIGHUP reload, STOPPING=1, STATUS= lines, and WATCHDOG=1 pings
// that the caller sends only while the daemon is really alive. Does nothing when not started by
// systemd (no $NOTIFY_SOCKET).

#include <chrono>
#include <optional>
#include <string_view>

namespace inferwatch::app {

class ServiceNotifier {
 public:
  ServiceNotifier();

  // The watchdog timeout systemd set (WatchdogSec=), if any.
  std::optional<std::chrono::microseconds> watchdog() const { return m_watchdog; }

  void ready(std::string_view status) const;
  void reloading() const;
  void stopping() const;
  void status(std::string_view status) const;
  void watchdog_ping() const;

 private:
  std::optional<std::chrono::microseconds> m_watchdog;
};

}  // namespace inferwatch::app
