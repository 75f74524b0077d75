// The sleep log on the real nurseryd: entries posted come back (JSON and
// CSV), every run is in the log with its outcome, a known week gives the
// summary's numbers worked out by hand below, and bad input is a 4xx that
// stores nothing. nurseryctl log and summary on top.

#include <date/date.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "daemon/store/store.hpp"
#include "daemon_process.hpp"

namespace nursery::it {
namespace {

using nlohmann::json;
using std::chrono::minutes;

constexpr const char* kConfig = R"toml(
[hub]
name = "Log hub"
time_zone = "UTC"

[child]
birth_date = {}

[[rooms]]
id = "nursery"
default_routine = "bedtime"

[[devices]]
id = "night-light"
room = "nursery"
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
  at = "45m"
  role = "light"
  on = false
)toml";

// Midnight UTC of today, by the machine's clock (the daemon's, too).
date::sys_days today() { return date::floor<date::days>(std::chrono::system_clock::now()); }

TimePoint at(date::sys_days day, minutes after_midnight) {
  return std::chrono::time_point_cast<Duration>(date::sys_time<minutes>(day) + after_midnight);
}

std::string iso(TimePoint t) { return format_utc(t); }

class SleepLog : public ::testing::Test {
 protected:
  void SetUp() override {
    // 200 days old the day before yesterday and yesterday: 6 completed
    // months, whose wake window is 2h30m.
    const date::year_month_day birth{today() - date::days{201}};
    home_.write_config(fmt::format(kConfig, date::format("%F", birth)));
  }

  void start() { ASSERT_TRUE(daemon_.start_and_wait()); }

  ControlResponse post(json body) { return api(daemon_, "POST", "/api/v1/sleep-log", body); }

  json log(std::string_view query = "") {
    auto r = api(daemon_, "GET", fmt::format("/api/v1/sleep-log{}", query));
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body;
  }

  ProgramResult ctl(std::vector<std::string> args) {
    std::vector<std::string> argv{nurseryctl_path().string(), "--socket", home_.socket().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, home_.dir());
  }

