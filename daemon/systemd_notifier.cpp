#include "daemon/systemd_notifier.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
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

// The sd_notify(3) protocol: one datagram to the AF_UNIX socket named by
// $NOTIFY_SOCKET ('@' for the abstract namespace). Written here instead of
// linking libsystemd, which would load it and five compression and crypto
// libraries (about 1 MB resident) for one sendto().
// A failed notification is not worth failing over: systemd will time out the
// start or the watchdog, which is the signal a person sees anyway. It never
// blocks the loop either: a service manager that does not read its socket
// loses a message (MSG_DONTWAIT), the hub does not stop.
void notify(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || (path[0] != '/' && path[0] != '@')) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::size_t length = std::strlen(path);
  if (length >= sizeof addr.sun_path) return;
  std::memcpy(addr.sun_path, path, length);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return;
  ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
           reinterpret_cast<sockaddr*>(&addr),
           static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length));
  ::close(fd);
}

// As sd_watchdog_enabled(3): $WATCHDOG_USEC, unless $WATCHDOG_PID names
// another process (the variables were meant for a parent, not for us).
std::uint64_t watchdog_usec() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (!usec || !*usec) return 0;
  if (const char* pid = std::getenv("WATCHDOG_PID"); pid && *pid) {
    char* end = nullptr;
    const long long value = std::strtoll(pid, &end, 10);
    if (*end != '\0' || value != static_cast<long long>(::getpid())) return 0;
  }
  char* end = nullptr;
  const unsigned long long value = std::strtoull(usec, &end, 10);
  return *end == '\0' ? value : 0;
}

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
  const std::uint64_t usec = watchdog_usec();
  if (usec == 0) {
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
