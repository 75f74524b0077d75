// The scheduler on a whole hub in virtual time: what a parent would see in
// the runs and the skipped triggers when schedules meet DST changes, clock
// jumps, outages, a routine already running, polar days and wake windows.

#include "daemon/scheduler/scheduler.hpp"

#include <gtest/gtest.h>

#include "daemon/schedule/civil_time.hpp"
#include "hub_fixture.hpp"

namespace nursery::testing {
namespace {

using nlohmann::json;

TimePoint utc(std::string_view iso) {
  auto t = schedule::parse_instant(iso);
  EXPECT_TRUE(t) << "not an instant: " << iso;
  return t.value_or(TimePoint{});
}

std::vector<schedule::Schedule> schedules(const json& list) {
  auto parsed = schedule::schedule_list_from_json(list);
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
  return parsed ? *parsed : std::vector<schedule::Schedule>{};
}

const json kEveryDay = json::array({"mon", "tue", "wed", "thu", "fri", "sat", "sun"});

// The SQLite store, with the sleep log's last wake-up given by the test.
class WakeStore final : public ScheduleStore {
 public:
  explicit WakeStore(ScheduleStore& inner) : inner_(inner) {}
  std::optional<TimePoint> wake;
  Expected<std::optional<std::vector<schedule::Schedule>>> schedules(
      std::string_view room) override {
    return inner_.schedules(room);
  }
  Status set_schedules(std::string_view room, const std::vector<schedule::Schedule>& s) override {
    return inner_.set_schedules(room, s);
  }
  Expected<SchedulerMark> scheduler_mark(std::string_view room) override {
    return inner_.scheduler_mark(room);
  }
  Status save_scheduler_mark(std::string_view room, TimePoint checked,
                             const std::map<std::string, TimePoint, std::less<>>& f) override {
    return inner_.save_scheduler_mark(room, checked, f);
  }
  Status add_schedule_skip(const ScheduleSkip& skip) override {
    return inner_.add_schedule_skip(skip);
  }
  Expected<std::vector<ScheduleSkip>> schedule_skips(std::string_view room,
                                                     std::size_t limit) override {
    return inner_.schedule_skips(room, limit);
  }
  Expected<std::optional<TimePoint>> last_wake_time(std::string_view) override { return wake; }

 private:
  ScheduleStore& inner_;
};

class SchedulerTest : public HubFixture {
 protected:
  // The example config in `zone`, at `latitude`/`longitude`.
  std::string config_in(std::string_view zone, double latitude = 52.52, double longitude = 13.4) {
    std::string text = with(example_config_text(), "time_zone = \"Europe/London\"",
                            fmt::format("time_zone = \"{}\"", zone));
    text = with(text, "latitude = 51.5", fmt::format("latitude = {}", latitude));
    return with(text, "longitude = -0.13", fmt::format("longitude = {}", longitude));
  }

  // The hub and its scheduler, as nurseryd wires them; a restart when they run.
  void start_at(TimePoint t, const std::string& text) {
    scheduler_.reset();
    clock_.advance_to(t);
    start(text);
    scheduler_ = std::make_unique<Scheduler>(
        clock_, *hub_, wake_store_, Logger(sink_, "scheduler"),
        [this](const std::string& room, std::optional<NextTrigger> next) {
          hub_->set_next_trigger(room, std::move(next));
        });
    scheduler_->start(hub_->config());
    settle();
  }
  void set(const json& list) {
    auto r = scheduler_->set_schedules("nursery", schedules(list));
    ASSERT_TRUE(r) << r.error().message;
    settle();
  }
  // The start times of every stored run, oldest first.
  std::vector<TimePoint> starts() {
    std::vector<TimePoint> out;
    for (const auto& r : runs()) out.insert(out.begin(), r.started_at);
    return out;
  }
  std::vector<ScheduleSkip> skips() { return *store_->schedule_skips("nursery", 100); }

