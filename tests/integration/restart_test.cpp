// A routine survives the daemon dying: kill -9, SIGTERM and restart at
// --time-scale 1 (real time), so the restarted process sees exactly the time
// that passed. Resuming is recomputing from the stored run, so the routine
// must be where the clock says, with the one run it had.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "daemon/store/store.hpp"
#include "daemon_process.hpp"

namespace nursery::it {
namespace {

using Clock = std::chrono::steady_clock;

// `count` light steps `spacing_s` apart, each one brighter; the last one fades
// for `spacing_s`, so the routine lasts count * spacing_s seconds.
RoutineSpec stepping(std::string id, int count, int spacing_s) {
  RoutineSpec r{std::move(id), "other", {}};
  for (int i = 0; i < count; ++i)
    r.steps.push_back(StepSpec{i * spacing_s,
                               "light",
                               {"on = true", fmt::format("brightness = 0.{}", i + 1)},
                               i + 1 == count ? spacing_s : 0});
  return r;
}

HubSpec hub_with(std::vector<RoutineSpec> routines) {
  HubSpec spec;
  spec.routines = std::move(routines);
  return spec;
}

void sleep_until(Clock::time_point t) { std::this_thread::sleep_until(t); }

// The database is healthy while (or after) the daemon uses it.
void expect_database_intact(const TestHome& home) {
  auto store = SqliteStore::open(home.database());
  ASSERT_TRUE(store) << store.error().message;
  auto check = (*store)->integrity_check();
  ASSERT_TRUE(check) << check.error().message;
  EXPECT_EQ(*check, "ok");
}

std::size_t open_runs(const nlohmann::json& runs) {
  std::size_t n = 0;
  for (const auto& r : runs)
    if (r["ended_at"].is_null()) ++n;
  return n;
}

TEST(Restart, AfterKill9ARoutineGoesOnWhereTheClockSaysWithOneRun) {
  TestHome home;
  home.write_config(hub_with({stepping("six-steps", 6, 2)}));  // 12 s
  DaemonProcess daemon(home);
  ASSERT_TRUE(daemon.start_and_wait());
  auto started = routine_request(daemon, "start", "six-steps");
  ASSERT_EQ(started.status, 200) << started.body.dump();
  const auto t0 = Clock::now();

  sleep_until(t0 + 3s);
  auto before = room_routine(status_of(daemon));
  ASSERT_EQ(before["state"], "running") << before.dump();
  const int index_before = before["step_index"].get<int>();
  ASSERT_GE(index_before, 1) << "the kill must come in the middle of the routine: "
                             << before.dump();
  auto runs_before = runs_of(daemon);
  ASSERT_EQ(runs_before.size(), 1U) << runs_before.dump();

  ASSERT_TRUE(daemon.kill_hard());
  ASSERT_TRUE(daemon.start_and_wait());

  auto status = status_of(daemon);
  auto after = room_routine(status);
  EXPECT_EQ(after["state"], "running") << after.dump() << "\n" << daemon.log();
  EXPECT_EQ(after["routine"], "six-steps");
  EXPECT_EQ(after["started_at"], before["started_at"]);
  EXPECT_EQ(after["step_count"], 6);
  // The step the timeline gives for the time elapsed since the start, as
  // the daemon reports both; next to a step boundary either side will do.
  auto now = parse_utc(status["hub"]["now"].get<std::string>());
  auto start = parse_utc(after["started_at"].get<std::string>());
  ASSERT_TRUE(now && start) << status.dump();
  const auto elapsed = (*now - *start).count();
  const int index = after["step_index"].get<int>();
  EXPECT_GE(index, index_before);
  const auto expected = std::min<long long>(5, elapsed / 2000);
  const bool near_boundary = elapsed % 2000 < 100 || elapsed % 2000 > 1900;
  if (near_boundary)
    EXPECT_NEAR(index, expected, 1) << "elapsed " << elapsed << " ms";
  else
    EXPECT_EQ(index, expected) << "elapsed " << elapsed << " ms";

  auto runs = runs_of(daemon);
  ASSERT_EQ(runs.size(), 1U) << "a restart must not start a second run: " << runs.dump();
  EXPECT_EQ(runs[0]["id"], runs_before[0]["id"]);
  EXPECT_EQ(open_runs(runs), 1U) << runs.dump();
  expect_database_intact(home);
}

TEST(Restart, AfterKill9PastTheRoutinesEndTheRunIsClosedAsInterrupted) {
  TestHome home;
  home.write_config(hub_with({stepping("short", 2, 1)}));  // 2 s
  DaemonProcess daemon(home);
  ASSERT_TRUE(daemon.start_and_wait());
  auto started = routine_request(daemon, "start", "short");
  ASSERT_EQ(started.status, 200) << started.body.dump();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(daemon.kill_hard());

  sleep_until(t0 + 2500ms);  // the routine would have ended by now
  ASSERT_TRUE(daemon.start_and_wait());

  auto routine = room_routine(status_of(daemon));
  EXPECT_EQ(routine["state"], "idle") << routine.dump();
  auto runs = runs_of(daemon);
  ASSERT_EQ(runs.size(), 1U) << runs.dump();
  EXPECT_EQ(runs[0]["outcome"], "interrupted") << runs.dump();
  EXPECT_FALSE(runs[0]["ended_at"].is_null()) << runs.dump();
  expect_database_intact(home);
}

TEST(Restart, APausedRoutineStaysPausedAtTheSameStepAfterKill9) {
  TestHome home;
  home.write_config(hub_with({stepping("six-steps", 6, 1)}));  // 6 s
  DaemonProcess daemon(home);
  ASSERT_TRUE(daemon.start_and_wait());
  auto started = routine_request(daemon, "start", "six-steps");
  ASSERT_EQ(started.status, 200) << started.body.dump();
  const auto t0 = Clock::now();
  sleep_until(t0 + 1300ms);
  auto paused = routine_request(daemon, "pause");
  ASSERT_EQ(paused.status, 200) << paused.body.dump();
  auto before = room_routine(status_of(daemon));
  ASSERT_EQ(before["state"], "paused") << before.dump();
  const int index_before = before["step_index"].get<int>();

  ASSERT_TRUE(daemon.kill_hard());
  // Longer than a step: had the pause been lost, the routine would move on.
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(daemon.start_and_wait());

  auto after = room_routine(status_of(daemon));
  EXPECT_EQ(after["state"], "paused") << after.dump() << "\n" << daemon.log();
  EXPECT_EQ(after["step_index"], index_before);
  EXPECT_EQ(after["started_at"], before["started_at"]);
  EXPECT_TRUE(after["ends_at"].is_null()) << after.dump();
  EXPECT_EQ(open_runs(runs_of(daemon)), 1U);

  // And it resumes from there, not from where the wall clock would put it.
  auto resumed = routine_request(daemon, "resume");
  ASSERT_EQ(resumed.status, 200) << resumed.body.dump();
  EXPECT_EQ(resumed.body["routine"]["state"], "running");
  EXPECT_EQ(resumed.body["routine"]["step_index"], index_before);
}

TEST(Restart, SigtermSwitchesTheMassagerOffExitsWith0AndTheRoutineResumesAfter) {
  TestHome home;
  HubSpec spec =
      hub_with({{"massage",
                 "other",
                 {{0, "massager", {"on = true", "pattern = \"wave\"", "intensity = 0.3"}},
                  {0, "light", {"on = true", "brightness = 0.1"}},
                  {60, "massager", {"on = false"}}}}});
  home.write_config(spec);
  DaemonProcess daemon(home);
  ASSERT_TRUE(daemon.start_and_wait());
  auto started = routine_request(daemon, "start", "massage");
  ASSERT_EQ(started.status, 200) << started.body.dump();
  ASSERT_TRUE(daemon.wait_for_log("Massager: on"));
  auto before = room_routine(status_of(daemon));
  auto runs_before = runs_of(daemon);

  ASSERT_TRUE(daemon.signal(SIGTERM));
  auto exit = daemon.wait_exit(10s);
  ASSERT_TRUE(exit) << "still running 10 s after SIGTERM\n" << daemon.log();
  EXPECT_TRUE(exit->exited && exit->code == 0) << exit->describe() << "\n" << daemon.log();
  const std::string log = daemon.log();
  const auto on = log.find("Massager: on");
  const auto off = log.find("Massager: off");
  EXPECT_TRUE(off != std::string::npos && off > on)
      << "the massager must be switched off before the daemon exits\n"
      << log;
  // A clean stop leaves no socket behind and the database in one file.
  EXPECT_FALSE(std::filesystem::exists(home.socket()));
  std::filesystem::path wal = home.database();
  wal += "-wal";
  EXPECT_TRUE(!std::filesystem::exists(wal) || std::filesystem::file_size(wal) == 0)
      << wal << " still holds " << std::filesystem::file_size(wal) << " bytes";

  ASSERT_TRUE(daemon.start_and_wait());
  auto after = room_routine(status_of(daemon));
  EXPECT_EQ(after["state"], "running") << after.dump() << "\n" << daemon.log();
  EXPECT_EQ(after["routine"], "massage");
  EXPECT_EQ(after["started_at"], before["started_at"]);
  auto runs = runs_of(daemon);
  ASSERT_EQ(runs.size(), 1U) << runs.dump();
  EXPECT_EQ(runs[0]["id"], runs_before[0]["id"]);
  EXPECT_TRUE(runs[0]["outcome"].is_null())
      << "the run must stay open over a stop: " << runs.dump();
  // The resumed routine wants the massage on, so the massager is on again.
  EXPECT_TRUE(daemon.wait_for_log("Massager: on"));
  expect_database_intact(home);
}

}  // namespace
}  // namespace nursery::it

