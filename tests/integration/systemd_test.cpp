// nurseryd under a service manager: READY=1 and STATUS= on the notify socket,
// the watchdog, SIGHUP reloads and the stop signals. The test binds the
// notify socket itself, as systemd would.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <regex>
#include <thread>

#include "daemon_process.hpp"

namespace nursery::it {
namespace {

using Clock = std::chrono::steady_clock;

HubSpec quiet_hub(std::string name = "Test hub") {
  HubSpec spec;
  spec.name = std::move(name);
  spec.routines = {{"bedtime",
                    "bedtime",
                    {{0, "light", {"on = true", "brightness = 0.05", "color_temp = 2200"}},
                     {3600, "light", {"on = false"}}}}};
  return spec;
}

struct Notified {
  TestHome home;
  NotifySocket notify{home.dir() / "notify.sock"};
  DaemonProcess daemon{home};

  DaemonOptions options(Environment env = {}, bool watchdog_pid_is_self = false) const {
    DaemonOptions o;
    o.env = std::move(env);
    o.env.emplace_back("NOTIFY_SOCKET", notify.path().string());
    o.watchdog_pid_is_self = watchdog_pid_is_self;
    return o;
  }
  ::testing::AssertionResult wait_for(std::string_view assignment, Millis timeout = 10s) {
    if (notify.wait_for(assignment, timeout)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "no " << assignment << " within " << timeout.count() << " ms; received:\n"
           << notify.describe_received() << "--- nurseryd's log ---\n"
           << daemon.log();
  }
};

TEST(Systemd, SendsReadyWithAReadableStatusOnlyOnceTheControlSocketAnswers) {
  Notified t;
  t.home.write_config(quiet_hub());
  ASSERT_TRUE(t.daemon.start(t.options()));
  auto ready = t.notify.wait_for("READY=1", 10s);
  ASSERT_TRUE(ready) << t.notify.describe_received() << t.daemon.log();

  // At once, without retrying: READY=1 promises the socket answers.
  ControlClient client(t.home.socket(), 2s);
  auto status = client.request("GET", "/api/v1/status");
  ASSERT_TRUE(status) << status.error().message << "\n" << t.daemon.log();
  EXPECT_EQ(status->status, 200);

  auto line = ready->value("STATUS");
  ASSERT_TRUE(line) << "READY=1 came without STATUS=: " << ready->text;
  EXPECT_EQ(*line, "Nursery: idle");
}

TEST(Systemd, PingsTheWatchdogRepeatedlyWhenAskedTo) {
  Notified t;
  t.home.write_config(quiet_hub());
  ASSERT_TRUE(t.daemon.start(t.options({{"WATCHDOG_USEC", "200000"}}, true)));
  ASSERT_TRUE(t.wait_for("READY=1"));
  // Every 100 ms (half of WATCHDOG_USEC); each is waited for far longer, as
  // a loaded machine may be late.
  for (int ping = 0; ping < 3; ++ping)
    ASSERT_TRUE(t.notify.wait_for("WATCHDOG=1", 10s))
        << "ping " << ping + 1 << "\n"
        << t.notify.describe_received() << t.daemon.log();
}

TEST(Systemd, DoesNotPingAWatchdogMeantForAnotherProcess) {
  Notified t;
  t.home.write_config(quiet_hub());
  // WATCHDOG_PID names the test, not the daemon.
  ASSERT_TRUE(t.daemon.start(
      t.options({{"WATCHDOG_USEC", "200000"}, {"WATCHDOG_PID", std::to_string(::getpid())}})));
  ASSERT_TRUE(t.wait_for("READY=1"));
  EXPECT_FALSE(t.notify.wait_for("WATCHDOG=1", 500ms)) << t.notify.describe_received();
}

TEST(Systemd, StartsUpToReadyQuickly) {
  Notified t;
  t.home.write_config(quiet_hub());
  const auto t0 = Clock::now();
  ASSERT_TRUE(t.daemon.start(t.options()));
  ASSERT_TRUE(t.wait_for("READY=1"));
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  // Not asserted: it depends on the machine and the build (sanitizers). Shown
  // in the test's XML output and on the console.
  ::testing::Test::RecordProperty("start_to_ready_ms", std::to_string(static_cast<int>(ms)));
  std::printf("nurseryd: spawn to READY=1 in %.1f ms\n", ms);
}

TEST(Systemd, StopsWithExitStatus0OnSigintToo) {
  Notified t;
  t.home.write_config(quiet_hub());
  ASSERT_TRUE(t.daemon.start(t.options()));
  ASSERT_TRUE(t.wait_for("READY=1"));
  ASSERT_TRUE(t.daemon.signal(SIGINT));
  ASSERT_TRUE(t.wait_for("STOPPING=1"));
  auto exit = t.daemon.wait_exit(10s);
  ASSERT_TRUE(exit) << "still running 10 s after SIGINT\n" << t.daemon.log();
  EXPECT_TRUE(exit->exited && exit->code == 0) << exit->describe() << "\n" << t.daemon.log();
}

// Waits for a reload to be announced and finished: RELOADING=1, then READY=1.
::testing::AssertionResult reloaded(Notified& t) {
  auto first = t.wait_for("RELOADING=1", 5s);
  if (!first) return first;
  return t.wait_for("READY=1", 5s);
}

TEST(Reload, KeepsTheRunningConfigWhenTheNewFileIsBroken) {
  Notified t;
  t.home.write_config(quiet_hub("Old name"));
  ASSERT_TRUE(t.daemon.start(t.options()));
  ASSERT_TRUE(t.wait_for("READY=1"));
  ASSERT_TRUE(t.daemon.wait_until_answering());

  t.home.write_config("[hub]\nname = \"New name\"\ntime_zone =\n");  // line 3 has no value
  ASSERT_TRUE(t.daemon.signal(SIGHUP));
  ASSERT_TRUE(reloaded(t));

  EXPECT_TRUE(t.daemon.running());
  std::regex located(std::regex_replace(t.home.config_file().string(),
                                        std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                     R"(:3:\d+: \S)");
  EXPECT_TRUE(std::regex_search(t.daemon.log(), located))
      << "expected the error as FILE:3:COL: in the log\n"
      << t.daemon.log();
  auto status = status_of(t.daemon);
  EXPECT_EQ(status["hub"]["name"], "Old name");
}

TEST(Reload, AppliesAValidChangedConfigAfterABrokenOne) {
  Notified t;
  t.home.write_config(quiet_hub("Old name"));
  ASSERT_TRUE(t.daemon.start(t.options()));
  ASSERT_TRUE(t.wait_for("READY=1"));

  t.home.write_config("[hub]\nname = \n");
  ASSERT_TRUE(t.daemon.signal(SIGHUP));
  ASSERT_TRUE(reloaded(t));

  t.home.write_config(quiet_hub("New name"));
  ASSERT_TRUE(t.daemon.signal(SIGHUP));
  ASSERT_TRUE(reloaded(t));
  EXPECT_EQ(status_of(t.daemon)["hub"]["name"], "New name");
}

TEST(Reload, LeavesARunningRoutineRunning) {
  Notified t;
  t.home.write_config(quiet_hub("Old name"));
  ASSERT_TRUE(t.daemon.start(t.options()));
  ASSERT_TRUE(t.wait_for("READY=1"));
  auto started = routine_request(t.daemon, "start");
  ASSERT_EQ(started.status, 200) << started.body.dump();
  auto before = room_routine(status_of(t.daemon));

  t.home.write_config(quiet_hub("New name"));
  ASSERT_TRUE(t.daemon.signal(SIGHUP));
  ASSERT_TRUE(reloaded(t));

  auto status = status_of(t.daemon);
  EXPECT_EQ(status["hub"]["name"], "New name");
  auto after = room_routine(status);
  EXPECT_EQ(after["state"], "running") << after.dump();
  EXPECT_EQ(after["routine"], "bedtime");
  EXPECT_EQ(after["started_at"], before["started_at"]);
  auto runs = runs_of(t.daemon);
  ASSERT_EQ(runs.size(), 1U) << runs.dump();
  EXPECT_TRUE(runs[0]["ended_at"].is_null()) << runs.dump();
}

}  // namespace
}  // namespace nursery::it
