// nurseryctl: its command line, its output for people, and what it does
// against a served (fake) hub, exit codes included.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "fake_hub.hpp"
#include "web/ctl_args.hpp"
#include "web/ctl_format.hpp"
#include "web/ctl_run.hpp"

namespace nursery::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

Expected<CtlArgs> parse(std::vector<std::string> words, const char* runtime_dir = nullptr) {
  return parse_ctl_args(words, runtime_dir);
}

// ---- arguments -------------------------------------------------------------

TEST(CtlArgs, SetBuildsTheBodyFromKeyValueWords) {
  auto args = parse({"set", "nursery", "night-light", "brightness=0.5", "on=true"});
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->command, CtlCommand::Set);
  EXPECT_EQ(args->room, "nursery");
  EXPECT_EQ(args->device, "night-light");
  EXPECT_EQ(args->values, (json{{"brightness", 0.5}, {"on", true}}));
}

TEST(CtlArgs, SetReadsOnOffPercentagesWholeNumbersAndText) {
  auto args = parse({"set", "nursery", "hatch", "on=off", "volume=40%", "color_temp=2200",
                     "track=white-noise", "intensity=-3"});
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->values["on"], false);
  EXPECT_DOUBLE_EQ(args->values["volume"].get<double>(), 0.4);
  EXPECT_TRUE(args->values["color_temp"].is_number_integer());
  EXPECT_EQ(args->values["color_temp"], 2200);
  EXPECT_EQ(args->values["track"], "white-noise");
  EXPECT_EQ(args->values["intensity"], -3);  // the server refuses it, not nurseryctl
}

TEST(CtlArgs, SetLeavesAWordThatIsNotANumberAsTextForTheServerToJudge) {
  auto args = parse({"set", "nursery", "night-light", "brightness=high"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->values["brightness"], "high");
}

TEST(CtlArgs, SetRefusesAWordWithoutEqualsOrAKeyGivenTwice) {
  EXPECT_FALSE(parse({"set", "nursery", "night-light", "bright"}).ok());
  EXPECT_FALSE(parse({"set", "nursery", "night-light", "on=true", "on=false"}).ok());
  EXPECT_FALSE(parse({"set", "nursery", "night-light"}).ok());
}

TEST(CtlArgs, ReadsOptionsBeforeOrAfterTheCommand) {
  auto args = parse({"--socket", "/tmp/x.sock", "start", "nap", "--json", "--room=nursery"});
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->command, CtlCommand::Start);
  EXPECT_EQ(args->routine, "nap");
  EXPECT_EQ(args->socket, "/tmp/x.sock");
  EXPECT_TRUE(args->json);
  EXPECT_EQ(args->room, "nursery");
  EXPECT_EQ(routine_request_body(*args), (json{{"action", "start"}, {"routine", "nap"}}));
}

TEST(CtlArgs, DefaultsTheSocketToTheRuntimeDirectory) {
  EXPECT_EQ(parse({"status"})->socket, "/run/nurseryd/control.sock");
  EXPECT_EQ(parse({"status"}, "/run/x")->socket, "/run/x/control.sock");
  EXPECT_EQ(parse({"status"}, "/run/a:/run/b")->socket, "/run/a/control.sock");
}

TEST(CtlArgs, RefusesWhatItCannotUnderstandAsAUsageError) {
  for (auto words : std::vector<std::vector<std::string>>{{},
                                                          {"dance"},
                                                          {"status", "now"},
                                                          {"start", "a", "b"},
                                                          {"--frobnicate", "status"},
                                                          {"--socket"},
                                                          {"stop", "--limit", "3"},
                                                          {"runs", "--limit", "many"},
                                                          {"stop", "--routine", "nap"},
                                                          {"start", "--routine", "nap"},
                                                          {"runs", "--routine"},
                                                          {"runs", "--routine="}}) {
    auto args = parse(words);
    ASSERT_FALSE(args.ok()) << ::testing::PrintToString(words);
    EXPECT_EQ(args.error().code, "usage");
  }
}

TEST(CtlArgs, RunsTakesARoomARoutineAndALimit) {
  auto args = parse({"runs", "--routine=nap", "--room", "nursery", "--limit", "3"});
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->command, CtlCommand::Runs);
  EXPECT_EQ(args->routine, "nap");
  EXPECT_EQ(args->room, "nursery");
  EXPECT_EQ(args->limit, 3u);
}

