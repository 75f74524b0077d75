#pragma once
// The service manager's side of Type=notify: READY=1, RELOADING=1, STOPPING=1,
// STATUS= lines, and WATCHDOG=1 pinged from the loop itself so that a hung
// loop is restarted. Uses real (steady) time, never the scaled domain clock.
// Without NOTIFY_SOCKET every call is a no-op. Thread: the loop thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string_view>

namespace nursery {

class SystemdNotifier {
 public:
  explicit SystemdNotifier(boost::asio::io_context& io);
  void ready(std::string_view status);
  void reloading();                      // RELOADING=1 (+ MONOTONIC_USEC), follow with ready()
  void status(std::string_view status);  // one line a person can read
  void stopping();
  // Pings WATCHDOG=1 at half of $WATCHDOG_USEC when systemd asked for it;
  // otherwise arms no timer at all (no idle wake-ups).
  void start_watchdog();
  bool watchdog_enabled() const { return interval_.count() > 0; }
  std::chrono::microseconds watchdog_interval() const { return interval_; }

 private:
  void schedule_ping();
  boost::asio::steady_timer timer_;
  std::chrono::microseconds interval_{0};
};

}  // namespace nursery
