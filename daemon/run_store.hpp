#pragma once
// What the core keeps across restarts. The interface knows nothing of SQL;
// daemon/store implements it with SQLite. Thread: the loop thread.
// Methods never throw: a failing disk is an Error the caller logs and shows,
// not an exception that unwinds the loop.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clock.hpp"
#include "expected.hpp"

namespace nursery {

enum class Outcome { Completed, Stopped, Interrupted };
std::string_view outcome_name(Outcome outcome);
std::optional<Outcome> parse_outcome(std::string_view name);

struct Pause {
  TimePoint from;
  std::optional<TimePoint> to;  // open while the run is paused
  bool operator==(const Pause&) const = default;
};

// One run of a routine in a room. Its progress is stored as the inputs of
// the desired-state function (start, pauses, skips), never as a log of
// commands: resuming is recomputing.
struct RunRecord {
  std::int64_t id = 0;
  std::string room;
  std::string routine;
  TimePoint started_at;
  Duration skipped{0};  // routine time jumped over by "skip"
  std::vector<Pause> pauses;
  std::optional<TimePoint> ended_at;
  std::optional<Outcome> outcome;
  bool operator==(const RunRecord&) const = default;
};

// Which runs to list, newest first: those of one room and/or one routine
// (exact ids; unset is any), at most `limit` of them after filtering.
struct RunQuery {
  std::optional<std::string> room{};
  std::optional<std::string> routine{};
  std::size_t limit = 50;
  // Runs started in [started_from, started_before) only (the sleep log).
  std::optional<TimePoint> started_from{};
  std::optional<TimePoint> started_before{};
};

struct EventRecord {
  TimePoint at;
  std::string room;
  std::string device;  // empty for room-level events
  std::string kind;    // "routine_started", "override", "clamp", "manual" ...
  std::string detail;  // a sentence or JSON, for the sleep log and the panel
  std::string source;  // who asked: "routine", "control", "mqtt", "device", "safety" ...
};

// One stretch of time a massager or a sound machine was on, kept so that
// the limits that count time (a massage session, the rolling massage budget,
// the sound auto-off) hold across restarts and reloads.
struct UsageRecord {
  std::int64_t id = 0;
  std::string device;
  std::string capability;   // "massager" or "sound"
  TimePoint session_start;  // massager: start of the session this belongs to; sound: on_at
  TimePoint on_at;
  std::optional<TimePoint> off_at;  // open while it is on
  // The wish that switched it on: "run 12 step 2" for a routine step, empty
  // for a manual or outside switch-on. A session is never started twice for
  // one wish: a routine recomputed after a restart, a reload or a lost link
  // does not start a massage again once its session is over.
  std::string intent;
  std::string ended_by;  // "auto_off" when the hub's limit switched it off
  bool operator==(const UsageRecord&) const = default;
};

// The sleep log a parent keeps: when the baby fell asleep, woke in the
// night, and got up. Runs are in the log too (they are the runs table); the
// two together make a night (see daemon/sleep_log/night.hpp).
enum class SleepKind { Asleep, Awake, Waking };
std::string_view sleep_kind_name(SleepKind kind);  // "asleep", "awake", "waking"
std::optional<SleepKind> parse_sleep_kind(std::string_view name);

struct SleepEntry {
  std::int64_t id = 0;
  std::string room;
  SleepKind kind = SleepKind::Asleep;
  TimePoint at;        // when it happened, as the parent says (not when it was logged)
  std::string note;    // optional, free text
  std::string source;  // who logged it: "control", "web", "mqtt" ...
  bool operator==(const SleepEntry&) const = default;
};

// Entries with from <= at < to, of one room (unset: every room), oldest
// first (ties: the earlier-logged first), at most `limit`.
struct SleepQuery {
  std::optional<std::string> room{};
  TimePoint from{};
  TimePoint to = TimePoint::max();
  std::size_t limit = 10000;
};

// Whether the store can still keep what the hub asks it to, for the status
// a parent sees. Healthy is all false.
struct StoreHealth {
  // The space held in reserve inside the database is not there: it was
  // released so that writes could go on when the disk filled, or it could
  // not be set aside for lack of space. Writes may fail soon.
  bool reserve_released = false;
  // The latest write could not be stored (the disk is full, or failing).
  bool last_write_failed = false;
  // A sentence for the status when degraded; empty when healthy.
  std::string reason;
  bool degraded() const { return reserve_released || last_write_failed; }
};

class RunStore {
 public:
  virtual ~RunStore() = default;
  // Inserts the run and returns its id.
  virtual Expected<std::int64_t> begin_run(const RunRecord& run) = 0;
  // Saves started_at, pauses and skipped (after pause, resume, skip, or a
  // correction of the clock).
  virtual Status update_run(const RunRecord& run) = 0;
  virtual Status end_run(std::int64_t id, TimePoint ended_at, Outcome outcome) = 0;
  // Runs without an end, oldest first: what to resume after a restart.
  virtual Expected<std::vector<RunRecord>> open_runs() = 0;
  // The runs the query selects, newest first.
  virtual Expected<std::vector<RunRecord>> recent_runs(const RunQuery& query) = 0;
  virtual Status add_event(const EventRecord& event) = 0;
  virtual Expected<std::vector<EventRecord>> recent_events(std::size_t limit) = 0;

  // Returns the new record's id.
  virtual Expected<std::int64_t> begin_usage(const UsageRecord& usage) = 0;
  // Saves every field of an existing record (its end, or a clock correction).
  virtual Status update_usage(const UsageRecord& usage) = 0;
  // Records still open, and those that ended at or after `since`, oldest first.
  virtual Expected<std::vector<UsageRecord>> usage_since(TimePoint since) = 0;
  // How the store is doing (see StoreHealth). Default: a store without a
  // disk to fill is always healthy.
  virtual StoreHealth health() const { return {}; }
  // The latest time stored anywhere: run starts and ends, pause bounds,
  // event times; nullopt when nothing is stored. Call at start so that the
  // clock never starts earlier than what is already recorded. Default: a
  // store that keeps nothing across restarts has nothing to report.
  virtual Expected<std::optional<TimePoint>> latest_time() { return std::optional<TimePoint>{}; }

  // The sleep log. Defaults: a store that keeps no log refuses to add, and
  // has nothing to list.
  // Inserts the entry and returns its id.
  virtual Expected<std::int64_t> add_sleep_entry(const SleepEntry& entry) {
    (void)entry;
    return Error{"store_error", "this store keeps no sleep log", 500};
  }
  virtual Expected<std::vector<SleepEntry>> sleep_entries(const SleepQuery& query) {
    (void)query;
    return std::vector<SleepEntry>{};
  }
  // The room's latest "awake" entry by `at` (the last logged wake-up, which
  // starts a wake window); nullopt when none is logged.
  virtual Expected<std::optional<SleepEntry>> last_wake_up(std::string_view room) {
    (void)room;
    return std::optional<SleepEntry>{};
  }
};

}  // namespace nursery
