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
// A full disk. SQLite's "database or disk is full" is the Error
// "storage_full" (http_status 507) with a message a parent can act on. So
// that the hub's own writes still go through when the disk fills, open()
// sets space aside inside the database file (the `reserve` table, one blob
// of StoreOptions::reserve_kib). When a write finds the disk full (or less
// free on it than the reserve holds), the store
// checkpoints the WAL (so the next write reuses the WAL file from its start
// instead of growing it), deletes the reserve (its pages become free pages
// inside the file: no disk space is needed to reuse them) and tries the
// write once more. While the reserve is released, every write is followed
// by a checkpoint, events are refused (storage_full) to keep the room for
// runs, and after each write the store puts the reserve back as soon as
// the disk has four times its size free again. health() says whether the
// store is degraded. To make this work, the file never lags behind the
// WAL in size: a write that grows the database is followed by a passive
// checkpoint, so a checkpoint on a full disk never has to grow the file.
//
// Events are kept StoreOptions::event_retention (90 days, counted back from
// the newest event) and at most StoreOptions::max_events (20000, about
// 2.5 MB): the oldest beyond either are deleted at open and every
// prune_every-th event recorded (at most prune_batch rows at a time). Runs
// are never deleted: they are the sleep log.
//
// Times are kept in order, whoever the caller: a run's end is never before
// its start or the end of its last pause, and each pause lies within the
// run and after the one before (a bound out of order is moved up to the
// earliest time it can be, not refused: refusing the end of a stopped run
// would leave it open, to be resumed after a restart). Runs read back,
// whatever is in the file, come out the same way.
//
// Thread: the loop thread; the object is not shared between threads.
// Nothing here throws: every failure, SQLite's or ours, is an Error with code
// "store_error" (http_status 500) whose message carries SQLite's reason,
// "storage_full" (507) for a full disk, and "unknown_run" (404) for
// update_run/end_run on a run that is not there.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "daemon/run_store.hpp"
#include "daemon/schedule_store.hpp"

namespace SQLite {
class Database;
}

namespace nursery {

// What open() is given; the defaults are what nurseryd uses.
struct StoreOptions {
  Duration event_retention = std::chrono::days(90);
  std::size_t max_events = 20000;
  std::size_t prune_every = 100;   // events recorded between two prunes
  std::size_t prune_batch = 1000;  // the most events one periodic prune deletes
  std::size_t reserve_kib = 64;    // 0: no reserve
};

class SqliteStore final : public RunStore, public ScheduleStore {
 public:
  // The schema version this code writes; open() migrates older files to it.
  static int latest_schema_version();

  // Opens (creating if needed) the database at `file`, whose directory must
  // exist; ":memory:" gives a private in-memory database (no WAL), for tests.
  // Fails with an Error naming the path and the reason when the file cannot
  // be opened, is not an SQLite database, is from a newer nurseryd, or a
  // migration fails (a failed migration step is rolled back).
  static Expected<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& file,
                                                     StoreOptions options = {});

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Expected<std::int64_t> begin_run(const RunRecord& run) override;
  // Saves pauses and skipped time; pause bounds out of order are moved up
  // (see above).
  Status update_run(const RunRecord& run) override;
  // Only an open run can be ended: ending it twice is "unknown_run", so the
  // first outcome recorded is the one that stays. An end before the run's
  // start or its last pause is moved up to that time; a pause still open is
  // closed at the end.
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

  // The sleep log (table sleep_log). An entry is a parent's record, not hub
  // time: its `at` is stored as given and is not part of latest_time().
  Expected<std::int64_t> add_sleep_entry(const SleepEntry& entry) override;
  Expected<std::vector<SleepEntry>> sleep_entries(const SleepQuery& query) override;
  Expected<std::optional<SleepEntry>> last_wake_up(std::string_view room) override;

  StoreHealth health() const override;
  Expected<std::optional<TimePoint>> latest_time() override;

  // ScheduleStore: tables schedules (one JSON list per room), schedule_checked,
  // schedule_fired and schedule_skips; the wake-up is read from sleep_log.
  Expected<std::optional<std::vector<schedule::Schedule>>> schedules(
      std::string_view room) override;
  Status set_schedules(std::string_view room,
                       const std::vector<schedule::Schedule>& schedules) override;
  Expected<SchedulerMark> scheduler_mark(std::string_view room) override;
  Status save_scheduler_mark(std::string_view room, TimePoint checked,
                             const std::map<std::string, TimePoint, std::less<>>& fired) override;
  Status add_schedule_skip(const ScheduleSkip& skip) override;
  Expected<std::vector<ScheduleSkip>> schedule_skips(std::string_view room,
                                                     std::size_t limit) override;
  Expected<std::optional<TimePoint>> last_wake_time(std::string_view room) override;

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
              int previous_schema_version, StoreOptions options);

  // Runs `op` (which throws what SQLiteCpp throws); on a full disk makes
  // room and runs it once more. `what` completes "cannot ..." in messages.
  Status write(const std::string& what, const std::function<Status()>& op);
  void make_room();
  bool released() const;
  bool file_behind_wal() const;
  void after_write();
  void restore_reserve_if_room();
  std::optional<std::uintmax_t> free_disk_bytes() const;
  bool disk_has_room_for_reserve() const;
  bool disk_nearly_full() const;
  void checkpoint_quietly(const char* mode);
  void prune_events(std::size_t batch);
  Error storage_full(const std::string& what) const;

  std::unique_ptr<SQLite::Database> db_;
  std::filesystem::path path_;
  int previous_schema_version_;
  StoreOptions options_;
  bool in_memory_ = false;
  bool reserve_present_ = false;
  bool last_write_failed_ = false;
  std::string last_failure_;
  std::size_t events_since_prune_ = 0;
};

}  // namespace nursery
