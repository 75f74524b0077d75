// The sleep log in the SQLite store: what a parent logged comes back in
// order, by room and time range, across a restart, and the last wake-up the
// wake-window schedule starts from is the latest "awake" by its time.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include "daemon/store/store.hpp"
#include "store_test_support.hpp"

namespace nursery {
namespace {

using namespace std::chrono_literals;

inline void PrintTo(const SleepEntry& e, std::ostream* os) {
  *os << "entry " << e.id << " " << e.room << " " << sleep_kind_name(e.kind) << " at "
      << format_utc(e.at) << " note \"" << e.note << "\" source " << e.source;
}

SleepEntry entry(std::string room, SleepKind kind, std::int64_t at, std::string note = "") {
  SleepEntry e;
  e.room = std::move(room);
  e.kind = kind;
  e.at = at_ms(at);
  e.note = std::move(note);
  e.source = "control";
  return e;
}

constexpr std::int64_t kMinute = 60'000;

class SleepLogStoreTest : public StoreDirTest {
 protected:
  std::unique_ptr<SqliteStore> open() {
    auto store = SqliteStore::open(db_file());
    if (!store) ADD_FAILURE() << "open failed: " << store.error().message;
    return store ? std::move(*store) : nullptr;
  }
  SleepEntry add(SqliteStore& store, SleepEntry e) {
    auto id = store.add_sleep_entry(e);
    EXPECT_TRUE(id) << id.error().message;
    e.id = id ? *id : 0;
    return e;
  }
};

TEST_F(SleepLogStoreTest, EntriesComeBackOldestFirstWithTheirNoteAndSource) {
  auto store = open();
  ASSERT_TRUE(store);
  // Logged out of order: the parent remembers the waking after the morning.
  const auto asleep = add(*store, entry("nursery", SleepKind::Asleep, kEvening + 20 * kMinute));
  const auto awake = add(*store, entry("nursery", SleepKind::Awake, kEvening + 660 * kMinute));
  const auto waking =
      add(*store, entry("nursery", SleepKind::Waking, kEvening + 300 * kMinute, "fed, \"quick\""));

  auto all = store->sleep_entries({});
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(*all, (std::vector<SleepEntry>{asleep, waking, awake}));
  EXPECT_LT(asleep.id, awake.id);
  EXPECT_LT(awake.id, waking.id);
}

TEST_F(SleepLogStoreTest, ARangeIncludesItsStartAndExcludesItsEnd) {
  auto store = open();
  ASSERT_TRUE(store);
  const auto before = add(*store, entry("nursery", SleepKind::Awake, kEvening - 1));
  const auto first = add(*store, entry("nursery", SleepKind::Asleep, kEvening));
  const auto last = add(*store, entry("nursery", SleepKind::Waking, kEvening + kMinute - 1));
  add(*store, entry("nursery", SleepKind::Awake, kEvening + kMinute));

  auto range = store->sleep_entries({.from = at_ms(kEvening), .to = at_ms(kEvening + kMinute)});
  ASSERT_TRUE(range) << range.error().message;
  EXPECT_EQ(*range, (std::vector<SleepEntry>{first, last}));
  auto earlier = store->sleep_entries({.to = at_ms(kEvening)});
  ASSERT_TRUE(earlier);
  EXPECT_EQ(*earlier, std::vector<SleepEntry>{before});
}

TEST_F(SleepLogStoreTest, ARoomFilterShowsOnlyThatRoomsEntries) {
  auto store = open();
  ASSERT_TRUE(store);
  const auto nursery = add(*store, entry("nursery", SleepKind::Asleep, kEvening));
  const auto twins = add(*store, entry("twins", SleepKind::Asleep, kEvening + kMinute));

  auto one = store->sleep_entries({.room = "twins"});
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, std::vector<SleepEntry>{twins});
  auto both = store->sleep_entries({});
  ASSERT_TRUE(both);
  EXPECT_EQ(*both, (std::vector<SleepEntry>{nursery, twins}));
  auto none = store->sleep_entries({.room = "attic"});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(SleepLogStoreTest, TheLimitKeepsTheOldestEntries) {
  auto store = open();
  ASSERT_TRUE(store);
  const auto a = add(*store, entry("nursery", SleepKind::Asleep, kEvening));
  const auto b = add(*store, entry("nursery", SleepKind::Waking, kEvening + kMinute));
  add(*store, entry("nursery", SleepKind::Awake, kEvening + 2 * kMinute));
  auto two = store->sleep_entries({.limit = 2});
  ASSERT_TRUE(two);
  EXPECT_EQ(*two, (std::vector<SleepEntry>{a, b}));
}

TEST_F(SleepLogStoreTest, TheLastWakeUpIsTheLatestAwakeByItsTimeInThatRoom) {
  auto store = open();
  ASSERT_TRUE(store);
  auto none = store->last_wake_up("nursery");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->has_value());

