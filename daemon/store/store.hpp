#pragma once
// RunStore on SQLite (SQLiteCpp): the only place in the daemon with SQL.
//
// The file is in WAL mode with synchronous=NORMAL: a crash or kill -9 of the
// daemon loses nothing that was committed, a power cut may lose the last
// commits but never corrupts the file. Each call is one statement (one
// implicit transaction), reads never write, and the page cache is small:
// the hub lives on an SD card and has little memory.
//
// The schema is versioned by PRAGMA user_version and brought up to date by
// open(); a file from a newer nurseryd is refused and left untouched.
//
// Thread: the loop thread; the object is not shared between threads.
// Nothing here throws: every failure, SQLite's or ours, is an Error with code
// "store_error" (http_status 500) whose message carries SQLite's reason,
// except update_run/end_run on a run that is not there ("unknown_run", 404).

#include <filesystem>
#include <memory>
#include <string>

#include "daemon/run_store.hpp"

namespace SQLite {
class Database;
}

namespace nursery {

class SqliteStore final : public RunStore {
 public:
  // The schema version this code writes; open() migrates older files to it.
  static int latest_schema_version();

  // Opens (creating if needed) the database at `file`, whose directory must
  // exist; ":memory:" gives a private in-memory database (no WAL), for tests.
  // Fails with an Error naming the path and the reason when the file cannot
  // be opened, is not an SQLite database, is from a newer nurseryd, or a
  // migration fails (a failed migration step is rolled back).
  static Expected<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& file);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Expected<std::int64_t> begin_run(const RunRecord& run) override;
  Status update_run(const RunRecord& run) override;
  // Only an open run can be ended: ending it twice is "unknown_run", so the
  // first outcome recorded is the one that stays.
  Status end_run(std::int64_t id, TimePoint ended_at, Outcome outcome) override;
  Expected<std::vector<RunRecord>> open_runs() override;
  // Newest first by started_at (ties: the later-inserted first); the filters
  // are applied in SQL, before the limit.
  Expected<std::vector<RunRecord>> recent_runs(const RunQuery& query) override;
  Status add_event(const EventRecord& event) override;
  // Newest first by the order they were recorded, not by `at`: the Pi has no
  // real-time clock and its clock jumps when NTP syncs, so `at` can go back.
  Expected<std::vector<EventRecord>> recent_events(std::size_t limit) override;
  Expected<std::int64_t> begin_usage(const UsageRecord& usage) override;
  Status update_usage(const UsageRecord& usage) override;
  Expected<std::vector<UsageRecord>> usage_since(TimePoint since) override;

  // The latest time written anywhere (run starts and ends, pauses, events,
  // usage), or nullopt for an empty store: the clock starts no earlier, so
  // stored times never go backwards across a restart.
  Expected<std::optional<TimePoint>> latest_time();

  // The text of PRAGMA integrity_check: "ok" for a healthy file, otherwise
  // SQLite's description of each problem, one per line.
  Expected<std::string> integrity_check();
  // Copies the WAL into the database file and truncates the WAL, so a clean
  // shutdown leaves a single self-contained file. Call at clean shutdown.
  Status checkpoint();

  // The user_version the file had before open() migrated it: 0 for a new
  // file; equal to latest_schema_version() when nothing had to be migrated.
  int previous_schema_version() const { return previous_schema_version_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  SqliteStore(std::unique_ptr<SQLite::Database> db, std::filesystem::path path,
              int previous_schema_version);

  std::unique_ptr<SQLite::Database> db_;
  std::filesystem::path path_;
  int previous_schema_version_;
};

}  // namespace nursery
