// The real nurseryd against what an unlucky or hostile user does: a second
// daemon on the same state directory, a config with nothing in it, a track
// name that tries to forge a log line, a run stopped while paused.

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "daemon_process.hpp"

namespace nursery::it {
namespace {

HubSpec light_hub(std::vector<StepSpec> steps) {
  HubSpec spec;
  spec.routines = {{"evening", "other", std::move(steps)}};
  return spec;
}

TEST(StateDirectoryLock, ASecondNurserydOnTheSameStateDirIsRefusedAndTheFirstRunsOn) {
  TestHome home;
  // Light on now, off after 3 s: the first daemon's routine goes on while the
  // second one tries to start.
  home.write_config(
      light_hub({{0, "light", {"on = true", "brightness = 0.1"}}, {3, "light", {"on = false"}}}));
  DaemonProcess first(home);
  ASSERT_TRUE(first.start_and_wait());
  ASSERT_EQ(routine_request(first, "start", "evening").status, 200);
  ASSERT_TRUE(first.wait_for_log("Night light: on"));

  // Same --state-dir, its own runtime directory: the socket cannot tell.
  const auto other_runtime = home.dir() / "run-2";
  std::filesystem::create_directory(other_runtime);
  DaemonProcess second(home);
  ASSERT_TRUE(second.start({{"--runtime-dir", other_runtime.string()}, {}, false}));
  const auto exit = second.wait_exit(10s);
  ASSERT_TRUE(exit) << "a second nurseryd kept running\n" << second.log();
  EXPECT_TRUE(exit->exited && exit->code == EX_TEMPFAIL) << exit->describe() << "\n"
                                                         << second.log();
  const std::string message = "another nurseryd (pid " + std::to_string(first.pid()) +
                              ") is using " + home.state_dir().string();
  EXPECT_NE(second.log().find(message), std::string::npos) << second.log();
  EXPECT_EQ(second.log().find("Night light"), std::string::npos)
      << "the second nurseryd drove the devices\n"
      << second.log();

  // The first one's routine goes on to its next step, untouched.
  ASSERT_TRUE(first.running());
  EXPECT_TRUE(first.wait_for_log("Night light: off", 10s)) << first.log();
  const auto runs = runs_of(first);
  ASSERT_EQ(runs.size(), 1u) << runs.dump();
  EXPECT_EQ(runs[0]["outcome"], "completed") << runs.dump();
}

TEST(StateDirectoryLock, TheLockIsFreeAgainOnceTheFirstHasStopped) {
  TestHome home;
  home.write_config(light_hub({{0, "light", {"on = true"}}}));
  DaemonProcess first(home);
  ASSERT_TRUE(first.start_and_wait());
  ASSERT_TRUE(first.kill_hard());  // a crash: the kernel drops the lock
  DaemonProcess second(home);
  EXPECT_TRUE(second.start_and_wait()) << second.log();
}

TEST(EmptyConfig, RefusesToStartWithNoRoomsAtLine1Column1AndExitCode78) {
  TestHome home;
  home.write_config("\xEF\xBB\xBF");
  DaemonProcess daemon(home);
  ASSERT_TRUE(daemon.start());
  const auto exit = daemon.wait_exit(10s);
  ASSERT_TRUE(exit) << "nurseryd ran a hub with nothing in it\n" << daemon.log();
  EXPECT_TRUE(exit->exited && exit->code == EX_CONFIG) << exit->describe();
  EXPECT_NE(daemon.log().find(home.config_file().string() + ":1:1: no rooms"), std::string::npos)
      << daemon.log();
}

TEST(ForgedLogLine, ATrackWithANewlineIsRefusedAndWritesNoSecondLine) {
  TestHome home;
  home.write_config(light_hub({{0, "light", {"on = true"}}}));
  DaemonProcess daemon(home);
  ASSERT_TRUE(daemon.start_and_wait());
  auto response =
      api(daemon, "POST", "/api/v1/rooms/nursery/devices/sound",
          nlohmann::json{{"track", "rain\nnurseryd: error: the massager could not be stopped"}});
  EXPECT_EQ(response.status, 400) << response.body.dump();
  EXPECT_EQ(response.body["error"]["code"], "invalid_value") << response.body.dump();
  // A device name the log shows, as a marker that the request was handled.
  ASSERT_EQ(api(daemon, "POST", "/api/v1/rooms/nursery/devices/night-light",
                nlohmann::json{{"brightness", 0.05}})
                .status,
            200);
  ASSERT_TRUE(daemon.wait_for_log("Night light"));
  const std::string log = daemon.log();
  EXPECT_EQ(log.find("\nnurseryd: error: the massager"), std::string::npos) << log;
}

TEST(PausedTime, ARunStoppedWhilePausedCountsItsPause) {
  TestHome home;
  home.write_config(light_hub({{0, "light", {"on = true"}}, {3600, "light", {"on = false"}}}));
  DaemonProcess daemon(home);
  // Fast time, so that the real moment between pause and stop is seconds of
  // routine time.
  ASSERT_TRUE(daemon.start_and_wait({{"--time-scale", "1000"}, {}, false}));
  ASSERT_EQ(routine_request(daemon, "start", "evening").status, 200);
  ASSERT_EQ(routine_request(daemon, "pause").status, 200);
  ASSERT_EQ(routine_request(daemon, "stop").status, 200);
  const auto runs = runs_of(daemon);
  ASSERT_EQ(runs.size(), 1u) << runs.dump();
  EXPECT_EQ(runs[0]["outcome"], "stopped");
  const auto started = parse_utc(runs[0]["started_at"].get<std::string>());
  const auto ended = parse_utc(runs[0]["ended_at"].get<std::string>());
  ASSERT_TRUE(started && ended) << runs.dump();
  const auto paused = runs[0]["paused_ms"].get<std::int64_t>();
  EXPECT_GT(paused, 0) << runs.dump();
  EXPECT_LE(paused, (*ended - *started).count()) << runs.dump();
}

}  // namespace
}  // namespace nursery::it