  TestHome home_;
  DaemonProcess daemon_{home_};
};

TEST_F(SleepLog, APostedEntryIsStoredAndReadBackWithItsNoteAndLocalTime) {
  start();
  const TimePoint when = at(today(), minutes(0)) - std::chrono::hours(4);  // 20:00 yesterday
  auto r = post({{"kind", "asleep"}, {"at", iso(when)}, {"note", "after a feed, \"quick\""}});
  ASSERT_EQ(r.status, 201) << r.body.dump();
  EXPECT_EQ(r.body["kind"], "asleep");
  EXPECT_EQ(r.body["room"], "nursery");
  EXPECT_EQ(r.body["at"], iso(when));
  EXPECT_EQ(r.body["local"], date::format("%FT%T+00:00", date::floor<std::chrono::seconds>(when)));
  EXPECT_EQ(r.body["note"], "after a feed, \"quick\"");
  EXPECT_EQ(r.body["source"], "control");
  EXPECT_GT(r.body["id"].get<int>(), 0);

  // Without "at" it is now.
  auto now = post({{"kind", "waking"}});
  ASSERT_EQ(now.status, 201) << now.body.dump();
  const auto logged = parse_utc(now.body["at"].get<std::string>());
  ASSERT_TRUE(logged);
  EXPECT_LT(std::chrono::abs(*logged - std::chrono::duration_cast<Duration>(
                                           std::chrono::system_clock::now().time_since_epoch())),
            std::chrono::seconds(30));

  const json body = log();
  ASSERT_EQ(body["entries"].size(), 2u) << body.dump();
  EXPECT_EQ(body["entries"][0], r.body);
  EXPECT_EQ(body["entries"][1], now.body);
}

TEST_F(SleepLog, EveryRunIsInTheLogWithItsOutcome) {
  start();
  ASSERT_EQ(routine_request(daemon_, "start").status, 200);
  ASSERT_EQ(routine_request(daemon_, "stop").status, 200);
  ASSERT_EQ(routine_request(daemon_, "start").status, 200);
  const json body = log();
  ASSERT_EQ(body["runs"].size(), 2u) << body.dump();
  EXPECT_EQ(body["runs"][0]["routine"], "bedtime");
  EXPECT_EQ(body["runs"][0]["outcome"], "stopped");
  EXPECT_EQ(body["runs"][1]["outcome"], nullptr);  // still running
  // A bedtime run makes a night of its own, even before anything is logged.
  ASSERT_EQ(body["nights"].size(), 1u) << body.dump();
  EXPECT_EQ(body["nights"][0]["bedtime"], body["runs"][0]["started_at"]);
}

TEST_F(SleepLog, CsvHasAHeaderOneRowPerEntryAndQuotesNotes) {
  start();
  const TimePoint t1 = at(today(), minutes(0)) - std::chrono::hours(5);
  const TimePoint t2 = t1 + std::chrono::hours(2);
  ASSERT_EQ(post({{"kind", "asleep"}, {"at", iso(t1)}, {"note", "fed, then \"shh\""}}).status, 201);
  ASSERT_EQ(post({{"kind", "waking"}, {"at", iso(t2)}, {"note", "=1+1"}}).status, 201);

  auto r = api(daemon_, "GET",
               fmt::format("/api/v1/sleep-log?format=csv&from={}&to={}", iso(t1),
                           iso(t2 + std::chrono::minutes(1))));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.headers["content-type"], "text/csv; charset=utf-8");
  const std::string local1 = date::format("%FT%T+00:00", date::floor<std::chrono::seconds>(t1));
  const std::string local2 = date::format("%FT%T+00:00", date::floor<std::chrono::seconds>(t2));
  EXPECT_EQ(r.text, "at,local,room,record,kind,routine,outcome,ended_at,note,source\r\n" + iso(t1) +
                        "," + local1 +
                        ",nursery,entry,asleep,,,,\"fed, then \"\"shh\"\"\",control\r\n" + iso(t2) +
                        "," + local2 + ",nursery,entry,waking,,,,'=1+1,control\r\n");
  // The range is half-open: an entry at `to` is not in it.
  auto before = api(daemon_, "GET",
                    fmt::format("/api/v1/sleep-log?format=csv&from={}&to={}", iso(t1), iso(t2)));
  EXPECT_EQ(std::count(before.text.begin(), before.text.end(), '\n'), 2) << before.text;
}

