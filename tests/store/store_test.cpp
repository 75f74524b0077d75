// The SQLite store: what a restart, the history page and an admin with the
// sqlite3 shell would see. Files are inspected with a separate SQLiteCpp
// connection, as another process would.
#include "daemon/store/store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "store_test_support.hpp"

namespace nursery {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<SqliteStore> open_or_fail(const std::filesystem::path& file) {
  auto store = SqliteStore::open(file);
  if (!store) ADD_FAILURE() << "open failed: " << store.error().message;
  return store ? std::move(*store) : nullptr;
}

RunRecord bedtime(std::int64_t started_ms, std::string room = "nursery") {
  RunRecord run;
  run.room = std::move(room);
  run.routine = "bedtime";
  run.started_at = at_ms(started_ms);
  return run;
}

int user_version_of(const std::filesystem::path& file) {
  SQLite::Database db(file.string(), SQLite::OPEN_READONLY);
  SQLite::Statement st(db, "PRAGMA user_version");
  st.executeStep();
  return st.getColumn(0).getInt();
}

std::string journal_mode_of(const std::filesystem::path& file) {
  SQLite::Database db(file.string(), SQLite::OPEN_READONLY);
  SQLite::Statement st(db, "PRAGMA journal_mode");
  st.executeStep();
  return st.getColumn(0).getString();
}

using SqliteStoreTest = StoreDirTest;

TEST_F(SqliteStoreTest, RoundTripsARunWithItsPausesIncludingAnOpenOneAndSkippedTime) {
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  RunRecord run = bedtime(kEvening);
  run.skipped = 90s;
  run.pauses = {{at_ms(kEvening + 60'000), at_ms(kEvening + 120'500)},
                {at_ms(kEvening + 600'000), std::nullopt}};

  auto id = store->begin_run(run);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_GT(*id, 0);
  run.id = *id;

  auto open = store->open_runs();
  ASSERT_TRUE(open) << open.error().message;
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ(open->front(), run);
  auto recent = store->recent_runs({.limit = 10});
  ASSERT_TRUE(recent) << recent.error().message;
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ(recent->front(), run);
}

TEST_F(SqliteStoreTest, UpdateRunSavesPausesAndSkippedTime) {
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  RunRecord run = bedtime(kEvening);
  run.id = store->begin_run(run).value();

  run.pauses.push_back({at_ms(kEvening + 5'000), std::nullopt});
  ASSERT_TRUE(store->update_run(run));
  run.pauses.back().to = at_ms(kEvening + 65'000);
  run.skipped = 300s;
  ASSERT_TRUE(store->update_run(run));

  auto open = store->open_runs();
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ(open->front(), run);
}

TEST_F(SqliteStoreTest, UpdatingARunThatDoesNotExistIsAnError) {
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  RunRecord run = bedtime(kEvening);
  run.id = 42;
  auto status = store->update_run(run);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, "unknown_run");
  EXPECT_NE(status.error().message.find("42"), std::string::npos);
}

TEST_F(SqliteStoreTest, OpenRunsListsOnlyUnfinishedRunsOldestFirst) {
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  // Inserted out of order, so "oldest first" cannot come from insertion order.
  const auto late = store->begin_run(bedtime(kEvening + 7'200'000, "nursery")).value();
  const auto finished = store->begin_run(bedtime(kEvening - 86'400'000, "nursery")).value();
  const auto early = store->begin_run(bedtime(kEvening, "guest-room")).value();
  ASSERT_TRUE(store->end_run(finished, at_ms(kEvening - 80'000'000), Outcome::Completed));

  auto open = store->open_runs();
  ASSERT_TRUE(open) << open.error().message;
  ASSERT_EQ(open->size(), 2u);
  EXPECT_EQ((*open)[0].id, early);
  EXPECT_EQ((*open)[0].room, "guest-room");
  EXPECT_EQ((*open)[1].id, late);
}

TEST_F(SqliteStoreTest, RecentRunsAreNewestFirstAndLimited) {
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  std::vector<std::int64_t> ids;
  // Nights 0..4, inserted in the order 2, 0, 4, 1, 3.
  for (int night : {2, 0, 4, 1, 3}) {
    auto id = store->begin_run(bedtime(kEvening + night * 86'400'000LL));
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }

  auto recent = store->recent_runs({.limit = 3});
  ASSERT_TRUE(recent) << recent.error().message;
  ASSERT_EQ(recent->size(), 3u);
  EXPECT_EQ((*recent)[0].started_at, at_ms(kEvening + 4 * 86'400'000LL));
  EXPECT_EQ((*recent)[1].started_at, at_ms(kEvening + 3 * 86'400'000LL));
  EXPECT_EQ((*recent)[2].started_at, at_ms(kEvening + 2 * 86'400'000LL));
  EXPECT_EQ((*recent)[0].id, ids[2]);

  auto all = store->recent_runs({.limit = 100});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 5u);
  auto none = store->recent_runs({.limit = 0});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(SqliteStoreTest, EndRunSetsOutcomeAndEndedAtAndTheRunLeavesOpenRuns) {
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  RunRecord run = bedtime(kEvening);
  run.pauses = {{at_ms(kEvening + 1'000), at_ms(kEvening + 2'000)}};
  run.id = store->begin_run(run).value();
  const auto other = store->begin_run(bedtime(kEvening + 10, "guest-room")).value();

  auto status = store->end_run(run.id, at_ms(kEvening + 2'700'000), Outcome::Stopped);
  ASSERT_TRUE(status) << status.error().message;

  auto open = store->open_runs();
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ(open->front().id, other);

  auto recent = store->recent_runs({.limit = 10});
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 2u);
  RunRecord expected = run;
  expected.ended_at = at_ms(kEvening + 2'700'000);
  expected.outcome = Outcome::Stopped;
  EXPECT_EQ((*recent)[1], expected);
}

TEST_F(SqliteStoreTest, EndingARunTwiceIsRefusedAndKeepsTheFirstOutcome) {
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  const auto id = store->begin_run(bedtime(kEvening)).value();
  ASSERT_TRUE(store->end_run(id, at_ms(kEvening + 1'000), Outcome::Interrupted));

  auto again = store->end_run(id, at_ms(kEvening + 2'000), Outcome::Completed);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "unknown_run");

  auto recent = store->recent_runs({.limit = 1});
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ(recent->front().outcome, Outcome::Interrupted);
  EXPECT_EQ(recent->front().ended_at, at_ms(kEvening + 1'000));
}

TEST_F(SqliteStoreTest, EventsRoundTripNewestFirstAndLimited) {
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  const EventRecord started{at_ms(kEvening),   "nursery", "",
                            "routine_started", "bedtime", "control"};
  const EventRecord clamp{at_ms(kEvening + 1'000),
                          "nursery",
                          "speaker",
                          "clamp",
                          R"({"volume":{"asked":0.9,"applied":0.5}})",
                          "routine"};
  const EventRecord manual{at_ms(kEvening + 2'000),
                           "nursery",
                           "lamp",
                           "override",
                           "Someone set the lamp to 80 % by hand; it is left alone until the "
                           "next step.",
                           "device"};
  for (const auto& e : {started, clamp, manual}) {
    auto status = store->add_event(e);
    ASSERT_TRUE(status) << status.error().message;
  }

  auto events = store->recent_events(2);
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_EQ(events->size(), 2u);
  const auto same = [](const EventRecord& a, const EventRecord& b) {
    return a.at == b.at && a.room == b.room && a.device == b.device && a.kind == b.kind &&
           a.detail == b.detail;
  };
  EXPECT_TRUE(same((*events)[0], manual));
  EXPECT_TRUE(same((*events)[1], clamp));
  auto all = store->recent_events(10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_TRUE(same((*all)[2], started));
}

TEST_F(SqliteStoreTest, AReopenedDatabaseFileKeepsItsRunsAndEvents) {
  RunRecord open_run = bedtime(kEvening + 86'400'000);
  open_run.pauses = {{at_ms(kEvening + 86'400'000 + 5'000), std::nullopt}};
  open_run.skipped = 12s;
  {
    auto store = open_or_fail(db_file());
    ASSERT_TRUE(store);
    const auto done = store->begin_run(bedtime(kEvening)).value();
    ASSERT_TRUE(store->end_run(done, at_ms(kEvening + 2'700'000), Outcome::Completed));
    open_run.id = store->begin_run(open_run).value();
    ASSERT_TRUE(store->add_event(
        {at_ms(kEvening), "nursery", "", "routine_started", "bedtime", "control"}));
  }

  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  auto open = store->open_runs();
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ(open->front(), open_run);
  auto recent = store->recent_runs({.limit = 10});
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 2u);
  EXPECT_EQ((*recent)[1].outcome, Outcome::Completed);
  auto events = store->recent_events(10);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().kind, "routine_started");
}

TEST_F(SqliteStoreTest, OpeningANewFileMigratesItToTheLatestSchemaVersion) {
  {
    auto store = open_or_fail(db_file());
    ASSERT_TRUE(store);
    EXPECT_EQ(store->previous_schema_version(), 0);
  }
  EXPECT_GE(SqliteStore::latest_schema_version(), 1);
  EXPECT_EQ(user_version_of(db_file()), SqliteStore::latest_schema_version());
}

TEST_F(SqliteStoreTest, OpeningAnUpToDateFileTwiceDoesNotMigrateAgain) {
  std::int64_t id = 0;
  {
    auto store = open_or_fail(db_file());
    ASSERT_TRUE(store);
    id = store->begin_run(bedtime(kEvening)).value();
  }
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  EXPECT_EQ(store->previous_schema_version(), SqliteStore::latest_schema_version());
  EXPECT_EQ(user_version_of(db_file()), SqliteStore::latest_schema_version());
  auto open = store->open_runs();
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ(open->front().id, id);
}

TEST_F(SqliteStoreTest, RefusesADatabaseWithANewerSchemaVersionAndLeavesItUntouched) {
  const int newer = SqliteStore::latest_schema_version() + 7;
  {
    SQLite::Database db(db_file().string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY, something_new TEXT)");
    db.exec("INSERT INTO runs (something_new) VALUES ('from the future')");
    db.exec("PRAGMA user_version = " + std::to_string(newer));
  }
  const std::string before = file_bytes(db_file());

  auto store = SqliteStore::open(db_file());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, "store_error");
  EXPECT_EQ(store.error().http_status, 500);
  const std::string& message = store.error().message;
  EXPECT_NE(message.find(db_file().string()), std::string::npos) << message;
  EXPECT_NE(message.find(fmt::format("database schema version {} is newer than this nurseryd "
                                     "supports ({}); refusing to touch it",
                                     newer, SqliteStore::latest_schema_version())),
            std::string::npos)
      << message;

  EXPECT_EQ(user_version_of(db_file()), newer);
  EXPECT_EQ(journal_mode_of(db_file()), "delete");
  EXPECT_TRUE(file_bytes(db_file()) == before) << "the newer database file was modified";
}

TEST_F(SqliteStoreTest, UsesWriteAheadLoggingOnAFileDatabase) {
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  EXPECT_EQ(journal_mode_of(db_file()), "wal");
}

TEST_F(SqliteStoreTest, IntegrityCheckSaysOk) {
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->begin_run(bedtime(kEvening)));
  ASSERT_TRUE(
      store->add_event({at_ms(kEvening), "nursery", "", "routine_started", "bedtime", "control"}));
  auto report = store->integrity_check();
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(*report, "ok");
}

TEST_F(SqliteStoreTest, AFileThatIsNotSqliteIsAnErrorNotACrash) {
  const std::string garbage =
      "This is a shopping list, not a database.\nnappies, wipes, 2x night light bulbs\n" +
      std::string(4096, '\x5a');
  {
    std::ofstream out(db_file(), std::ios::binary);
    out << garbage;
  }
  auto store = SqliteStore::open(db_file());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, "store_error");
  EXPECT_NE(store.error().message.find(db_file().string()), std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("not a database"), std::string::npos)
      << store.error().message;
  EXPECT_EQ(file_bytes(db_file()), garbage);
}

TEST_F(SqliteStoreTest, AStoreInAMissingDirectoryIsAnErrorNamingThePath) {
  const auto file = dir_ / "no-such-dir" / "nurseryd.db";
  auto store = SqliteStore::open(file);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, "store_error");
  EXPECT_EQ(store.error().http_status, 500);
  EXPECT_NE(store.error().message.find(file.string()), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find("does not exist"), std::string::npos)
      << store.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "no-such-dir"));
}

TEST_F(SqliteStoreTest, ReadsDoNotWriteToTheDisk) {
  {
    auto store = open_or_fail(db_file());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->begin_run(bedtime(kEvening)));
    ASSERT_TRUE(store->add_event(
        {at_ms(kEvening), "nursery", "", "routine_started", "bedtime", "control"}));
  }
  const std::string before = file_bytes(db_file());

  // Reopening an up-to-date file and reading everything.
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->open_runs());
  ASSERT_TRUE(store->recent_runs({.limit = 10}));
  ASSERT_TRUE(store->recent_events(10));
  auto report = store->integrity_check();
  ASSERT_TRUE(report);

  EXPECT_EQ(file_size_or_zero(wal_file()), 0u);
  EXPECT_TRUE(file_bytes(db_file()) == before) << "reading modified the database file";
}

TEST_F(SqliteStoreTest, CheckpointMovesTheWalIntoTheDatabaseFileAndEmptiesIt) {
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->begin_run(bedtime(kEvening)));
  EXPECT_GT(file_size_or_zero(wal_file()), 0u);

  auto status = store->checkpoint();
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(file_size_or_zero(wal_file()), 0u);

  // The main file alone now holds the run: copy it without its WAL.
  const auto copy = dir_ / "copy.db";
  std::filesystem::copy_file(db_file(), copy);
  SQLite::Database db(copy.string(), SQLite::OPEN_READONLY);
  SQLite::Statement st(db, "SELECT count(*) FROM runs");
  ASSERT_TRUE(st.executeStep());
  EXPECT_EQ(st.getColumn(0).getInt(), 1);
}

TEST_F(SqliteStoreTest, RecordingAnEventWritesAboutOneKilobyteToTheWal) {
  // The SD card budget: a whole bedtime routine may write at most 256 KiB.
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->begin_run(bedtime(kEvening)));
  ASSERT_TRUE(store->checkpoint());
  constexpr int kEvents = 50;
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(
        store->add_event({at_ms(kEvening + i * 60'000), "nursery", "lamp", "step",
                          "The lamp fades to warm white, 20 %, over five minutes.", "routine"}));
  }
  const auto per_event = file_size_or_zero(wal_file()) / kEvents;
  EXPECT_GT(per_event, 0u);
  EXPECT_LE(per_event, 1536u) << "bytes appended to the WAL per event";
}

TEST_F(SqliteStoreTest, WorksInMemory) {
  auto store = open_or_fail(":memory:");
  ASSERT_TRUE(store);
  RunRecord run = bedtime(kEvening);
  run.id = store->begin_run(run).value();
  auto open = store->open_runs();
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ(open->front(), run);
  EXPECT_TRUE(store->checkpoint());
  EXPECT_EQ(store->integrity_check().value(), "ok");
}

TEST_F(SqliteStoreTest, ARunWithUnreadablePausesIsAnErrorNotACrash) {
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  const auto id = store->begin_run(bedtime(kEvening)).value();
  {
    SQLite::Database db(db_file().string(), SQLite::OPEN_READWRITE);
    SQLite::Statement st(db, "UPDATE runs SET pauses = ? WHERE id = ?");
    st.bind(1, std::string(R"([[1717268400000, "soon"]])"));
    st.bind(2, id);
    ASSERT_EQ(st.exec(), 1);
  }
  auto open = store->open_runs();
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().code, "store_error");
  EXPECT_NE(open.error().message.find("pauses"), std::string::npos) << open.error().message;
}

TEST_F(SqliteStoreTest, SqliteFailuresAreStoreErrorsWithTheReason) {
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  {
    SQLite::Database db(db_file().string(), SQLite::OPEN_READWRITE);
    db.exec("DROP TABLE events");
  }
  auto status =
      store->add_event({at_ms(kEvening), "nursery", "", "routine_started", "bedtime", "control"});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, "store_error");
  EXPECT_EQ(status.error().http_status, 500);
  EXPECT_NE(status.error().message.find("no such table: events"), std::string::npos)
      << status.error().message;
  auto events = store->recent_events(10);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, "store_error");
}

TEST_F(SqliteStoreTest, TheDatabaseRefusesAnOutcomeWithoutAnEnd) {
  // The CHECK constraints keep a run's end and outcome together, whoever
  // writes the file.
  auto store = open_or_fail(db_file());
  ASSERT_TRUE(store);
  RunRecord run = bedtime(kEvening);
  run.outcome = Outcome::Completed;
  auto id = store->begin_run(run);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, "store_error");
  EXPECT_NE(id.error().message.find("CHECK constraint failed"), std::string::npos)
      << id.error().message;
}

}  // namespace
}  // namespace nursery