  const auto morning = add(*store, entry("nursery", SleepKind::Awake, kEvening + 700 * kMinute));
  // Logged later but happened earlier: not the last wake-up.
  add(*store, entry("nursery", SleepKind::Awake, kEvening - 600 * kMinute));
  // Later, but not an "awake", or another room's.
  add(*store, entry("nursery", SleepKind::Waking, kEvening + 800 * kMinute));
  add(*store, entry("nursery", SleepKind::Asleep, kEvening + 810 * kMinute));
  add(*store, entry("twins", SleepKind::Awake, kEvening + 900 * kMinute));

  auto last = store->last_wake_up("nursery");
  ASSERT_TRUE(last) << last.error().message;
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ(**last, morning);
  EXPECT_FALSE(store->last_wake_up("attic")->has_value());
}

TEST_F(SleepLogStoreTest, TheLogSurvivesARestart) {
  SleepEntry kept;
  {
    auto store = open();
    ASSERT_TRUE(store);
    kept = add(*store, entry("nursery", SleepKind::Awake, kEvening, "sang"));
    ASSERT_TRUE(store->checkpoint());
  }
  auto store = open();
  ASSERT_TRUE(store);
  auto all = store->sleep_entries({});
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, std::vector<SleepEntry>{kept});
  EXPECT_EQ(store->last_wake_up("nursery")->value_or(SleepEntry{}), kept);
}

TEST_F(SleepLogStoreTest, AnOlderDatabaseGetsTheLogAndKeepsItsRuns) {
  RunRecord run;
  run.room = "nursery";
  run.routine = "bedtime";
  run.started_at = at_ms(kEvening);
  {
    auto store = open();
    ASSERT_TRUE(store);
    run.id = store->begin_run(run).value();
  }
  {
    // What the nurseryd before the sleep log left: schema 3, without the
    // sleep log's table (4) and the scheduler's (5).
    SQLite::Database db(db_file().string(), SQLite::OPEN_READWRITE);
    db.exec(
        "DROP TABLE sleep_log; DROP TABLE schedules; DROP TABLE schedule_checked; "
        "DROP TABLE schedule_fired; DROP TABLE schedule_skips; PRAGMA user_version = 3;");
  }
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->previous_schema_version(), 3);
  auto runs = store->recent_runs({});
  ASSERT_TRUE(runs);
  EXPECT_EQ(*runs, std::vector<RunRecord>{run});
  add(*store, entry("nursery", SleepKind::Asleep, kEvening + kMinute));
  EXPECT_EQ(store->sleep_entries({})->size(), 1u);
}

TEST_F(SleepLogStoreTest, AKindTheSchemaDoesNotKnowIsRefusedByTheFile) {
  auto store = open();
  ASSERT_TRUE(store);
  SQLite::Database db(db_file().string(), SQLite::OPEN_READWRITE);
  EXPECT_THROW(db.exec("INSERT INTO sleep_log (room, kind, at) VALUES ('nursery', 'napping', 1)"),
               SQLite::Exception);
  EXPECT_TRUE(store->sleep_entries({})->empty());
}

TEST_F(SleepLogStoreTest, AnEntryIsNotPartOfTheLatestTimeTheClockStartsFrom) {
  // A parent may log a time a little ahead (a wrong phone clock): that must
  // not push the hub's clock forward at the next start.
  auto store = open();
  ASSERT_TRUE(store);
  add(*store, entry("nursery", SleepKind::Awake, kEvening + 10 * kMinute));
  auto latest = store->latest_time();
  ASSERT_TRUE(latest);
  EXPECT_FALSE(latest->has_value());
}

}  // namespace
}  // namespace nursery
