// The notifier talks to a datagram socket the test binds, standing in for
// systemd: NOTIFY_SOCKET points at it, WATCHDOG_USEC/WATCHDOG_PID ask for pings.

#include "daemon/systemd_notifier.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace nursery {
namespace {

using namespace std::chrono_literals;
using ::testing::Each;
using ::testing::Eq;
using ::testing::StartsWith;

// A bound AF_UNIX datagram socket in a fresh temporary directory.
class FakeNotifySocket {
 public:
  FakeNotifySocket() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "nursery-notify-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    path_ = (dir_ / "notify.sock").string();

    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(addr.sun_path)) throw std::runtime_error("socket path too long");
    path_.copy(addr.sun_path, path_.size());
    if (bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("bind failed");
    }
  }
  ~FakeNotifySocket() {
    close(fd_);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  FakeNotifySocket(const FakeNotifySocket&) = delete;
  FakeNotifySocket& operator=(const FakeNotifySocket&) = delete;

  const std::string& path() const { return path_; }

  // The next datagram, or nothing if none arrives within `wait`.
  std::optional<std::string> receive(std::chrono::milliseconds wait = 1000ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(wait.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((wait.count() % 1000) * 1000);
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buffer[4096];
    const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(n));
  }

  // Every datagram already queued.
  std::vector<std::string> drain() {
    std::vector<std::string> messages;
    char buffer[4096];
    for (;;) {
      const ssize_t n = recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n < 0) break;
      messages.emplace_back(buffer, static_cast<std::size_t>(n));
    }
    return messages;
  }

 private:
  std::filesystem::path dir_;
  std::string path_;
  int fd_ = -1;
};

class SystemdNotifierTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("NOTIFY_SOCKET", socket_.path().c_str(), 1); }
  void TearDown() override {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }
  static void ask_for_watchdog(std::chrono::microseconds timeout, pid_t pid = getpid()) {
    setenv("WATCHDOG_USEC", std::to_string(timeout.count()).c_str(), 1);
    setenv("WATCHDOG_PID", std::to_string(pid).c_str(), 1);
  }

  FakeNotifySocket socket_;
  boost::asio::io_context io_;
  SystemdNotifier notifier_{io_};
};

TEST_F(SystemdNotifierTest, SendsReadyWithItsStatusInOneDatagram) {
  notifier_.ready("Ready: 1 room, 3 devices");
  io_.run_for(50ms);

  EXPECT_EQ(socket_.receive(), "READY=1\nSTATUS=Ready: 1 room, 3 devices");
}

TEST_F(SystemdNotifierTest, KeepsAMultiLineStatusOnOneLine) {
  notifier_.status("Running bedtime\nstep 2 of 5\r\n");

  const auto message = socket_.receive();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(*message, "STATUS=Running bedtime step 2 of 5");
}

TEST_F(SystemdNotifierTest, SendsReloadingWithTheCurrentMonotonicTime) {
  timespec before{};
  clock_gettime(CLOCK_MONOTONIC, &before);
  notifier_.reloading();
  timespec after{};
  clock_gettime(CLOCK_MONOTONIC, &after);

  const auto message = socket_.receive();
  ASSERT_TRUE(message.has_value());
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_THAT(*message, StartsWith(prefix));
  const std::uint64_t usec = std::stoull(message->substr(prefix.size()));
  const auto to_usec = [](const timespec& t) {
    return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000U +
           static_cast<std::uint64_t>(t.tv_nsec) / 1'000U;
  };
  EXPECT_GE(usec, to_usec(before));
  EXPECT_LE(usec, to_usec(after));
}

TEST_F(SystemdNotifierTest, SendsStopping) {
  notifier_.stopping();

  EXPECT_EQ(socket_.receive(), "STOPPING=1");
}

