#include "daemon/systemd_notifier.hpp"

#include <fmt/format.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <boost/system/error_code.hpp>
#include <cstdint>
#include <string>

namespace nursery {
namespace {

// sd_notify() separates assignments with newlines, so a status that contains
// one would end the STATUS= line early and the rest would be read as another
// (unknown, or worse, meaningful) assignment. Each run of line breaks becomes
// one space.
std::string one_line(std::string_view text) {
  std::string line;
  line.reserve(text.size());
  bool line_break = false;
  for (const char c : text) {
    if (c == '\n' || c == '\r') {
      line_break = true;
      continue;
    }
    if (line_break && !line.empty()) line += ' ';
    line_break = false;
    line += c;
  }
  return line;
}

// A failed notification is not worth failing over: systemd will time out the
// start or the watchdog, which is the signal a person sees anyway.
void notify(const std::string& state) { sd_notify(0, state.c_str()); }

std::uint64_t monotonic_usec() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000U +
         static_cast<std::uint64_t>(now.tv_nsec) / 1'000U;
}

}  // namespace

SystemdNotifier::SystemdNotifier(boost::asio::io_context& io) : timer_(io) {}

void SystemdNotifier::ready(std::string_view status) {
  notify("READY=1\nSTATUS=" + one_line(status));
}

// MONOTONIC_USEC is ignored by systemd 252 (Type=notify) but required with
// Type=notify-reload (253+), so the same daemon works under either unit type.
void SystemdNotifier::reloading() {
  notify(fmt::format("RELOADING=1\nMONOTONIC_USEC={}", monotonic_usec()));
}

void SystemdNotifier::status(std::string_view status) { notify("STATUS=" + one_line(status)); }

// Also ends the watchdog pings: the timer is the notifier's only pending work,
// so once every other part has closed, io_context::run() returns and the
// daemon exits. The stop itself is then bounded by TimeoutStopSec=.
void SystemdNotifier::stopping() {
  notify("STOPPING=1");
  interval_ = std::chrono::microseconds{0};
  timer_.cancel();
}

void SystemdNotifier::start_watchdog() {
  std::uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is us.
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
    interval_ = std::chrono::microseconds{0};
    timer_.cancel();
    return;
  }
  interval_ = std::chrono::microseconds{usec / 2};
  notify("WATCHDOG=1");
  schedule_ping();
}

void SystemdNotifier::schedule_ping() {
  // expires_after() cancels a wait already pending, so calling start_watchdog()
  // twice leaves one chain of pings, not two.
  timer_.expires_after(interval_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: the notifier may already be gone
    // A wait that had already completed when stopping() cancelled the timer
    // still runs with success; the interval tells it the pings are over.
    if (!watchdog_enabled()) return;
    notify("WATCHDOG=1");
    schedule_ping();
  });
}

}  // namespace nursery
