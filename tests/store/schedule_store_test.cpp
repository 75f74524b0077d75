// The scheduler's tables: what a parent set survives a restart of the store,
// where the firing stands is kept per room, skipped triggers are listed
// newest first, and the last wake-up is read from the sleep log.

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "daemon/schedule/schedule.hpp"
#include "daemon/store/store.hpp"
#include "store_test_support.hpp"

namespace nursery {
namespace {

using nlohmann::json;

std::vector<schedule::Schedule> two_schedules() {
  auto list = schedule::schedule_list_from_json(json::array(
      {{{"id", "weeknights"}, {"routine", "bedtime"}, {"days", {"mon", "fri"}}, {"at", "19:30"}},
       {{"id", "dusk"},
        {"routine", "bedtime"},
        {"days", {"sat"}},
        {"sun", "sunset"},
        {"offset", "-30m"},
        {"not_before", "18:30"},
        {"grace", "30m"},
        {"enabled", false}}}));
  EXPECT_TRUE(list);
  return *list;
}

class ScheduleStoreTest : public StoreDirTest {};

TEST_F(ScheduleStoreTest, ARoomWithNoListIsNotARoomWithAnEmptyOne) {
  auto store = std::move(*SqliteStore::open(db_file()));
  EXPECT_FALSE(store->schedules("nursery")->has_value());
  ASSERT_TRUE(store->set_schedules("nursery", {}));
  auto stored = store->schedules("nursery");
  ASSERT_TRUE(stored && stored->has_value());
  EXPECT_TRUE((*stored)->empty());
}

TEST_F(ScheduleStoreTest, SchedulesMarksAndSkipsSurviveReopeningTheFile) {
  {
    auto store = std::move(*SqliteStore::open(db_file()));
    ASSERT_TRUE(store->set_schedules("nursery", two_schedules()));
    ASSERT_TRUE(store->save_scheduler_mark("nursery", at_ms(kEvening),
                                           {{"weeknights", at_ms(kEvening - 60000)}}));
    ASSERT_TRUE(store->save_scheduler_mark("nursery", at_ms(kEvening + 1000), {}));
    ASSERT_TRUE(store->add_schedule_skip(
        {at_ms(kEvening), "nursery", "dusk", "bedtime", "bedtime was running"}));
    ASSERT_TRUE(store->add_schedule_skip({at_ms(kEvening + 5), "nursery", "weeknights", "bedtime",
                                          "missed by 3h (beyond its grace of 15m)"}));
    ASSERT_TRUE(store->add_schedule_skip({at_ms(kEvening), "attic", "x", "bedtime", "elsewhere"}));
  }
  auto store = std::move(*SqliteStore::open(db_file()));
  EXPECT_EQ(**store->schedules("nursery"), two_schedules());
  auto mark = store->scheduler_mark("nursery");
  ASSERT_TRUE(mark);
  EXPECT_EQ(mark->last_checked, at_ms(kEvening + 1000));
  ASSERT_EQ(mark->last_fired.size(), 1u);
  EXPECT_EQ(mark->last_fired.at("weeknights"), at_ms(kEvening - 60000));
  EXPECT_FALSE(store->scheduler_mark("attic")->last_checked);
  auto skips = store->schedule_skips("nursery", 10);
  ASSERT_TRUE(skips);
  ASSERT_EQ(skips->size(), 2u);
  EXPECT_EQ((*skips)[0].schedule, "weeknights");
  EXPECT_EQ((*skips)[1].reason, "bedtime was running");
}

TEST_F(ScheduleStoreTest, TheLastWakeUpIsTheLatestAwakeEntryOfTheRoomsSleepLog) {
  auto store = std::move(*SqliteStore::open(db_file()));
  EXPECT_FALSE(store->last_wake_time("nursery")->has_value()) << "no sleep log yet";
  {
    // The sleep log's data model (room, kind, at in ms, note), as an admin
    // with the sqlite3 shell would see it.
    SQLite::Database db(db_file().string(), SQLite::OPEN_READWRITE);
    db.exec(
        "CREATE TABLE IF NOT EXISTS sleep_log (id INTEGER PRIMARY KEY, room TEXT NOT NULL, "
        "kind TEXT NOT NULL, at INTEGER NOT NULL, note TEXT NOT NULL DEFAULT '')");
    db.exec(fmt::format(
        "INSERT INTO sleep_log (room, kind, at) VALUES "
        "('nursery', 'awake', {}), ('nursery', 'awake', {}), "
        "('nursery', 'asleep', {}), ('nursery', 'waking', {}), "
        "('attic', 'awake', {})",
        kEvening - 7200000, kEvening - 3600000, kEvening, kEvening + 1000, kEvening + 2000));
  }
  auto wake = store->last_wake_time("nursery");
  ASSERT_TRUE(wake && wake->has_value());
  EXPECT_EQ(**wake, at_ms(kEvening - 3600000));
}

}  // namespace
}  // namespace nursery