TEST(CtlArgs, HelpWinsOverEverythingElse) {
  auto args = parse({"start", "--help"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->command, CtlCommand::Help);
  EXPECT_THAT(ctl_usage(), HasSubstr("Usage: nurseryctl"));
}

TEST(CtlArgs, StopPauseResumeAndSkipSendOnlyTheirAction) {
  for (auto [word, action] : {std::pair{"stop", "stop"}, std::pair{"pause", "pause"},
                              std::pair{"resume", "resume"}, std::pair{"skip", "skip"}}) {
    auto args = parse({word});
    ASSERT_TRUE(args.ok());
    EXPECT_EQ(routine_request_body(*args), (json{{"action", action}}));
  }
}

// ---- output ----------------------------------------------------------------

TEST(CtlFormat, ShowsARunningRoutineWithItsStepAndEnd) {
  json routine{{"state", "running"},
               {"routine", "bedtime"},
               {"step_index", 2},
               {"step_count", 7},
               {"started_at", "2024-05-01T20:00:00Z"},
               {"ends_at", "2024-05-01T20:45:10Z"}};
  EXPECT_EQ(format_routine_line("Nursery", routine, "UTC"),
            "Nursery: bedtime running, step 3 of 7, ends 20:45:10 UTC");
  EXPECT_EQ(format_routine_line("Nursery", routine, "Europe/London"),
            "Nursery: bedtime running, step 3 of 7, ends 21:45:10 BST");
  EXPECT_EQ(format_routine_line("Nursery", routine, "Not/AZone"),
            "Nursery: bedtime running, step 3 of 7, ends 20:45:10 UTC");
}

TEST(CtlFormat, ShowsAnIdleRoom) {
  EXPECT_EQ(format_routine_line("Nursery", json{{"state", "idle"}, {"routine", nullptr}}, ""),
            "Nursery: idle");
}

TEST(CtlFormat, ShowsADevicesStateInWordsAParentReads) {
  EXPECT_EQ(format_values(json{{"on", true}, {"brightness", 0.1}, {"color_temp", 2200}}),
            "on, brightness 10%, 2200 K");
  EXPECT_EQ(format_values(json{{"on", true}, {"volume", 0.125}, {"track", "rain"}}),
            "on, rain, volume 12.5%");
  EXPECT_EQ(format_values(json::object()), "no state reported");
}

TEST(CtlFormat, ToleratesFieldsOfTheWrongTypeOrMissing) {
  EXPECT_NO_THROW((void)format_status(json{{"rooms", 3}}));
  EXPECT_NO_THROW((void)format_status(json::array()));
  EXPECT_NO_THROW((void)format_runs(json{{"runs", {1, "x", nullptr}}}, ""));
  EXPECT_NO_THROW((void)format_command_result(json("x")));
  EXPECT_EQ(server_error_message(502, json("x")), "nurseryd answered HTTP 502");
}

TEST(CtlFormat, ListsRunsAsATableWithOpenRunsMarkedRunning) {
  json runs{{"runs",
             {{{"id", 2},
               {"room", "nursery"},
               {"routine", "bedtime"},
               {"started_at", "2024-05-01T19:15:00Z"},
               {"ended_at", nullptr},
               {"outcome", nullptr}},
              {{"id", 1},
               {"room", "nursery"},
               {"routine", "nap"},
               {"started_at", "2024-05-01T14:30:00Z"},
               {"ended_at", "2024-05-01T15:30:00Z"},
               {"outcome", "completed"}}}}};
  EXPECT_EQ(format_runs(runs, "UTC"),
            "ID  ROOM     ROUTINE  STARTED                  ENDED                    OUTCOME\n"
            "2   nursery  bedtime  2024-05-01 19:15:00 UTC  -                        running\n"
            "1   nursery  nap      2024-05-01 14:30:00 UTC  2024-05-01 15:30:00 UTC  completed\n");
  EXPECT_EQ(format_runs(json{{"runs", json::array()}}, ""), "No runs yet.\n");
}

// ---- against a served hub --------------------------------------------------

class CtlAgainstHub : public ServedHub {
 protected:
  int run(std::vector<std::string> words) {
    words.insert(words.begin(), {"--socket", socket_.string()});
    auto args = parse_ctl_args(words, nullptr);
    if (!args) {
      err_ << args.error().message;
      return kCtlUsage;
    }
    ControlClient client(args->socket, std::chrono::seconds(5));
    out_.str("");
    err_.str("");
    return run_ctl(*args, client, out_, err_);
  }
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CtlAgainstHub, StatusPrintsTheRoomsRoutineAndEachDevice) {
  EXPECT_EQ(run({"status"}), kCtlOk);
  EXPECT_THAT(out_.str(), HasSubstr("Nursery: bedtime running, step 3 of 7, ends 19:45:10 UTC\n"));
  EXPECT_THAT(out_.str(), HasSubstr("  Night light (light): on, brightness 10%, 2200 K\n"));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CtlAgainstHub, JsonPrintsTheServersJson) {
  EXPECT_EQ(run({"--json", "status"}), kCtlOk);
  json printed = json::parse(out_.str());
  EXPECT_EQ(printed["rooms"][0]["id"], "nursery");
}

TEST_F(CtlAgainstHub, StartUsesTheOnlyRoomWhenNoneIsGiven) {
  EXPECT_EQ(run({"start", "nap"}), kCtlOk);
  ASSERT_EQ(hub_.routine_calls().size(), 1u);
  EXPECT_EQ(hub_.routine_calls()[0].room, "nursery");
  EXPECT_EQ(hub_.routine_calls()[0].request.routine, "nap");
  EXPECT_THAT(out_.str(), HasSubstr("Nursery: nap running"));
}

TEST_F(CtlAgainstHub, StartAsksForARoomWhenThereAreSeveral) {
  hub_.add_room("playroom", "Playroom");
  EXPECT_EQ(run({"start"}), kCtlUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--room"));
  EXPECT_EQ(hub_.changing_calls(), 0u);

  EXPECT_EQ(run({"--room", "playroom", "pause"}), kCtlOk);
  ASSERT_EQ(hub_.routine_calls().size(), 1u);
  EXPECT_EQ(hub_.routine_calls()[0].room, "playroom");
  EXPECT_EQ(hub_.routine_calls()[0].request.action, RoutineAction::Pause);
}

TEST_F(CtlAgainstHub, ARefusalExitsWith1AndPrintsTheServersMessage) {
  EXPECT_EQ(run({"set", "nursery", "night-light", "brightness=1.5"}), kCtlRefused);
  EXPECT_THAT(err_.str(), ::testing::StartsWith("nurseryctl: brightness must be between 0 and 1"));
  EXPECT_EQ(hub_.changing_calls(), 0u);

  EXPECT_EQ(run({"--room", "attic", "stop"}), kCtlRefused);
  EXPECT_EQ(err_.str(), "nurseryctl: There is no room \"attic\".\n");
}

TEST_F(CtlAgainstHub, SetPrintsWhatWasAppliedAndWhatWasLimited) {
  EXPECT_EQ(run({"set", "nursery", "night-light", "brightness=80%", "on=on"}), kCtlOk);
  EXPECT_THAT(out_.str(), HasSubstr("night-light in nursery: on, brightness 30%\n"));
  EXPECT_THAT(out_.str(), HasSubstr("brightness limited from 80% to 30%"));
  ASSERT_EQ(hub_.device_calls().size(), 1u);
  EXPECT_EQ(hub_.device_calls()[0].command.values.brightness, Level::permille(800));
}

TEST_F(CtlAgainstHub, RunsPrintsATable) {
  EXPECT_EQ(run({"runs", "--limit", "10"}), kCtlOk);
  EXPECT_THAT(out_.str(), HasSubstr("ROUTINE"));
  EXPECT_THAT(out_.str(), HasSubstr("running"));
  EXPECT_THAT(out_.str(), HasSubstr("completed"));
  ASSERT_EQ(hub_.runs_queries().size(), 1u);
  EXPECT_EQ(hub_.runs_queries()[0].limit, 10u);
  EXPECT_FALSE(hub_.runs_queries()[0].room) << "without --room, every room";
  EXPECT_FALSE(hub_.runs_queries()[0].routine);
}

TEST_F(CtlAgainstHub, RunsAsksTheServerForTheRoomAndRoutineGiven) {
  EXPECT_EQ(run({"--room", "nursery", "runs", "--routine", "nap"}), kCtlOk);
  EXPECT_THAT(out_.str(), HasSubstr("nap"));
  EXPECT_THAT(out_.str(), Not(HasSubstr("bedtime")));
  ASSERT_EQ(hub_.runs_queries().size(), 1u);
  EXPECT_EQ(hub_.runs_queries()[0].room, "nursery");
  EXPECT_EQ(hub_.runs_queries()[0].routine, "nap");
}

TEST_F(CtlAgainstHub, RunsEncodesTheIdsItSends) {
  hub_.add_room("play room&x=1", "Odd");
  EXPECT_EQ(run({"--room", "play room&x=1", "runs"}), kCtlOk) << err_.str();
  ASSERT_EQ(hub_.runs_queries().size(), 1u);
  EXPECT_EQ(hub_.runs_queries()[0].room, "play room&x=1");
}

TEST_F(CtlAgainstHub, RunsForARoomWithoutRunsSaysSo) {
  hub_.add_room("playroom", "Playroom");
  EXPECT_EQ(run({"runs", "--room", "playroom"}), kCtlOk);
  EXPECT_EQ(out_.str(), "No runs yet.\n");
}

TEST_F(CtlAgainstHub, RunsForAnUnknownRoomOrRoutineExits1WithTheServersMessage) {
  EXPECT_EQ(run({"runs", "--room", "nope"}), kCtlRefused);
  EXPECT_EQ(err_.str(), "nurseryctl: There is no room \"nope\".\n");
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(run({"runs", "--routine", "nope"}), kCtlRefused);
  EXPECT_EQ(err_.str(), "nurseryctl: There is no routine \"nope\".\n");
}

TEST_F(CtlAgainstHub, NoServerExits3NamingTheSocketAndHintingAtTheDaemon) {
  auto missing = (dir_ / "elsewhere.sock").string();
  CtlArgs args = *parse_ctl_args(std::vector<std::string>{"--socket", missing, "status"}, nullptr);
  ControlClient client(args.socket, std::chrono::seconds(5));
  EXPECT_EQ(run_ctl(args, client, out_, err_), kCtlNoServer);
  EXPECT_THAT(err_.str(), HasSubstr(missing));
  EXPECT_THAT(err_.str(), HasSubstr("is nurseryd running?"));
  EXPECT_THAT(out_.str(), Not(HasSubstr("Nursery")));
}

}  // namespace
}  // namespace nursery::testing
