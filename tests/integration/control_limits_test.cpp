// The real nurseryd's control socket under idle and crowding clients, as the
// hardening issue found them: silent connections must not lock nurseryctl
// out, and a crowd must be answered (200 or 503), never dropped.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "daemon_process.hpp"
#include "tests/web/raw_connection.hpp"

namespace nursery::it {
namespace {

using nursery::testing::RawConnection;

// "quick" changes the light two seconds in, then holds for an hour.
HubSpec test_hub() {
  HubSpec spec;
  spec.routines = {
      {"bedtime",
       "bedtime",
       {{0, "light", {"on = true", "brightness = 0.05"}}, {3600, "light", {"on = false"}}}},
      {"quick",
       "other",
       {{0, "light", {"on = true", "brightness = 0.05"}},
        {2, "light", {"brightness = 0.02"}},
        {3600, "light", {"on = false"}}}}};
  return spec;
}

class ControlLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    home_.write_config(test_hub());
    ASSERT_TRUE(daemon_.start_and_wait());
  }

  ProgramResult ctl(std::vector<std::string> args) {
    std::vector<std::string> argv{nurseryctl_path().string(), "--socket", home_.socket().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, home_.dir());
  }

  TestHome home_;
  DaemonProcess daemon_{home_};
};

TEST_F(ControlLimits, SixtyFourIdleConnectionsDoNotLockNurseryctlOut) {
  // As many silent connections as the server serves at once (its default).
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 64; ++i) idle.push_back(std::make_unique<RawConnection>(home_.socket()));

  auto r = ctl({"status"});
  EXPECT_EQ(r.code(), 0) << r.describe() << "\n--- nurseryd ---\n" << daemon_.log();
  EXPECT_NE(r.out.find("Test hub"), std::string::npos) << r.describe();

  // The one that made room is the one idle longest: the first.
  std::vector<int> closed;
  for (int i = 0; i < 64; ++i)
    if (idle[i]->closed_by_server()) closed.push_back(i);
  EXPECT_EQ(closed, std::vector<int>{0}) << daemon_.log();
  EXPECT_TRUE(idle[0]->received().empty()) << "an idle connection is closed without an answer";
}

TEST_F(ControlLimits, FiveHundredClientsAtOnceAreEachAnsweredWith200Or503) {
  // Every client sends its request at once and keeps its connection open
  // until the test ends, as a browser keeps its connections alive.
  constexpr int kClients = 500;
  const std::string request = "GET /api/v1/status HTTP/1.1\r\nHost: hub\r\n\r\n";
  std::vector<std::unique_ptr<RawConnection>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawConnection>(home_.socket()));
    ASSERT_TRUE(clients.back()->send(request)) << "client " << i;
  }

  int ok = 0;
  int busy = 0;
  for (int i = 0; i < kClients; ++i) {
    auto response = clients[i]->read_response(std::chrono::seconds(20));
    ASSERT_TRUE(response) << "client " << i << " was closed without an answer (got \""
                          << clients[i]->received() << "\")\n--- nurseryd ---\n"
                          << daemon_.log();
    if (response->status == 200) {
      ++ok;
      EXPECT_TRUE(response->json().contains("rooms")) << response->body;
    } else {
      ++busy;
      EXPECT_EQ(response->status, 503) << response->body;
      EXPECT_EQ(response->error_code(), "too_many_connections") << response->body;
      EXPECT_FALSE(response->headers["retry-after"].empty());
    }
  }
  EXPECT_EQ(ok + busy, kClients);
  EXPECT_GE(ok, 64) << "at least the first 64 are served";

  // And the hub is still there for the next client.
  auto r = ctl({"status"});
  EXPECT_EQ(r.code(), 0) << r.describe();
}

TEST_F(ControlLimits, ARoutineStepsOnWhileClientsHangMidRequestOrNeverRead) {
  ASSERT_EQ(routine_request(daemon_, "start", "quick").status, 200);
  // Clients stuck in every way the server can wait on them: mid-header, and
  // one that pipelines requests and never reads an answer.
  std::vector<std::unique_ptr<RawConnection>> stuck;
  for (int i = 0; i < 32; ++i) {
    stuck.push_back(std::make_unique<RawConnection>(home_.socket()));
    ASSERT_TRUE(stuck.back()->send("GET /api/v1/status HTTP/1.1\r\nHost: hub\r\n"));
  }
  auto hog = std::make_unique<RawConnection>(home_.socket());
  std::string requests;
  for (int i = 0; i < 2000; ++i) requests += "GET /api/v1/status HTTP/1.1\r\nHost: hub\r\n\r\n";
  ASSERT_GT(hog->send_without_waiting(requests), 0u);

  // The step two seconds in happens, and this client sees it.
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  double brightness = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    auto state = device_in(status_of(daemon_), "night-light")["state"];
    brightness = state.value("brightness", -1.0);
    if (brightness < 0.03) break;
    std::this_thread::sleep_for(50ms);  // a polling interval
  }
  EXPECT_DOUBLE_EQ(brightness, 0.02) << daemon_.log();
}

}  // namespace
}  // namespace nursery::it