TEST_F(SystemdNotifierTest, PingsAtHalfTheTimeoutSystemdAskedFor) {
  ask_for_watchdog(30s);
  notifier_.start_watchdog();
  EXPECT_EQ(notifier_.watchdog_interval(), std::chrono::microseconds(15s));
}

TEST_F(SystemdNotifierTest, PingsTheWatchdogRepeatedlyWhileTheLoopRuns) {
  ask_for_watchdog(200ms);
  notifier_.start_watchdog();
  ASSERT_TRUE(notifier_.watchdog_enabled());
  std::thread loop([this] { io_.run(); });
  // Each ping is waited for with a deadline far longer than the interval: a
  // loaded machine may be late, never this late.
  const auto first = socket_.receive(10s);
  const auto second = socket_.receive(10s);
  const auto third = socket_.receive(10s);
  boost::asio::post(io_, [this] { notifier_.stopping(); });
  loop.join();
  EXPECT_EQ(first, "WATCHDOG=1");
  EXPECT_EQ(second, "WATCHDOG=1");
  EXPECT_EQ(third, "WATCHDOG=1");
}

TEST_F(SystemdNotifierTest, AHungLoopSendsNoPing) {
  ask_for_watchdog(200ms);
  notifier_.start_watchdog();
  std::vector<std::string> during_hang;
  // The domain code hangs for more than two ping intervals, on the loop: a
  // ping sent from anywhere but the loop would arrive meanwhile.
  boost::asio::post(io_, [&] {
    socket_.drain();
    std::this_thread::sleep_for(600ms);
    during_hang = socket_.drain();
    notifier_.stopping();
  });
  io_.run();
  EXPECT_TRUE(during_hang.empty()) << during_hang.size() << " ping(s) while the loop hung";
}

TEST_F(SystemdNotifierTest, ArmsNoTimerWithoutWatchdogUsec) {
  notifier_.start_watchdog();

  EXPECT_FALSE(notifier_.watchdog_enabled());
  // With a timer pending run() would not return until it fired.
  EXPECT_EQ(io_.run(), 0U);
  EXPECT_TRUE(socket_.drain().empty());
}

TEST_F(SystemdNotifierTest, IgnoresAWatchdogMeantForAnotherProcess) {
  ask_for_watchdog(200ms, getpid() + 1);

  notifier_.start_watchdog();

  EXPECT_FALSE(notifier_.watchdog_enabled());
  EXPECT_EQ(io_.run(), 0U);
  EXPECT_TRUE(socket_.drain().empty());
}

TEST_F(SystemdNotifierTest, StoppingEndsThePingsSoTheLoopCanFinish) {
  ask_for_watchdog(200ms);
  notifier_.start_watchdog();
  io_.run_for(150ms);
  socket_.drain();

  notifier_.stopping();
  io_.restart();
  io_.run();  // returns only once no timer is pending

  EXPECT_FALSE(notifier_.watchdog_enabled());
  EXPECT_EQ(socket_.drain(), std::vector<std::string>{"STOPPING=1"});
}

TEST(SystemdNotifier, DoesNothingWithoutNotifySocket) {
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  boost::asio::io_context io;
  SystemdNotifier notifier(io);

  notifier.ready("Ready");
  notifier.status("Idle");
  notifier.reloading();
  notifier.stopping();
  notifier.start_watchdog();

  EXPECT_FALSE(notifier.watchdog_enabled());
  EXPECT_EQ(io.run(), 0U);
}

}  // namespace
}  // namespace nursery

namespace nursery {
namespace {

TEST_F(SystemdNotifierTest, NeverBlocksWhenTheServiceManagerDoesNotRead) {
  // Far more messages than a datagram socket queues; none is read.
  for (int i = 0; i < 5000; ++i) notifier_.status("Nursery: bedtime running, step 2 of 7");
  SUCCEED() << "returned: the loop would have gone on";
  EXPECT_FALSE(socket_.drain().empty());
}

}  // namespace
}  // namespace nursery