namespace nursery::it {
namespace {

// The state directory on a real 1 MiB tmpfs, filled by another file.
class SmallDisk {
 public:
  explicit SmallDisk(const std::filesystem::path& dir) : dir_(dir) {
    if (::geteuid() != 0) {
      skip_ = "mounting a tmpfs needs root";
      return;
    }
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=1m,mode=0700") != 0) {
      skip_ = std::string("cannot mount a tmpfs: ") + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~SmallDisk() {
    if (mounted_) {
      EXPECT_EQ(::umount(dir_.c_str()), 0) << std::strerror(errno);
    }
  }
  const std::string& skip_reason() const { return skip_; }
  // Writes a filler file until the disk has no byte left.
  void fill() {
    std::FILE* f = std::fopen((dir_ / "filler").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::vector<char> block(4096, 'x');
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size()) {
    }
    std::fclose(f);
    // The last partial block, byte by byte.
    f = std::fopen((dir_ / "filler2").c_str(), "wb");
    while (f && std::fputc('x', f) != EOF && std::fflush(f) == 0) {
    }
    if (f) std::fclose(f);
  }

 private:
  std::filesystem::path dir_;
  std::string skip_;
  bool mounted_ = false;
};

TEST(FullDisk, AStopOnAFullDiskIsStoredAndARestartNeverBringsTheRoutineBack) {
  TestHome home;
  SmallDisk disk(home.state_dir());
  if (!disk.skip_reason().empty()) GTEST_SKIP() << disk.skip_reason();
  home.write_config(light_hub({{0, "light", {"on = true", "brightness = 0.1"}},
                               {0, "sound", {"on = true", "volume = 0.2"}},
                               {600, "light", {"on = false"}}}));
  DaemonProcess daemon(home);
  ASSERT_TRUE(daemon.start_and_wait());
  ASSERT_EQ(routine_request(daemon, "start", "evening").status, 200);
  disk.fill();
  const auto stopped = routine_request(daemon, "stop");
  // Stored from the space the database held in reserve; were even that
  // gone, the answer would be 507 storage_full, the devices safe either way.
  ASSERT_TRUE(stopped.status == 200 || stopped.status == 507) << stopped.body.dump();
  if (stopped.status == 507) {
    EXPECT_EQ(stopped.body["error"]["code"], "storage_full");
  }
  const auto status = status_of(daemon);
  EXPECT_EQ(room_routine(status)["state"], "idle") << status.dump();
  EXPECT_EQ(status["store"]["state"], "degraded") << status.dump();
  EXPECT_FALSE(status["store"]["problem"].is_null());

  ASSERT_TRUE(daemon.kill_hard());
  ASSERT_TRUE(daemon.start_and_wait()) << daemon.log();
  EXPECT_EQ(room_routine(status_of(daemon))["state"], "idle");
  EXPECT_EQ(daemon.log().find("goes on where it would be now"), std::string::npos)
      << "the stopped routine came back\n"
      << daemon.log();
  const auto runs = runs_of(daemon);
  ASSERT_EQ(runs.size(), 1u) << runs.dump();
  EXPECT_EQ(runs[0]["outcome"], "stopped") << runs.dump();
  ASSERT_TRUE(daemon.signal(SIGTERM));
  ASSERT_TRUE(daemon.wait_exit());
}

}  // namespace
}  // namespace nursery::it