namespace nursery::it {
namespace {

TEST(SecondInstance, RefusesToStartWithoutTouchingTheDevicesOfTheRunningOne) {
  TestHome home;
  home.write_config(
      hub_with({{"massage",
                 "other",
                 {{0, "massager", {"on = true", "pattern = \"wave\"", "intensity = 0.3"}},
                  {60, "massager", {"on = false"}}}}}));
  DaemonProcess first(home);
  ASSERT_TRUE(first.start_and_wait());
  auto started = routine_request(first, "start", "massage");
  ASSERT_EQ(started.status, 200) << started.body.dump();
  ASSERT_TRUE(first.wait_for_log("Massager: on"));

  // An admin starts nurseryd by hand while the service runs, on the same dirs.
  DaemonProcess second(home);
  ASSERT_TRUE(second.start());
  auto exit = second.wait_exit(10s);
  ASSERT_TRUE(exit) << "a second nurseryd kept running\n" << second.log();
  EXPECT_TRUE(exit->exited && exit->code == 71) << exit->describe() << "\n" << second.log();
  // With real devices, anything it sent would reach the first one's devices.
  EXPECT_EQ(second.log().find("Massager"), std::string::npos)
      << "the second nurseryd drove the devices before giving up\n"
      << second.log();

  EXPECT_TRUE(first.running());
  auto routine = room_routine(status_of(first));
  EXPECT_EQ(routine["state"], "running") << routine.dump();
  EXPECT_EQ(runs_of(first).size(), 1U);
}

}  // namespace
}  // namespace nursery::it