// A week of nights, the day before yesterday the last (so that every time is
// in the past whenever the test runs). Bedtime runs are written into the
// store before the daemon starts, as earlier evenings would have left them.
//
//  night  bedtime  asleep (to sleep)  wakings                       awake   length
//   0     19:00    19:20 (20)         1 waking                      06:30   670
//   1     19:10    19:25 (15)         0                             06:30   665
//   2     18:50    19:15 (25)         2 wakings                     06:30   675
//   3     19:20    19:30 (10)         awake 01:00 + asleep 01:20: 1 06:30   660
//   4     19:00    19:30 (30)         0                             06:30   660
//   5     18:40    19:00 (20)         1 waking                      06:30   690
//   6     19:00    19:20 (20)         0                             07:00   700
//
// Bedtimes are 19:00 + (0, 10, -10, 20, 0, -20, 0) min: mean 19:00, population
// standard deviation sqrt((0+100+100+400+0+400+0)/7) = sqrt(142.857) = 11.95.
// Time to sleep: 140/7 = 20. Wakings 5/7 = 0.71. Length 4720/7 = 674.29.
// Next sleep: the last wake-up (07:00 the day before yesterday... the night
// 6 morning, yesterday 07:00) plus 2h30m (6 months old).
TEST_F(SleepLog, TheSummaryOfAKnownWeek) {
  const int offsets[] = {0, 10, -10, 20, 0, -20, 0};
  const int to_sleep[] = {20, 15, 25, 10, 30, 20, 20};
  const date::sys_days first = today() - date::days{8};
  {
    std::filesystem::create_directories(home_.state_dir());
    auto store = SqliteStore::open(home_.database());
    ASSERT_TRUE(store) << store.error().message;
    for (int i = 0; i < 7; ++i) {
      RunRecord run;
      run.room = "nursery";
      run.routine = "bedtime";
      run.started_at = at(first + date::days{i}, minutes(19 * 60 + offsets[i]));
      auto id = (*store)->begin_run(run);
      ASSERT_TRUE(id);
      ASSERT_TRUE((*store)->end_run(*id, run.started_at + minutes(45), Outcome::Completed));
    }
  }
  start();
  auto entry = [&](std::string kind, date::sys_days day, int hh, int mm) {
    auto r = post({{"kind", kind}, {"at", iso(at(day, minutes(hh * 60 + mm)))}});
    ASSERT_EQ(r.status, 201) << r.body.dump();
  };
  for (int i = 0; i < 7; ++i) {
    const date::sys_days evening = first + date::days{i};
    const date::sys_days morning = evening + date::days{1};
    const int bedtime = 19 * 60 + offsets[i];
    entry("asleep", evening, (bedtime + to_sleep[i]) / 60, (bedtime + to_sleep[i]) % 60);
    if (i == 0 || i == 5) entry("waking", morning, 2, 0);
    if (i == 2) {
      entry("waking", morning, 1, 0);
      entry("waking", morning, 3, 30);
    }
    if (i == 3) {
      entry("awake", morning, 1, 0);
      entry("asleep", morning, 1, 20);
    }
    entry("awake", morning, i == 6 ? 7 : 6, i == 6 ? 0 : 30);
  }

  auto r = api(daemon_, "GET", "/api/v1/sleep-log/summary?days=14");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const json& s = r.body;
  EXPECT_EQ(s["room"], "nursery");
  EXPECT_EQ(s["days"], 14);
  EXPECT_EQ(s["nights"], 7) << s.dump();
  EXPECT_EQ(s["mean_bedtime"], "19:00");
  EXPECT_DOUBLE_EQ(s["bedtime_sd_minutes"].get<double>(), 12.0);  // 11.95 to a tenth
  EXPECT_DOUBLE_EQ(s["mean_time_to_sleep_minutes"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(s["wakings_per_night"].get<double>(), 0.71);
  EXPECT_DOUBLE_EQ(s["mean_night_length_minutes"].get<double>(), 674.3);
  const TimePoint last_wake = at(first + date::days{7}, minutes(7 * 60));
  EXPECT_EQ(s["next_sleep"]["last_wake_up"], iso(last_wake));
  EXPECT_EQ(s["next_sleep"]["wake_window"], "2h30m");
  EXPECT_EQ(s["next_sleep"]["at"], iso(last_wake + minutes(150)));
  EXPECT_EQ(s["next_sleep"]["reason"], "wake window 2h30m after 07:00");
  ASSERT_EQ(s["per_night"].size(), 7u);
  const json& n3 = s["per_night"][3];
  EXPECT_EQ(n3["wakings"], 1);
  EXPECT_EQ(n3["time_to_sleep_minutes"], 10.0);
  EXPECT_EQ(n3["night_length_minutes"], 660.0);

  // Three days back hold the nights whose bedtime is at most three days
  // old: the last one or two, by the time of day the test runs.
  const auto before = std::chrono::system_clock::now();
  auto short_span = api(daemon_, "GET", "/api/v1/sleep-log/summary?days=3");
  ASSERT_EQ(short_span.status, 200);
  const auto since = std::chrono::time_point_cast<Duration>(before) - std::chrono::days(3);
  int expected = 0;
  for (int i = 0; i < 7; ++i)
    if (at(first + date::days{i}, minutes(19 * 60 + offsets[i])) >= since) ++expected;
  EXPECT_EQ(short_span.body["nights"], expected) << short_span.body.dump();
  if (expected < 2) {  // one night has no spread
    EXPECT_EQ(short_span.body["bedtime_sd_minutes"], nullptr);
  }

  auto text = ctl({"summary", "--days", "14"});
  EXPECT_EQ(text.code(), 0) << text.describe();
  EXPECT_NE(text.out.find("7 night(s) in the last 14 days"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("within ±12 min"), std::string::npos) << text.out;
}

TEST_F(SleepLog, BadInputIsA4xxAndStoresNothing) {
  start();
  const std::string past = iso(at(today(), minutes(0)) - std::chrono::hours(3));
  const std::string far_ahead =
      iso(std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()) +
          std::chrono::hours(2));
  const std::vector<std::pair<json, std::string>> bodies = {
      {{{"kind", "napping"}}, "invalid_value"},
      {{{"kind", 3}}, "invalid_value"},
      {json::object(), "invalid_request"},
      {json::array(), "invalid_request"},
      {{{"kind", "asleep"}, {"at", "25:61"}}, "invalid_value"},
      {{{"kind", "asleep"}, {"at", "2026-12-01T19:45:00"}}, "invalid_value"},  // no zone
      {{{"kind", "asleep"}, {"at", far_ahead}}, "invalid_value"},
      {{{"kind", "asleep"}, {"at", past}, {"note", std::string(501, 'a')}}, "invalid_value"},
      {{{"kind", "asleep"}, {"at", past}, {"note", "two\nlines"}}, "invalid_value"},
      {{{"kind", "asleep"}, {"at", past}, {"note", 5}}, "invalid_value"},
      {{{"kind", "asleep"}, {"room", "attic"}}, "unknown_room"},
      {{{"kind", "asleep"}, {"colour", "red"}}, "invalid_request"},
  };
  for (const auto& [body, code] : bodies) {
    auto r = post(body);
    EXPECT_GE(r.status, 400) << body.dump();
    EXPECT_LT(r.status, 500) << body.dump();
    EXPECT_EQ(r.body["error"]["code"], code) << body.dump() << " -> " << r.body.dump();
  }
  EXPECT_EQ(api_raw(daemon_, "POST", "/api/v1/sleep-log", "{\"kind\":").status, 400);
  for (const char* query :
       {"/api/v1/sleep-log/summary?days=0", "/api/v1/sleep-log/summary?days=366",
        "/api/v1/sleep-log/summary?days=x", "/api/v1/sleep-log/summary?nights=3",
        "/api/v1/sleep-log/summary?room=attic", "/api/v1/sleep-log?from=yesterday",
        "/api/v1/sleep-log?format=xml", "/api/v1/sleep-log?room=attic",
        "/api/v1/sleep-log?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z",
        "/api/v1/sleep-log?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"}) {
    auto r = api(daemon_, "GET", query);
    EXPECT_GE(r.status, 400) << query;
    EXPECT_LT(r.status, 500) << query;
    EXPECT_TRUE(r.body["error"].is_object()) << query;
  }
  EXPECT_EQ(api(daemon_, "DELETE", "/api/v1/sleep-log").status, 405);
  const json body = log();
  EXPECT_TRUE(body["entries"].empty()) << body.dump();
}

TEST_F(SleepLog, NurseryctlLogsAnEntryAndListsTheLog) {
  start();
  auto added = ctl({"log", "awake", "--at", "00:00", "--note", "sang"});
  ASSERT_EQ(added.code(), 0) << added.describe();
  EXPECT_NE(added.out.find("Logged awake at"), std::string::npos) << added.out;
  // 00:00 today has passed whenever this runs: it is today's, not tomorrow's.
  const json body = log();
  ASSERT_EQ(body["entries"].size(), 1u);
  EXPECT_EQ(body["entries"][0]["at"], iso(at(today(), minutes(0))));
  EXPECT_EQ(body["entries"][0]["note"], "sang");

  auto listed = ctl({"log"});
  EXPECT_EQ(listed.code(), 0) << listed.describe();
  EXPECT_NE(listed.out.find("awake"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("sang"), std::string::npos) << listed.out;

  EXPECT_EQ(ctl({"log", "napping"}).code(), 2);
  EXPECT_EQ(ctl({"log", "awake", "--at", "7pm"}).code(), 2);
  EXPECT_EQ(ctl({"summary", "--days", "0"}).code(), 1);  // the server refuses
  EXPECT_EQ(log()["entries"].size(), 1u);
}

}  // namespace
}  // namespace nursery::it