  WakeStore wake_store_{*store_};
  std::unique_ptr<Scheduler> scheduler_;
};

// ---- civil time: DST changes, both of them, in three zones -------------------

struct DstCase {
  std::string name;
  std::string zone;
  std::string at;  // the schedule's wall time
  // A UTC instant such that the next 48 hours hold the trigger of the day
  // before the change and that of the day of the change.
  std::string day_before;
  std::string expected;  // the one instant it fires on the day of the change
};

class DstTest : public SchedulerTest, public ::testing::WithParamInterface<DstCase> {};

TEST_P(DstTest, FiresOnceOnTheDayOfTheChangeAtTheInstantTheDstPolicySays) {
  const DstCase& c = GetParam();
  start_at(utc(c.day_before), config_in(c.zone));
  set(json::array(
      {{{"id", "nightly"}, {"routine", "bedtime"}, {"days", kEveryDay}, {"at", c.at}}}));
  clock_.advance(48h);
  const auto fired = starts();
  ASSERT_EQ(fired.size(), 2u) << "one run the day before, one on the day of the change";
  EXPECT_EQ(schedule::format_utc(fired[1]), c.expected);
  EXPECT_TRUE(skips().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Zones, DstTest,
    ::testing::Values(
        // Europe/Berlin: 2027-03-28 02:00 -> 03:00; 2027-10-31 03:00 -> 02:00.
        DstCase{"BerlinInTheGap", "Europe/Berlin", "02:30", "2027-03-26T12:00:00Z",
                "2027-03-28T01:00:00Z"},
        DstCase{"BerlinBeforeTheGap", "Europe/Berlin", "01:30", "2027-03-26T12:00:00Z",
                "2027-03-28T00:30:00Z"},
        DstCase{"BerlinAfterTheGap", "Europe/Berlin", "03:30", "2027-03-26T12:00:00Z",
                "2027-03-28T01:30:00Z"},
        DstCase{"BerlinInTheOverlap", "Europe/Berlin", "02:30", "2027-10-29T12:00:00Z",
                "2027-10-31T00:30:00Z"},
        DstCase{"BerlinBeforeTheOverlap", "Europe/Berlin", "01:30", "2027-10-29T12:00:00Z",
                "2027-10-30T23:30:00Z"},
        DstCase{"BerlinAfterTheOverlap", "Europe/Berlin", "03:30", "2027-10-29T12:00:00Z",
                "2027-10-31T02:30:00Z"},
        // America/New_York: 2027-03-14 02:00 -> 03:00; 2027-11-07 02:00 -> 01:00.
        DstCase{"NewYorkInTheGap", "America/New_York", "02:30", "2027-03-12T12:00:00Z",
                "2027-03-14T07:00:00Z"},
        DstCase{"NewYorkAfterTheGap", "America/New_York", "19:30", "2027-03-13T12:00:00Z",
                "2027-03-14T23:30:00Z"},
        DstCase{"NewYorkInTheOverlap", "America/New_York", "01:30", "2027-11-05T12:00:00Z",
                "2027-11-07T05:30:00Z"},
        DstCase{"NewYorkAfterTheOverlap", "America/New_York", "19:30", "2027-11-06T12:00:00Z",
                "2027-11-08T00:30:00Z"},
        // Australia/Sydney: 2027-10-03 02:00 -> 03:00; 2027-04-04 03:00 -> 02:00.
        DstCase{"SydneyInTheGap", "Australia/Sydney", "02:30", "2027-10-01T00:00:00Z",
                "2027-10-02T16:00:00Z"},
        DstCase{"SydneyBeforeTheGap", "Australia/Sydney", "01:30", "2027-10-01T00:00:00Z",
                "2027-10-02T15:30:00Z"},
        DstCase{"SydneyInTheOverlap", "Australia/Sydney", "02:30", "2027-04-02T00:00:00Z",
                "2027-04-03T15:30:00Z"},
        DstCase{"SydneyAfterTheOverlap", "Australia/Sydney", "19:30", "2027-04-03T00:00:00Z",
                "2027-04-04T09:30:00Z"}),
    [](const ::testing::TestParamInfo<DstCase>& p) { return p.param.name; });

// ---- clock jumps and outages ---------------------------------------------------

// 19:30 in Berlin on Thursday 2027-01-14 is 18:30 UTC.
const json kBedtime1930 = json::array(
    {{{"id", "weeknights"}, {"routine", "bedtime"}, {"days", kEveryDay}, {"at", "19:30"}}});

TEST_F(SchedulerTest, AClockThatJumpsForwardPastATriggerWithinItsGraceFiresItThen) {
  start_at(utc("2027-01-14T18:20:00Z"), config_in("Europe/Berlin"));
  set(kBedtime1930);
  clock_.jump(20min);  // 19:40: ten minutes late, inside the 15 minutes of grace
  settle();
  ASSERT_EQ(starts().size(), 1u);
  EXPECT_EQ(starts()[0], utc("2027-01-14T18:40:00Z"));
}

TEST_F(SchedulerTest, AClockThatJumpsForwardByHoursDoesNotFireTheMissedTriggerButStoresTheSkip) {
  start_at(utc("2027-01-14T16:00:00Z"), config_in("Europe/Berlin"));
  set(kBedtime1930);
  clock_.jump(4h);  // 21:00: an hour and a half late
  clock_.advance(1h);
  EXPECT_TRUE(starts().empty());
  ASSERT_EQ(skips().size(), 1u);
  EXPECT_EQ(skips()[0].at, utc("2027-01-14T18:30:00Z"));
  EXPECT_NE(skips()[0].reason.find("missed by 1h30m"), std::string::npos) << skips()[0].reason;
  // The next evening is planned on the corrected clock.
  clock_.advance(24h);
  ASSERT_EQ(starts().size(), 1u);
  EXPECT_EQ(starts()[0], utc("2027-01-15T18:30:00Z"));
}

TEST_F(SchedulerTest, AClockThatJumpsBackByHoursDoesNotFireATriggerTwice) {
  start_at(utc("2027-01-14T18:00:00Z"), config_in("Europe/Berlin"));
  set(kBedtime1930);
  clock_.advance(1h);  // fired at 19:30
  ASSERT_EQ(starts().size(), 1u);
  clock_.jump(-3h);  // 17:00 again
  clock_.advance(5h);
  EXPECT_EQ(starts().size(), 1u) << "19:30 came round again on the wall clock";
  clock_.advance(24h);
  ASSERT_EQ(starts().size(), 2u);
  EXPECT_EQ(starts()[1], utc("2027-01-15T18:30:00Z"));
}

TEST_F(SchedulerTest, AnOutageSpanningATriggerFiresItAtRestartOnlyWithinItsGrace) {
  start_at(utc("2027-01-14T18:00:00Z"), config_in("Europe/Berlin"));
  set(kBedtime1930);
  scheduler_.reset();
  hub_.reset();  // the hub is down at 19:30
  start_at(utc("2027-01-14T18:40:00Z"), config_in("Europe/Berlin"));
  ASSERT_EQ(starts().size(), 1u) << "ten minutes late is inside the grace";
  EXPECT_EQ(starts()[0], utc("2027-01-14T18:40:00Z"));
}

TEST_F(SchedulerTest, AnOutageBeyondTheGraceDoesNotFireHoursLateAndStoresTheSkip) {
  start_at(utc("2027-01-14T18:00:00Z"), config_in("Europe/Berlin"));
  set(json::array({{{"id", "weeknights"},
                    {"routine", "bedtime"},
                    {"days", kEveryDay},
                    {"at", "19:30"},
                    {"grace", "30m"}}}));
  scheduler_.reset();
  hub_.reset();
  start_at(utc("2027-01-14T22:00:00Z"), config_in("Europe/Berlin"));
  EXPECT_TRUE(starts().empty());
  ASSERT_EQ(skips().size(), 1u);
  EXPECT_NE(skips()[0].reason.find("beyond its grace of 30m"), std::string::npos)
      << skips()[0].reason;
}

// ---- a routine already running ------------------------------------------------

TEST_F(SchedulerTest, ATriggerWhileARoutineRunsDoesNotInterruptItAndTheSkipIsStored) {
  start_at(utc("2027-01-14T18:20:00Z"), config_in("Europe/Berlin"));
  set(kBedtime1930);
  ASSERT_TRUE(act(RoutineAction::Start, "bedtime"));  // started by hand at 19:20
  const auto started = routine().started_at;
  clock_.advance(15min);
  EXPECT_EQ(routine().state, RoutineState::Running);
  EXPECT_EQ(routine().started_at, started) << "the run was not restarted";
  EXPECT_EQ(runs().size(), 1u);
  ASSERT_EQ(skips().size(), 1u);
  EXPECT_EQ(skips()[0].schedule, "weeknights");
  EXPECT_EQ(skips()[0].reason, "bedtime was running");
  EXPECT_EQ(skips()[0].at, utc("2027-01-14T18:30:00Z"));
}

TEST_F(SchedulerTest, AScheduledStartIsRecordedWithTheScheduleAsItsSource) {
  start_at(utc("2027-01-14T18:20:00Z"), config_in("Europe/Berlin"));
  set(kBedtime1930);
  clock_.advance(15min);
  auto started = events("routine_started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].source, "schedule");
}

// ---- polar day and night ------------------------------------------------------

// Tromsø, 69.65 N: no sunset around midsummer, no sunrise around midwinter.
TEST_F(SchedulerTest, UnderTheMidnightSunASunsetTriggerFallsBackToItsNotAfterBound) {
  start_at(utc("2027-06-20T12:00:00Z"), config_in("Europe/Oslo", 69.65, 18.96));
  set(json::array({{{"id", "dusk"},
                    {"routine", "bedtime"},
                    {"days", kEveryDay},
                    {"sun", "sunset"},
                    {"offset", "-30m"},
                    {"not_after", "20:00"}}}));
  auto plan = scheduler_->next_triggers("nursery", std::nullopt, 1);
  ASSERT_TRUE(plan && plan->triggers.size() == 1u);
  EXPECT_EQ(plan->triggers[0].local, "2027-06-20T20:00:00+02:00");
  EXPECT_NE(plan->triggers[0].reason.find("not_after bound: no sunset"), std::string::npos)
      << plan->triggers[0].reason;
  clock_.advance(12h);
  ASSERT_EQ(starts().size(), 1u);
  EXPECT_EQ(starts()[0], utc("2027-06-20T18:00:00Z"));
}

TEST_F(SchedulerTest, UnderThePolarNightASunTriggerWithoutBoundsIsSkippedAndSaysWhy) {
  start_at(utc("2027-12-20T06:00:00Z"), config_in("Europe/Oslo", 69.65, 18.96));
  set(json::array(
      {{{"id", "morning"}, {"routine", "sunrise"}, {"days", kEveryDay}, {"sun", "sunrise"}}}));
  auto plan = scheduler_->next_triggers("nursery", std::nullopt, 3);
  ASSERT_TRUE(plan);
  ASSERT_FALSE(plan->skipped.empty());
  EXPECT_NE(plan->skipped[0].reason.find("no sunrise"), std::string::npos)
      << plan->skipped[0].reason;
  clock_.advance(48h);
  EXPECT_TRUE(starts().empty());
  EXPECT_FALSE(hub_->status().rooms[0].next_trigger &&
               hub_->status().rooms[0].next_trigger->at < utc("2027-12-22T06:00:00Z"));
}

// ---- wake windows -------------------------------------------------------------

TEST_F(SchedulerTest, AWeekOfWakeWindowsStartsTheNapAtTheEndOfEachDaysWindow) {
  // Born 2026-09-01: 4 months old in January 2027, a 1h45m wake window.
  start_at(utc("2027-01-11T05:00:00Z"), config_in("Europe/Berlin"));
  set(json::array(
      {{{"id", "nap"}, {"routine", "bedtime"}, {"days", kEveryDay}, {"wake_window", true}}}));
  EXPECT_TRUE(starts().empty()) << "no wake-up logged yet";
  std::vector<TimePoint> expected;
  for (int day = 0; day < 7; ++day) {
    const TimePoint morning = utc("2027-01-11T05:00:00Z") + days(day);
    clock_.advance_to(morning);
    // Woke at 07:05, 07:15, 07:25 ... local: logged through some surface.
    const TimePoint woke = morning + 1h + minutes(5 + 10 * day);
    clock_.advance_to(woke + 2min);
    wake_store_.wake = woke;
    if (day % 2 == 0) scheduler_->replan("nursery");  // odd days: found by the poll
    expected.push_back(woke + 1h + 45min);
    clock_.advance_to(morning + 20h);
  }
  EXPECT_EQ(starts(), expected);
  auto next = hub_->status().rooms[0].next_trigger;
  EXPECT_FALSE(next) << "the last window is over until a new wake-up is logged";
}

// ---- schedules as data --------------------------------------------------------

TEST_F(SchedulerTest, ConfigSchedulesAreImportedOnceAndTheStoredListWinsAfterARestart) {
  const std::string text = with(config_in("Europe/Berlin"), "default_routine = \"bedtime\"\n",
                                "default_routine = \"bedtime\"\n"
                                "[[rooms.schedules]]\n"
                                "id = \"weeknights\"\nroutine = \"bedtime\"\n"
                                "days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\n"
                                "at = \"19:30\"\n");
  start_at(utc("2027-01-14T12:00:00Z"), text);
  auto list = scheduler_->schedules("nursery");
  ASSERT_TRUE(list && list->size() == 1u);
  EXPECT_EQ((*list)[0].id, "weeknights");
  set(json::array());  // a parent removes it
  start_at(utc("2027-01-14T13:00:00Z"), text);
  EXPECT_TRUE(scheduler_->schedules("nursery")->empty()) << "not imported a second time";
  clock_.advance(12h);
  EXPECT_TRUE(starts().empty());
}

TEST_F(SchedulerTest, AListNamingAnUnknownRoutineIsRefusedAndChangesNothing) {
  start_at(utc("2027-01-14T12:00:00Z"), config_in("Europe/Berlin"));
  set(kBedtime1930);
  auto r = scheduler_->set_schedules(
      "nursery",
      schedules(json::array(
          {{{"id", "x"}, {"routine", "no-such-routine"}, {"days", kEveryDay}, {"at", "19:00"}}})));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "unknown_routine");
  EXPECT_EQ(*scheduler_->schedules("nursery"), schedules(kBedtime1930));
  EXPECT_EQ(scheduler_->set_schedules("attic", {}).error().code, "unknown_room");
}

TEST_F(SchedulerTest, TheStatusShowsEachRoomsNextTrigger) {
  start_at(utc("2027-01-14T12:00:00Z"), config_in("Europe/Berlin"));
  EXPECT_FALSE(hub_->status().rooms[0].next_trigger);
  set(kBedtime1930);
  auto next = hub_->status().rooms[0].next_trigger;
  ASSERT_TRUE(next);
  EXPECT_EQ(next->at, utc("2027-01-14T18:30:00Z"));
  EXPECT_EQ(next->local, "2027-01-14T19:30:00+01:00");
  EXPECT_EQ(next->reason, "clock 19:30");
  EXPECT_NE(hub_->summary().find("next bedtime 2027-01-14 19:30"), std::string::npos)
      << hub_->summary();
  clock_.advance(7h);  // past the trigger: the next is tomorrow's
  ASSERT_TRUE(hub_->status().rooms[0].next_trigger);
  EXPECT_EQ(hub_->status().rooms[0].next_trigger->at, utc("2027-01-15T18:30:00Z"));
}

TEST_F(SchedulerTest, AReloadKeepsTheStoredListAndItsNextTrigger) {
  const std::string text = config_in("Europe/Berlin");
  start_at(utc("2027-01-14T12:00:00Z"), text);
  set(kBedtime1930);
  hub_->reload(load(text));
  scheduler_->reload(hub_->config());
  settle();
  EXPECT_EQ(*scheduler_->schedules("nursery"), schedules(kBedtime1930));
  ASSERT_TRUE(hub_->status().rooms[0].next_trigger);
  EXPECT_EQ(hub_->status().rooms[0].next_trigger->at, utc("2027-01-14T18:30:00Z"));
  clock_.advance(7h);
  ASSERT_EQ(starts().size(), 1u);
  EXPECT_EQ(starts()[0], utc("2027-01-14T18:30:00Z"));
}

TEST_F(SchedulerTest, ASunsetTriggerFiresAtSunsetPlusItsOffsetOnTheMinute) {
  start_at(utc("2027-06-21T12:00:00Z"), config_in("Europe/Berlin"));
  set(json::array({{{"id", "dusk"},
                    {"routine", "bedtime"},
                    {"days", kEveryDay},
                    {"sun", "sunset"},
                    {"offset", "-30m"}}}));
  auto sun = scheduler_->sun(date::year{2027} / 6 / 21);
  ASSERT_TRUE(sun && sun->sunset.at);
  clock_.advance(12h);
  ASSERT_EQ(starts().size(), 1u);
  const auto expected = std::chrono::round<std::chrono::minutes>(*sun->sunset.at - 30min);
  EXPECT_EQ(starts()[0], expected);
}

TEST_F(SchedulerTest, AChangedListDoesNotFireATriggerThatIsAlreadyPast) {
  start_at(utc("2027-01-14T18:35:00Z"), config_in("Europe/Berlin"));
  set(kBedtime1930);  // five minutes after 19:30
  clock_.advance(1h);
  EXPECT_TRUE(starts().empty());
}

}  // namespace
}  // namespace nursery::testing
