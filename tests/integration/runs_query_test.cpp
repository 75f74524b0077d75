// GET /api/v1/runs with its filters on the real daemon and its store, and
// `nurseryctl runs` on top of it: filters are exact ids applied before the
// limit, an unknown room or routine is a 404, an unknown key a 400.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "daemon_process.hpp"

namespace nursery::it {
namespace {

using nlohmann::json;

// Two rooms with a light each; two routines that do nothing for an hour.
constexpr const char* kTwoRooms = R"toml(
[hub]
name = "Two rooms"
time_zone = "UTC"

[[rooms]]
id = "nursery"
name = "Nursery"
default_routine = "bedtime"

[[rooms]]
id = "playroom"
name = "Playroom"
default_routine = "nap"

[[devices]]
id = "night-light"
name = "Night light"
room = "nursery"
driver = "simulated"
kind = "light"

[[devices]]
id = "lamp"
name = "Lamp"
room = "playroom"
driver = "simulated"
kind = "light"

[[routines]]
id = "bedtime"
kind = "bedtime"

  [[routines.steps]]
  at = "0s"
  role = "light"
  on = true
  brightness = 0.05

  [[routines.steps]]
  at = "1h"
  role = "light"
  on = false

[[routines]]
id = "nap"
kind = "other"

  [[routines.steps]]
  at = "0s"
  role = "light"
  on = true
  brightness = 0.05

  [[routines.steps]]
  at = "1h"
  role = "light"
  on = false
)toml";

class RunsQuery : public ::testing::Test {
 protected:
  void SetUp() override {
    home_.write_config(kTwoRooms);
    ASSERT_TRUE(daemon_.start_and_wait());
    // Oldest first: nursery bedtime, nursery nap, playroom nap, nursery bedtime.
    for (auto [room, routine] : {std::pair{"nursery", "bedtime"}, std::pair{"nursery", "nap"},
                                 std::pair{"playroom", "nap"}, std::pair{"nursery", "bedtime"}}) {
      ASSERT_EQ(routine_request(daemon_, "start", routine, room).status, 200);
      ASSERT_EQ(routine_request(daemon_, "stop", std::nullopt, room).status, 200);
    }
  }

  json runs(std::string_view query, int expected_status = 200) {
    auto r = api(daemon_, "GET", fmt::format("/api/v1/runs{}", query));
    EXPECT_EQ(r.status, expected_status) << query << ": " << r.body.dump();
    return r.body;
  }

  // "room/routine" of each run listed, newest first.
  static std::vector<std::string> listed(const json& body) {
    std::vector<std::string> out;
    if (!body.contains("runs")) return out;
    for (const auto& run : body["runs"])
      out.push_back(run.value("room", "?") + "/" + run.value("routine", "?"));
    return out;
  }

  ProgramResult ctl(std::vector<std::string> args) {
    std::vector<std::string> argv{nurseryctl_path().string(), "--socket", home_.socket().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, home_.dir());
  }

  TestHome home_;
  DaemonProcess daemon_{home_};
};

using V = std::vector<std::string>;

TEST_F(RunsQuery, ListsEveryRoomWithoutAFilter) {
  EXPECT_EQ(listed(runs("")),
            (V{"nursery/bedtime", "playroom/nap", "nursery/nap", "nursery/bedtime"}));
}

TEST_F(RunsQuery, FiltersByRoomAndRoutineBeforeTheLimit) {
  EXPECT_EQ(listed(runs("?room=nursery")),
            (V{"nursery/bedtime", "nursery/nap", "nursery/bedtime"}));
  EXPECT_EQ(listed(runs("?routine=nap")), (V{"playroom/nap", "nursery/nap"}));
  EXPECT_EQ(listed(runs("?room=nursery&routine=bedtime")),
            (V{"nursery/bedtime", "nursery/bedtime"}));
  EXPECT_EQ(listed(runs("?routine=bedtime&room=playroom")), V{});
  // The two newest nursery runs: a limit applied before the filter would
  // leave one, since the playroom's nap is among the two newest of all.
  EXPECT_EQ(listed(runs("?limit=2&room=nursery")), (V{"nursery/bedtime", "nursery/nap"}));
}

TEST_F(RunsQuery, DecodesPercentEscapesInQueryValues) {
  EXPECT_EQ(listed(runs("?room=play%72oom")), V{"playroom/nap"});
  EXPECT_EQ(listed(runs("?routine=%6E%61%70&room=nursery")), V{"nursery/nap"});
}

TEST_F(RunsQuery, AnUnknownRoomOrRoutineIs404AndAnUnknownKey400) {
  json body = runs("?room=nope", 404);
  EXPECT_EQ(body["error"]["code"], "unknown_room") << body.dump();
  body = runs("?routine=nope", 404);
  EXPECT_EQ(body["error"]["code"], "unknown_routine") << body.dump();
  body = runs("?rooms=nursery", 400);
  EXPECT_EQ(body["error"]["code"], "invalid_request") << body.dump();
  EXPECT_NE(body["error"]["message"].get<std::string>().find("rooms"), std::string::npos)
      << body.dump();
}

TEST_F(RunsQuery, NurseryctlRunsForAnUnknownRoomIsAnError) {
  auto r = ctl({"--room", "nope", "runs"});
  EXPECT_EQ(r.code(), 1) << r.describe();
  EXPECT_NE(r.err.find("There is no room \"nope\"."), std::string::npos) << r.describe();
  EXPECT_EQ(r.out.find("No runs yet"), std::string::npos) << r.describe();

  r = ctl({"--routine", "nope", "runs"});
  EXPECT_EQ(r.code(), 1) << r.describe();
  EXPECT_NE(r.err.find("There is no routine \"nope\"."), std::string::npos) << r.describe();
}

TEST_F(RunsQuery, NurseryctlRunsListsEveryRoomOrTheOneAskedFor) {
  auto rooms_in = [](const std::string& table) {
    std::set<std::string> rooms;
    for (const char* room : {"nursery", "playroom"})
      if (table.find(fmt::format("  {}  ", room)) != std::string::npos) rooms.insert(room);
    return rooms;
  };
  auto r = ctl({"runs"});
  ASSERT_EQ(r.code(), 0) << r.describe();
  EXPECT_EQ(rooms_in(r.out), (std::set<std::string>{"nursery", "playroom"})) << r.out;

  r = ctl({"--room", "playroom", "runs"});
  ASSERT_EQ(r.code(), 0) << r.describe();
  EXPECT_EQ(rooms_in(r.out), std::set<std::string>{"playroom"}) << r.out;

  r = ctl({"--json", "--routine", "bedtime", "--limit", "1", "runs"});
  ASSERT_EQ(r.code(), 0) << r.describe();
  EXPECT_EQ(listed(json::parse(r.out, nullptr, false)), V{"nursery/bedtime"}) << r.out;
}

}  // namespace
}  // namespace nursery::it
