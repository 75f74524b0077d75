// What the store keeps in order and within bounds, whatever its callers (or
// a clock that went back) hand it: event retention, times in order, the
// latest time stored.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include "daemon/store/store.hpp"
#include "store_test_support.hpp"

namespace nursery {
namespace {

using namespace std::chrono_literals;

using StoreHardeningTest = StoreDirTest;

constexpr std::int64_t kDay = 24 * 3600 * 1000LL;

std::unique_ptr<SqliteStore> open_with(const std::filesystem::path& file, StoreOptions options) {
  auto store = SqliteStore::open(file, options);
  if (!store) ADD_FAILURE() << store.error().message;
  return store ? std::move(*store) : nullptr;
}

RunRecord bedtime(std::int64_t started_ms) {
  RunRecord run;
  run.room = "nursery";
  run.routine = "bedtime";
  run.started_at = at_ms(started_ms);
  return run;
}

std::int64_t count_events(const std::filesystem::path& file) {
  SQLite::Database db(file.string(), SQLite::OPEN_READONLY);
  return db.execAndGet("SELECT count(*) FROM events").getInt64();
}

TEST_F(StoreHardeningTest, KeepsAtMostMaxEventsDroppingTheOldestEveryKthInsert) {
  StoreOptions options;
  options.max_events = 50;
  options.prune_every = 10;
  auto store = open_with(db_file(), options);
  ASSERT_TRUE(store);
  for (int i = 0; i < 200; ++i)
    ASSERT_TRUE(store->add_event({at_ms(kEvening + i), "nursery", "", "step", std::to_string(i), "test"}));
  // Pruned on the 200th insert: exactly the newest 50 are left.
  EXPECT_EQ(count_events(db_file()), 50);
  const auto events = store->recent_events(1000).value();
  ASSERT_EQ(events.size(), 50u);
  EXPECT_EQ(events.front().detail, "199");
  EXPECT_EQ(events.back().detail, "150");
}

TEST_F(StoreHardeningTest, DropsEventsOlderThanTheRetentionAtOpenAndNeverARun) {
  {
    auto store = open_with(db_file(), {});
    ASSERT_TRUE(store);
    RunRecord old_run = bedtime(kEvening - 400 * kDay);
    old_run.id = store->begin_run(old_run).value();
    ASSERT_TRUE(
        store->end_run(old_run.id, at_ms(kEvening - 400 * kDay + 1000), Outcome::Completed));
    ASSERT_TRUE(store->add_event({at_ms(kEvening - 91 * kDay), "nursery", "", "old", "", "test"}));
    ASSERT_TRUE(store->add_event({at_ms(kEvening - 89 * kDay), "nursery", "", "kept", "", "test"}));
    ASSERT_TRUE(store->add_event({at_ms(kEvening), "nursery", "", "newest", "", "test"}));
  }
  auto store = open_with(db_file(), {});  // 90 days by default
  ASSERT_TRUE(store);
  const auto events = store->recent_events(10).value();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, "newest");
  EXPECT_EQ(events[1].kind, "kept");
  EXPECT_EQ(store->recent_runs({.limit = 10}).value().size(), 1u);
}

TEST_F(StoreHardeningTest, MovesAnEndBeforeTheStartUpToTheStart) {
  auto store = open_with(db_file(), {});
  ASSERT_TRUE(store);
  RunRecord run = bedtime(kEvening);
  run.id = store->begin_run(run).value();
  // The clock went back an hour between start and stop.
  ASSERT_TRUE(store->end_run(run.id, at_ms(kEvening - 3'600'000), Outcome::Stopped));
  const auto back = store->recent_runs({.limit = 1}).value().at(0);
  ASSERT_TRUE(back.ended_at);
  EXPECT_EQ(*back.ended_at, back.started_at);
  EXPECT_EQ(back.outcome, Outcome::Stopped);
  EXPECT_TRUE(store->open_runs().value().empty()) << "a stopped run must not come back";
}

TEST_F(StoreHardeningTest, KeepsPausesInOrderWithinTheRun) {
  auto store = open_with(db_file(), {});
  ASSERT_TRUE(store);
  RunRecord run = bedtime(kEvening);
  run.id = store->begin_run(run).value();
  run.pauses = {{at_ms(kEvening - 5'000), at_ms(kEvening + 10'000)},   // starts before the run
                {at_ms(kEvening + 60'000), at_ms(kEvening + 30'000)},  // ends before it began
                {at_ms(kEvening + 20'000), std::nullopt}};             // starts inside the last
  ASSERT_TRUE(store->update_run(run));
  const auto back = store->open_runs().value().at(0);
  ASSERT_EQ(back.pauses.size(), 3u);
  TimePoint floor = back.started_at;
  for (const auto& p : back.pauses) {
    EXPECT_GE(p.from, floor);
    if (p.to) {
      EXPECT_GE(*p.to, p.from);
      floor = *p.to;
    }
  }
  EXPECT_EQ(back.pauses[0].from, at_ms(kEvening));
  EXPECT_EQ(back.pauses[1].to, at_ms(kEvening + 60'000));
  EXPECT_EQ(back.pauses[2].from, at_ms(kEvening + 60'000));
}

TEST_F(StoreHardeningTest, AnEndNeverPrecedesTheLastPauseAndClosesAPauseStillOpen) {
  auto store = open_with(db_file(), {});
  ASSERT_TRUE(store);
  RunRecord run = bedtime(kEvening);
  run.id = store->begin_run(run).value();
  run.pauses = {{at_ms(kEvening + 600'000), std::nullopt}};
  ASSERT_TRUE(store->update_run(run));
  ASSERT_TRUE(store->end_run(run.id, at_ms(kEvening + 300'000), Outcome::Stopped));
  const auto back = store->recent_runs({.limit = 1}).value().at(0);
  EXPECT_EQ(back.ended_at, at_ms(kEvening + 600'000));
  ASSERT_EQ(back.pauses.size(), 1u);
  EXPECT_EQ(back.pauses[0].to, back.ended_at);
}

TEST_F(StoreHardeningTest, ReadsRunsWrittenOutOfOrderBySomeoneElseInOrder) {
  auto store = open_with(db_file(), {});
  ASSERT_TRUE(store);
  {
    SQLite::Database db(db_file().string(), SQLite::OPEN_READWRITE);
    db.exec(
        "INSERT INTO runs (room, routine, started_at, pauses, ended_at, outcome) VALUES "
        "('nursery', 'bedtime', 1717268400000, '[[1717268300000, 1717268200000]]', "
        "1717260000000, 'stopped')");
  }
  const auto run = store->recent_runs({.limit = 1}).value().at(0);
  ASSERT_TRUE(run.ended_at);
  EXPECT_LE(run.started_at, *run.ended_at);
  EXPECT_GE(run.pauses.at(0).from, run.started_at);
  EXPECT_GE(*run.pauses.at(0).to, run.pauses.at(0).from);
}

TEST_F(StoreHardeningTest, TellsTheLatestTimeStoredAnywhere) {
  auto store = open_with(db_file(), {});
  ASSERT_TRUE(store);
  EXPECT_EQ(store->latest_time().value(), std::nullopt);
  RunRecord run = bedtime(kEvening);
  run.id = store->begin_run(run).value();
  EXPECT_EQ(store->latest_time().value(), at_ms(kEvening));
  run.pauses = {{at_ms(kEvening + 5'000), at_ms(kEvening + 9'000)}};
  ASSERT_TRUE(store->update_run(run));
  EXPECT_EQ(store->latest_time().value(), at_ms(kEvening + 9'000));
  ASSERT_TRUE(store->add_event({at_ms(kEvening + 20'000), "nursery", "", "manual", "", "test"}));
  EXPECT_EQ(store->latest_time().value(), at_ms(kEvening + 20'000));
  ASSERT_TRUE(store->end_run(run.id, at_ms(kEvening + 30'000), Outcome::Completed));
  EXPECT_EQ(store->latest_time().value(), at_ms(kEvening + 30'000));
}

TEST_F(StoreHardeningTest, IsHealthyWithItsReserveInPlace) {
  auto store = open_with(db_file(), {});
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->health().degraded()) << store->health().reason;
  SQLite::Database db(db_file().string(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT sum(length(space)) FROM reserve").getInt64(), 64 * 1024);
}

}  // namespace
}  // namespace nursery
