// RunStore on SQLite. Every public method catches everything SQLiteCpp (or
// the JSON of a run's pauses) can throw and turns it into an Error: the loop
// must never be unwound by a failing disk.
#include "daemon/store/store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "daemon/schedule/schedule.hpp"

namespace nursery {

namespace {

namespace fs = std::filesystem;

constexpr int kBusyTimeoutMs = 2000;

// Migration steps: kMigrations[i] takes the schema from version i to i + 1.
// Append new steps; never edit one that has shipped.
constexpr const char* kMigrations[] = {
    // 1: runs and events.
    R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  room TEXT NOT NULL,
  routine TEXT NOT NULL,
  started_at INTEGER NOT NULL,  -- ms since the epoch, UTC
  skipped_ms INTEGER NOT NULL DEFAULT 0,
  pauses TEXT NOT NULL DEFAULT '[]',  -- JSON [[from_ms, to_ms or null], ...]
  ended_at INTEGER,
  outcome TEXT CHECK (outcome IN ('completed', 'stopped', 'interrupted')),
  CHECK ((ended_at IS NULL) = (outcome IS NULL))
);
-- What to resume after a restart: only the open runs, so it stays tiny.
CREATE INDEX runs_open ON runs (started_at) WHERE ended_at IS NULL;
CREATE INDEX runs_newest ON runs (started_at);
-- Events are listed by id (the order they were recorded), which needs no
-- index: one page fewer written per event.
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  room TEXT NOT NULL,
  device TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
)sql",
    // 2: who asked, for every event; the on-periods of massagers and sound
    // machines, so that limits counting time hold across restarts.
    R"sql(
ALTER TABLE events ADD COLUMN source TEXT NOT NULL DEFAULT '';
CREATE TABLE usage (
  id INTEGER PRIMARY KEY,
  device TEXT NOT NULL,
  capability TEXT NOT NULL CHECK (capability IN ('massager', 'sound')),
  session_start INTEGER NOT NULL,
  on_at INTEGER NOT NULL,
  off_at INTEGER,
  intent TEXT NOT NULL DEFAULT '',
  ended_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX usage_recent ON usage (off_at);
)sql",
    // 3: space held in reserve inside the file for a full disk (store.hpp).
    R"sql(
CREATE TABLE reserve (
  id INTEGER PRIMARY KEY,
  space BLOB NOT NULL
);
)sql",
    // 4: the sleep log a parent keeps (asleep, awake, a night waking). Runs
    // are the other half of the log and stay in `runs`.
    R"sql(
CREATE TABLE sleep_log (
  id INTEGER PRIMARY KEY,
  room TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('asleep', 'awake', 'waking')),
  at INTEGER NOT NULL,  -- ms since the epoch, UTC
  note TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT ''
);
-- Ranges by time (the log, the summary) and the latest wake-up of a room.
CREATE INDEX sleep_log_at ON sleep_log (at);
CREATE INDEX sleep_log_room_kind_at ON sleep_log (room, kind, at);
)sql",
    // 5: schedules per room (one JSON list each, as the API shows it: written
    // only when a parent changes it), where each room's firing stands, and
    // the triggers that did not start their routine.
    R"sql(
CREATE TABLE schedules (
  room TEXT PRIMARY KEY,
  list TEXT NOT NULL  -- JSON {"schedules":[...]}
);
CREATE TABLE schedule_checked (
  room TEXT PRIMARY KEY,
  at INTEGER NOT NULL  -- ms: the scheduler's last look at its triggers
);
CREATE TABLE schedule_fired (
  room TEXT NOT NULL,
  schedule TEXT NOT NULL,
  at INTEGER NOT NULL,  -- ms: the instant of the last trigger fired
  PRIMARY KEY (room, schedule)
);
CREATE TABLE schedule_skips (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  room TEXT NOT NULL,
  schedule TEXT NOT NULL,
  routine TEXT NOT NULL,
  reason TEXT NOT NULL
);
)sql",
};

constexpr int kLatestVersion = static_cast<int>(std::size(kMigrations));

constexpr const char* kRunColumns =
    "SELECT id, room, routine, started_at, skipped_ms, pauses, ended_at, outcome FROM runs ";

Error store_error(std::string message) { return Error{"store_error", std::move(message), 500}; }

// SQLite's "database or disk is full", or a write the OS refused for want
// of space.
bool is_disk_full(const std::exception& e, SQLite::Database& db) {
  const auto* sqlite = dynamic_cast<const SQLite::Exception*>(&e);
  if (!sqlite) return false;
  if (sqlite->getErrorCode() == SQLITE_FULL) return true;
  return sqlite->getErrorCode() == SQLITE_IOERR && sqlite3_system_errno(db.getHandle()) == ENOSPC;
}

// A constraint is the caller's mistake, not a sign the disk is failing.
bool is_constraint(const std::exception& e) {
  const auto* sqlite = dynamic_cast<const SQLite::Exception*>(&e);
  return sqlite && sqlite->getErrorCode() == SQLITE_CONSTRAINT;
}

std::int64_t to_ms(TimePoint t) { return static_cast<std::int64_t>(t.time_since_epoch().count()); }
TimePoint from_ms(std::int64_t ms) { return TimePoint{Duration{ms}}; }

std::string encode_pauses(const std::vector<Pause>& pauses) {
  auto list = nlohmann::json::array();
  for (const auto& p : pauses) {
    list.push_back(nlohmann::json::array(
        {to_ms(p.from), p.to ? nlohmann::json(to_ms(*p.to)) : nlohmann::json(nullptr)}));
  }
  return list.dump();
}

// Returns nullopt when the text is not what encode_pauses() writes.
std::optional<std::vector<Pause>> decode_pauses(const std::string& text) {
  const auto list = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!list.is_array()) return std::nullopt;
  std::vector<Pause> pauses;
  for (const auto& item : list) {
    if (!item.is_array() || item.size() != 2 || !item[0].is_number_integer()) return std::nullopt;
    Pause p{from_ms(item[0].get<std::int64_t>()), std::nullopt};
    if (item[1].is_number_integer()) {
      p.to = from_ms(item[1].get<std::int64_t>());
    } else if (!item[1].is_null()) {
      return std::nullopt;
    }
    pauses.push_back(p);
  }
  return pauses;
}

// Pauses in order within the run: each starts no earlier than the run or the
// end of the one before, and ends no earlier than it starts. Returns the
// latest bound, the earliest the run can have ended.
TimePoint order_pauses(TimePoint started_at, std::vector<Pause>& pauses) {
  TimePoint floor = started_at;
  for (auto& p : pauses) {
    p.from = std::max(p.from, floor);
    if (p.to) p.to = std::max(*p.to, p.from);
    floor = p.to.value_or(p.from);
  }
  return floor;
}

void order_times(RunRecord& run) {
  const TimePoint floor = order_pauses(run.started_at, run.pauses);
  if (run.ended_at) run.ended_at = std::max(*run.ended_at, floor);
}

void bind_optional_time(SQLite::Statement& st, int index, const std::optional<TimePoint>& t) {
  if (t) {
    st.bind(index, to_ms(*t));
  } else {
    st.bind(index);
  }
}

std::int64_t limit_param(std::size_t limit) {
  constexpr auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(limit, max));
}

// Reads the rows of a statement that selects kRunColumns.
Expected<std::vector<RunRecord>> read_runs(SQLite::Statement& st) {
  std::vector<RunRecord> runs;
  while (st.executeStep()) {
    RunRecord run;
    run.id = st.getColumn(0).getInt64();
    run.room = st.getColumn(1).getString();
    run.routine = st.getColumn(2).getString();
    run.started_at = from_ms(st.getColumn(3).getInt64());
    run.skipped = Duration{st.getColumn(4).getInt64()};
    auto pauses = decode_pauses(st.getColumn(5).getString());
    if (!pauses) {
      return store_error(
          fmt::format("run {} has unreadable pauses: {}", run.id, st.getColumn(5).getString()));
    }
    run.pauses = std::move(*pauses);
    if (!st.isColumnNull(6)) run.ended_at = from_ms(st.getColumn(6).getInt64());
    if (!st.isColumnNull(7)) {
      const std::string name = st.getColumn(7).getString();
      run.outcome = parse_outcome(name);
      if (!run.outcome) {
        return store_error(fmt::format("run {} has an unknown outcome \"{}\"", run.id, name));
      }
    }
    // Whatever an older nurseryd (or a clock that went back) left in the file.
    order_times(run);
    runs.push_back(std::move(run));
  }
  return runs;
}

// A PRAGMA that answers one value, as text.
std::string pragma_text(SQLite::Database& db, const char* sql) {
  SQLite::Statement st(db, sql);
  if (!st.executeStep()) return {};
  return st.getColumn(0).getString();
}

int user_version(SQLite::Database& db) {
  SQLite::Statement st(db, "PRAGMA user_version");
  st.executeStep();
  return st.getColumn(0).getInt();
}

}  // namespace

int SqliteStore::latest_schema_version() { return kLatestVersion; }

SqliteStore::SqliteStore(std::unique_ptr<SQLite::Database> db, std::filesystem::path path,
                         int previous_schema_version, StoreOptions options)
    : db_(std::move(db)),
      path_(std::move(path)),
      previous_schema_version_(previous_schema_version),
      options_(options),
      in_memory_(path_ == ":memory:") {}

SqliteStore::~SqliteStore() = default;

Expected<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::filesystem::path& file,
                                                         StoreOptions options) {
  const std::string name = file.string();
  const bool in_memory = name == ":memory:";

  std::unique_ptr<SQLite::Database> db;
  try {
    db = std::make_unique<SQLite::Database>(
        name, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX, kBusyTimeoutMs);
  } catch (const std::exception& e) {
    std::string reason = e.what();
    std::error_code ec;
    const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
    if (!in_memory && !fs::is_directory(dir, ec)) {
      reason += fmt::format(" (the directory {} does not exist)", dir.string());
    }
    return store_error(fmt::format("cannot open the database {}: {}", name, reason));
  }

  int found = 0;
  try {
    // Read-only checks first, so that a file we must refuse is not touched:
    // this is also where a file that is not SQLite fails.
    found = user_version(*db);
    if (found > kLatestVersion) {
      return store_error(
          fmt::format("{}: database schema version {} is newer than this nurseryd supports ({}); "
                      "refusing to touch it",
                      name, found, kLatestVersion));
    }
    if (!in_memory) {
      // Small pages for a new file (no effect on an existing one): a commit
      // appends each page it touches to the WAL, and most of ours touch one
      // page with a row of a few dozen bytes. With SQLite's default of 4 KiB,
      // one event would cost four times the bytes written to the SD card.
      db->exec("PRAGMA page_size=1024");
      const std::string mode = pragma_text(*db, "PRAGMA journal_mode=WAL");
      if (mode != "wal") {
        return store_error(
            fmt::format("cannot open the database {}: it cannot use write-ahead logging "
                        "(journal_mode is \"{}\")",
                        name, mode));
      }
    }
    // A negative cache_size is in KiB: 256 KiB of page cache.
    db->exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-256;");
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot open the database {}: {}", name, e.what()));
  }

  for (int version = found; version < kLatestVersion; ++version) {
    try {
      // IMMEDIATE takes the write lock before re-reading the version, so two
      // processes opening a new file at once cannot both run a step.
      SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);
      if (user_version(*db) != version) continue;
      db->exec(kMigrations[version]);
      // PRAGMA takes no bound parameters; the value is our own constant.
      db->exec(fmt::format("PRAGMA user_version = {}", version + 1));
      tx.commit();
    } catch (const std::exception& e) {
      return store_error(fmt::format("cannot migrate the database {} to schema version {}: {}",
                                     name, version + 1, e.what()));
    }
  }

  auto store = std::unique_ptr<SqliteStore>(new SqliteStore(std::move(db), file, found, options));
  try {
    SQLite::Statement st(*store->db_, "SELECT EXISTS (SELECT 1 FROM reserve)");
    st.executeStep();
    store->reserve_present_ = st.getColumn(0).getInt() != 0;
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot open the database {}: {}", name, e.what()));
  }
  // Maintenance that must not keep the hub from starting on a full disk:
  // each step gives up quietly and health() says what is missing.
  store->prune_events(std::numeric_limits<std::size_t>::max());
  if (store->released()) store->restore_reserve_if_room();
  if (store->file_behind_wal()) store->checkpoint_quietly("PASSIVE");
  return store;
}

bool SqliteStore::released() const {
  return !in_memory_ && options_.reserve_kib > 0 && !reserve_present_;
}

bool SqliteStore::file_behind_wal() const {
  if (in_memory_) return false;
  try {
    const auto pages = db_->execAndGet("PRAGMA page_count").getInt64();
    const auto page_size = db_->execAndGet("PRAGMA page_size").getInt64();
    std::error_code ec;
    const auto size = fs::file_size(path_, ec);
    return !ec && static_cast<std::uintmax_t>(pages * page_size) > size;
  } catch (const std::exception&) {
    return false;
  }
}

void SqliteStore::checkpoint_quietly(const char* mode) {
  if (in_memory_) return;
  try {
    SQLite::Statement st(*db_, fmt::format("PRAGMA wal_checkpoint({})", mode));
    st.executeStep();
  } catch (const std::exception&) {
    // A checkpoint that cannot finish now leaves everything in the WAL.
  }
}

std::optional<std::uintmax_t> SqliteStore::free_disk_bytes() const {
  const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  struct statvfs fs_info {};
  if (::statvfs(dir.c_str(), &fs_info) != 0) return std::nullopt;
  return static_cast<std::uintmax_t>(fs_info.f_bavail) * fs_info.f_frsize;
}

bool SqliteStore::disk_has_room_for_reserve() const {
  const auto free_bytes = free_disk_bytes();
  return free_bytes && *free_bytes >= 4 * static_cast<std::uintmax_t>(options_.reserve_kib) * 1024;
}

bool SqliteStore::disk_nearly_full() const {
  const auto free_bytes = free_disk_bytes();
  return free_bytes && *free_bytes < static_cast<std::uintmax_t>(options_.reserve_kib) * 1024;
}

void SqliteStore::restore_reserve_if_room() {
  if (!released() || !disk_has_room_for_reserve()) return;
  try {
    SQLite::Statement st(*db_, "INSERT INTO reserve (space) VALUES (zeroblob(?))");
    st.bind(1, static_cast<std::int64_t>(options_.reserve_kib) * 1024);
    st.exec();
    reserve_present_ = true;
  } catch (const std::exception&) {
    return;  // the disk filled again meanwhile: try after the next write
  }
  // So that the reserve's pages are in the file itself, not only in the WAL.
  checkpoint_quietly("PASSIVE");
}

// Frees room for one more write on a full disk, using no new disk space.
void SqliteStore::make_room() {
  // Copies the WAL into the file (whose size already holds every page, see
  // after_write) so that the next write starts the WAL over in place.
  checkpoint_quietly("RESTART");
  if (!reserve_present_) return;
  try {
    db_->exec("DELETE FROM reserve");
    reserve_present_ = false;
  } catch (const std::exception&) {
    return;
  }
  checkpoint_quietly("RESTART");
}

void SqliteStore::after_write() {
  last_write_failed_ = false;
  last_failure_.clear();
  if (in_memory_) return;
  restore_reserve_if_room();
  if (released())
    checkpoint_quietly("RESTART");  // keep reusing the WAL file in place
  else if (file_behind_wal())
    checkpoint_quietly("PASSIVE");  // the file grows now, while there is room
}

Error SqliteStore::storage_full(const std::string& what) const {
  const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  return Error{"storage_full",
               fmt::format("the hub's storage is full: free some space on the SD card (it holds "
                           "{}); until then the hub cannot {}",
                           dir.string(), what),
               507};
}

Status SqliteStore::write(const std::string& what, const std::function<Status()>& op) {
  // Less free on the disk than the reserve holds: release it now, while the
  // file is in step with the WAL, rather than find out from a failed write.
  if (!in_memory_ && reserve_present_ && disk_nearly_full()) make_room();
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      Status status = op();
      if (status) after_write();
      return status;
    } catch (const std::exception& e) {
      if (!is_disk_full(e, *db_)) {
        if (!is_constraint(e)) {
          last_write_failed_ = true;
          last_failure_ = fmt::format("the hub's storage is failing: {}", e.what());
        }
        return store_error(fmt::format("cannot {}: {}", what, e.what()));
      }
      if (attempt == 0) make_room();
    }
  }
  Error full = storage_full(what);
  last_write_failed_ = true;
  last_failure_ = full.message;
  return full;
}

StoreHealth SqliteStore::health() const {
  StoreHealth health;
  health.reserve_released = released();
  health.last_write_failed = last_write_failed_;
  if (last_write_failed_) {
    health.reason = last_failure_;
  } else if (health.reserve_released) {
    const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
    health.reason = fmt::format(
        "the hub's storage is nearly full: it is writing into the space it held in reserve; "
        "free some space on the SD card (it holds {})",
        dir.string());
  }
  return health;
}

void SqliteStore::prune_events(std::size_t batch) {
  try {
    SQLite::Statement stats(*db_, "SELECT count(*), max(at) FROM events");
    if (!stats.executeStep() || stats.isColumnNull(1)) return;
    const std::int64_t count = stats.getColumn(0).getInt64();
    const std::int64_t newest = stats.getColumn(1).getInt64();
    stats.reset();
    const auto max_events = limit_param(options_.max_events);
    if (count > max_events) {
      SQLite::Statement st(*db_,
                           "DELETE FROM events WHERE id IN "
                           "(SELECT id FROM events ORDER BY id LIMIT ?)");
      st.bind(1, std::min(count - max_events, limit_param(batch)));
      st.exec();
    }
    const std::int64_t cutoff =
        newest - static_cast<std::int64_t>(options_.event_retention.count());
    // Checked first so that a prune with nothing to delete writes nothing.
    SQLite::Statement any(*db_, "SELECT EXISTS (SELECT 1 FROM events WHERE at < ?)");
    any.bind(1, cutoff);
    if (any.executeStep() && any.getColumn(0).getInt() != 0) {
      SQLite::Statement st(*db_,
                           "DELETE FROM events WHERE id IN "
                           "(SELECT id FROM events WHERE at < ? ORDER BY id LIMIT ?)");
      st.bind(1, cutoff);
      st.bind(2, limit_param(batch));
      st.exec();
    }
  } catch (const std::exception&) {
    // Maintenance: the next prune tries again.
  }
}

Expected<std::int64_t> SqliteStore::begin_run(const RunRecord& given) {
  RunRecord run = given;
  order_times(run);
  std::int64_t id = 0;
  auto status =
      write(fmt::format("record the start of the {} run in room {}", run.routine, run.room),
            [&]() -> Status {
              SQLite::Statement st(*db_,
                                   "INSERT INTO runs (room, routine, started_at, "
                                   "skipped_ms, pauses, ended_at, outcome) "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?)");
              st.bind(1, run.room);
              st.bind(2, run.routine);
              st.bind(3, to_ms(run.started_at));
              st.bind(4, static_cast<std::int64_t>(run.skipped.count()));
              st.bind(5, encode_pauses(run.pauses));
              bind_optional_time(st, 6, run.ended_at);
              if (run.outcome) {
                st.bind(7, std::string(outcome_name(*run.outcome)));
              } else {
                st.bind(7);
              }
              st.exec();
              id = db_->getLastInsertRowid();
              return Ok{};
            });
  if (!status) return status.error();
  return id;
}

Status SqliteStore::update_run(const RunRecord& run) {
  return write(fmt::format("save the progress of run {}", run.id), [&]() -> Status {
    // The start may move (a correction of the clock moves a whole run); the
    // pauses are kept within it and in order.
    std::vector<Pause> pauses = run.pauses;
    order_pauses(run.started_at, pauses);
    SQLite::Statement st(*db_,
                         "UPDATE runs SET skipped_ms = ?, pauses = ?, started_at = ? WHERE id = ?");
    st.bind(1, static_cast<std::int64_t>(run.skipped.count()));
    st.bind(2, encode_pauses(pauses));
    st.bind(3, to_ms(run.started_at));
    st.bind(4, run.id);
    if (st.exec() == 0)
      return Error{"unknown_run", fmt::format("there is no run {} to update", run.id), 404};
    return Ok{};
  });
}

Status SqliteStore::end_run(std::int64_t id, TimePoint ended_at, Outcome outcome) {
  return write(fmt::format("record the end of run {}", id), [&]() -> Status {
    SQLite::Statement open(*db_,
                           "SELECT started_at, pauses FROM runs WHERE id = ? AND ended_at IS NULL");
    open.bind(1, id);
    if (!open.executeStep())
      return Error{"unknown_run", fmt::format("there is no open run {} to end", id), 404};
    const TimePoint started_at = from_ms(open.getColumn(0).getInt64());
    auto pauses = decode_pauses(open.getColumn(1).getString()).value_or(std::vector<Pause>{});
    open.reset();
    const TimePoint ended = std::max(ended_at, order_pauses(started_at, pauses));
    // A run stopped while paused was paused until it ended.
    for (auto& p : pauses)
      if (!p.to) p.to = ended;
    SQLite::Statement st(*db_,
                         "UPDATE runs SET ended_at = ?, outcome = ?, pauses = ? "
                         "WHERE id = ? AND ended_at IS NULL");
    st.bind(1, to_ms(ended));
    st.bind(2, std::string(outcome_name(outcome)));
    st.bind(3, encode_pauses(pauses));
    st.bind(4, id);
    if (st.exec() == 0)
      return Error{"unknown_run", fmt::format("there is no open run {} to end", id), 404};
    return Ok{};
  });
}

Expected<std::vector<RunRecord>> SqliteStore::open_runs() {
  try {
    SQLite::Statement st(
        *db_, std::string(kRunColumns) + "WHERE ended_at IS NULL ORDER BY started_at, id");
    return read_runs(st);
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot read the open runs: {}", e.what()));
  }
}

Expected<std::vector<RunRecord>> SqliteStore::recent_runs(const RunQuery& query) {
  try {
    // Only our constant fragments go into the SQL; the ids are bound.
    std::string sql = std::string(kRunColumns) + "WHERE 1 ";
    if (query.room) sql += "AND room = :room ";
    if (query.routine) sql += "AND routine = :routine ";
    if (query.started_from) sql += "AND started_at >= :from ";
    if (query.started_before) sql += "AND started_at < :before ";
    sql += "ORDER BY started_at DESC, id DESC LIMIT :limit";
    SQLite::Statement st(*db_, sql);
    if (query.room) st.bind(":room", *query.room);
    if (query.routine) st.bind(":routine", *query.routine);
    if (query.started_from) st.bind(":from", to_ms(*query.started_from));
    if (query.started_before) st.bind(":before", to_ms(*query.started_before));
    st.bind(":limit", limit_param(query.limit));
    return read_runs(st);
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot read the recent runs: {}", e.what()));
  }
}

Status SqliteStore::add_event(const EventRecord& event) {
  const std::string what = fmt::format("record the {} event in room {}", event.kind, event.room);
  if (released()) {
    restore_reserve_if_room();
    // What room is left inside the file is kept for runs.
    if (released()) {
      Error full = storage_full(what);
      last_write_failed_ = true;
      last_failure_ = full.message;
      return full;
    }
  }
  auto status = write(what, [&]() -> Status {
    SQLite::Statement st(
        *db_,
        "INSERT INTO events (at, room, device, kind, detail, source) VALUES (?, ?, ?, ?, ?, ?)");
    st.bind(1, to_ms(event.at));
    st.bind(2, event.room);
    st.bind(3, event.device);
    st.bind(4, event.kind);
    st.bind(5, event.detail);
    st.bind(6, event.source);
    st.exec();
    return Ok{};
  });
  if (status && ++events_since_prune_ >= options_.prune_every) {
    events_since_prune_ = 0;
    if (!released()) prune_events(options_.prune_batch);
  }
  return status;
}

Expected<std::optional<TimePoint>> SqliteStore::latest_time() {
  try {
    SQLite::Statement st(*db_,
                         "SELECT max(t) FROM ("
                         "  SELECT max(started_at) AS t FROM runs"
                         "  UNION ALL SELECT max(ended_at) FROM runs"
                         "  UNION ALL SELECT max(j.value) FROM runs, json_tree(runs.pauses) AS j"
                         "    WHERE j.type = 'integer'"
                         "  UNION ALL SELECT max(at) FROM events"
                         "  UNION ALL SELECT max(on_at) FROM usage"
                         "  UNION ALL SELECT max(off_at) FROM usage)");
    if (!st.executeStep() || st.isColumnNull(0)) return std::optional<TimePoint>{};
    return std::optional<TimePoint>{from_ms(st.getColumn(0).getInt64())};
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot read the latest time stored: {}", e.what()));
  }
}

Expected<std::vector<EventRecord>> SqliteStore::recent_events(std::size_t limit) {
  try {
    SQLite::Statement st(
        *db_, "SELECT at, room, device, kind, detail, source FROM events ORDER BY id DESC LIMIT ?");
    st.bind(1, limit_param(limit));
    std::vector<EventRecord> events;
    while (st.executeStep()) {
      events.push_back(EventRecord{from_ms(st.getColumn(0).getInt64()), st.getColumn(1).getString(),
                                   st.getColumn(2).getString(), st.getColumn(3).getString(),
                                   st.getColumn(4).getString(), st.getColumn(5).getString()});
    }
    return events;
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot read the recent events: {}", e.what()));
  }
}

Expected<std::int64_t> SqliteStore::begin_usage(const UsageRecord& u) {
  std::int64_t id = 0;
  auto status = write(fmt::format("record that {} switched on", u.device), [&]() -> Status {
    SQLite::Statement st(*db_,
                         "INSERT INTO usage (device, capability, session_start, on_at, off_at, "
                         "intent, ended_by) VALUES (?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, u.device);
    st.bind(2, u.capability);
    st.bind(3, to_ms(u.session_start));
    st.bind(4, to_ms(u.on_at));
    bind_optional_time(st, 5, u.off_at);
    st.bind(6, u.intent);
    st.bind(7, u.ended_by);
    st.exec();
    id = db_->getLastInsertRowid();
    return Ok{};
  });
  if (!status) return status.error();
  return id;
}

Status SqliteStore::update_usage(const UsageRecord& u) {
  return write(fmt::format("record that {} switched off", u.device), [&]() -> Status {
    SQLite::Statement st(*db_,
                         "UPDATE usage SET session_start = ?, on_at = ?, off_at = ?, "
                         "ended_by = ? WHERE id = ?");
    st.bind(1, to_ms(u.session_start));
    st.bind(2, to_ms(u.on_at));
    // An end before the start is a clock gone backwards: it ends as it began.
    std::optional<TimePoint> off = u.off_at;
    if (off) off = std::max(*off, u.on_at);
    bind_optional_time(st, 3, off);
    st.bind(4, u.ended_by);
    st.bind(5, u.id);
    if (st.exec() == 0)
      return Error{"unknown_usage", fmt::format("there is no usage record {}", u.id), 404};
    return Ok{};
  });
}

Expected<std::vector<UsageRecord>> SqliteStore::usage_since(TimePoint since) {
  try {
    SQLite::Statement st(*db_,
                         "SELECT id, device, capability, session_start, on_at, off_at, "
                         "intent, ended_by FROM usage WHERE off_at IS NULL OR off_at >= ? "
                         "ORDER BY on_at, id");
    st.bind(1, to_ms(since));
    std::vector<UsageRecord> out;
    while (st.executeStep()) {
      UsageRecord u;
      u.id = st.getColumn(0).getInt64();
      u.device = st.getColumn(1).getString();
      u.capability = st.getColumn(2).getString();
      u.session_start = from_ms(st.getColumn(3).getInt64());
      u.on_at = from_ms(st.getColumn(4).getInt64());
      if (!st.isColumnNull(5)) u.off_at = from_ms(st.getColumn(5).getInt64());
      u.intent = st.getColumn(6).getString();
      u.ended_by = st.getColumn(7).getString();
      out.push_back(std::move(u));
    }
    return out;
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot read when devices were on: {}", e.what()));
  }
}

namespace {

constexpr const char* kSleepColumns = "SELECT id, room, kind, at, note, source FROM sleep_log ";

Expected<std::vector<SleepEntry>> read_sleep_entries(SQLite::Statement& st) {
  std::vector<SleepEntry> out;
  while (st.executeStep()) {
    SleepEntry e;
    e.id = st.getColumn(0).getInt64();
    e.room = st.getColumn(1).getString();
    const std::string kind = st.getColumn(2).getString();
    const auto parsed = parse_sleep_kind(kind);
    if (!parsed)
      return store_error(fmt::format("sleep log entry {} has an unknown kind \"{}\"", e.id, kind));
    e.kind = *parsed;
    e.at = from_ms(st.getColumn(3).getInt64());
    e.note = st.getColumn(4).getString();
    e.source = st.getColumn(5).getString();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

Expected<std::int64_t> SqliteStore::add_sleep_entry(const SleepEntry& entry) {
  std::int64_t id = 0;
  auto status = write(fmt::format("record the {} entry in the sleep log of room {}",
                                  sleep_kind_name(entry.kind), entry.room),
                      [&]() -> Status {
                        SQLite::Statement st(*db_,
                                             "INSERT INTO sleep_log (room, kind, at, note, source) "
                                             "VALUES (?, ?, ?, ?, ?)");
                        st.bind(1, entry.room);
                        st.bind(2, std::string(sleep_kind_name(entry.kind)));
                        st.bind(3, to_ms(entry.at));
                        st.bind(4, entry.note);
                        st.bind(5, entry.source);
                        st.exec();
                        id = db_->getLastInsertRowid();
                        return Ok{};
                      });
  if (!status) return status.error();
  return id;
}

Expected<std::vector<SleepEntry>> SqliteStore::sleep_entries(const SleepQuery& query) {
  try {
    std::string sql = std::string(kSleepColumns) + "WHERE at >= :from AND at < :to ";
    if (query.room) sql += "AND room = :room ";
    sql += "ORDER BY at, id LIMIT :limit";
    SQLite::Statement st(*db_, sql);
    st.bind(":from", to_ms(query.from));
    st.bind(":to", to_ms(query.to));
    if (query.room) st.bind(":room", *query.room);
    st.bind(":limit", limit_param(query.limit));
    return read_sleep_entries(st);
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot read the sleep log: {}", e.what()));
  }
}

Expected<std::optional<SleepEntry>> SqliteStore::last_wake_up(std::string_view room) {
  try {
    SQLite::Statement st(*db_, std::string(kSleepColumns) +
                                   "WHERE room = ? AND kind = 'awake' ORDER BY at DESC, id DESC "
                                   "LIMIT 1");
    st.bind(1, std::string(room));
    auto entries = read_sleep_entries(st);
    if (!entries) return entries.error();
    if (entries->empty()) return std::optional<SleepEntry>{};
    return std::optional<SleepEntry>{std::move(entries->front())};
  } catch (const std::exception& e) {
    return store_error(
        fmt::format("cannot read the last wake-up of room {}: {}", std::string(room), e.what()));
  }
}

// --- schedules (ScheduleStore) -----------------------------------------------

Expected<std::optional<std::vector<schedule::Schedule>>> SqliteStore::schedules(
    std::string_view room) {
  using Result = std::optional<std::vector<schedule::Schedule>>;
  try {
    SQLite::Statement st(*db_, "SELECT list FROM schedules WHERE room = ?");
    st.bind(1, std::string(room));
    if (!st.executeStep()) return Result{};
    const std::string text = st.getColumn(0).getString();
    auto body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    auto list = schedule::schedules_body_from_json(body);
    if (!list)
      return store_error(fmt::format("the stored schedules of room {} are unreadable: {}",
                                     std::string(room), list.error().message));
    return Result{std::move(*list)};
  } catch (const std::exception& e) {
    return store_error(
        fmt::format("cannot read the schedules of room {}: {}", std::string(room), e.what()));
  }
}

Status SqliteStore::set_schedules(std::string_view room,
                                  const std::vector<schedule::Schedule>& list) {
  return write(fmt::format("save the schedules of room {}", std::string(room)), [&]() -> Status {
    SQLite::Statement st(*db_,
                         "INSERT INTO schedules (room, list) VALUES (?, ?) "
                         "ON CONFLICT (room) DO UPDATE SET list = excluded.list");
    st.bind(1, std::string(room));
    st.bind(2, schedule::to_json(list).dump());
    st.exec();
    return Ok{};
  });
}

Expected<SchedulerMark> SqliteStore::scheduler_mark(std::string_view room) {
  try {
    SchedulerMark mark;
    SQLite::Statement checked(*db_, "SELECT at FROM schedule_checked WHERE room = ?");
    checked.bind(1, std::string(room));
    if (checked.executeStep()) mark.last_checked = from_ms(checked.getColumn(0).getInt64());
    SQLite::Statement fired(*db_, "SELECT schedule, at FROM schedule_fired WHERE room = ?");
    fired.bind(1, std::string(room));
    while (fired.executeStep())
      mark.last_fired[fired.getColumn(0).getString()] = from_ms(fired.getColumn(1).getInt64());
    return mark;
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot read where the schedules of room {} stand: {}",
                                   std::string(room), e.what()));
  }
}

Status SqliteStore::save_scheduler_mark(
    std::string_view room, TimePoint checked,
    const std::map<std::string, TimePoint, std::less<>>& fired) {
  return write(fmt::format("save where the schedules of room {} stand", std::string(room)),
               [&]() -> Status {
                 SQLite::Transaction tx(*db_);
                 SQLite::Statement c(*db_,
                                     "INSERT INTO schedule_checked (room, at) VALUES (?, ?) "
                                     "ON CONFLICT (room) DO UPDATE SET at = excluded.at");
                 c.bind(1, std::string(room));
                 c.bind(2, to_ms(checked));
                 c.exec();
                 for (const auto& [id, at] : fired) {
                   SQLite::Statement f(*db_,
                                       "INSERT INTO schedule_fired (room, schedule, at) "
                                       "VALUES (?, ?, ?) ON CONFLICT (room, schedule) "
                                       "DO UPDATE SET at = excluded.at");
                   f.bind(1, std::string(room));
                   f.bind(2, id);
                   f.bind(3, to_ms(at));
                   f.exec();
                 }
                 tx.commit();
                 return Ok{};
               });
}

Status SqliteStore::add_schedule_skip(const ScheduleSkip& skip) {
  return write(fmt::format("record a skipped {} trigger in room {}", skip.schedule, skip.room),
               [&]() -> Status {
                 SQLite::Statement st(*db_,
                                      "INSERT INTO schedule_skips (at, room, schedule, routine, "
                                      "reason) VALUES (?, ?, ?, ?, ?)");
                 st.bind(1, to_ms(skip.at));
                 st.bind(2, skip.room);
                 st.bind(3, skip.schedule);
                 st.bind(4, skip.routine);
                 st.bind(5, skip.reason);
                 st.exec();
                 return Ok{};
               });
}

Expected<std::vector<ScheduleSkip>> SqliteStore::schedule_skips(std::string_view room,
                                                                std::size_t limit) {
  try {
    SQLite::Statement st(*db_,
                         "SELECT at, room, schedule, routine, reason FROM schedule_skips "
                         "WHERE room = ? ORDER BY id DESC LIMIT ?");
    st.bind(1, std::string(room));
    st.bind(2, limit_param(limit));
    std::vector<ScheduleSkip> out;
    while (st.executeStep())
      out.push_back(ScheduleSkip{from_ms(st.getColumn(0).getInt64()), st.getColumn(1).getString(),
                                 st.getColumn(2).getString(), st.getColumn(3).getString(),
                                 st.getColumn(4).getString()});
    return out;
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot read the skipped triggers of room {}: {}",
                                   std::string(room), e.what()));
  }
}

Expected<std::optional<TimePoint>> SqliteStore::last_wake_time(std::string_view room) {
  // The sleep log's own query: one definition of "the last wake-up".
  auto entry = last_wake_up(room);
  if (!entry) return entry.error();
  if (!*entry) return std::optional<TimePoint>{};
  return std::optional<TimePoint>{(*entry)->at};
}

Expected<std::string> SqliteStore::integrity_check() {
  try {
    SQLite::Statement st(*db_, "PRAGMA integrity_check");
    std::string report;
    while (st.executeStep()) {
      if (!report.empty()) report += '\n';
      report += st.getColumn(0).getString();
    }
    return report;
  } catch (const std::exception& e) {
    return store_error(
        fmt::format("cannot check the integrity of the database {}: {}", path_.string(), e.what()));
  }
}

Status SqliteStore::checkpoint() {
  try {
    // One row: busy (1 when a reader kept it from finishing), WAL frames,
    // frames checkpointed.
    SQLite::Statement st(*db_, "PRAGMA wal_checkpoint(TRUNCATE)");
    if (st.executeStep() && st.getColumn(0).getInt() != 0) {
      return store_error(fmt::format(
          "cannot checkpoint the database {}: another connection is using it", path_.string()));
    }
    return Ok{};
  } catch (const std::exception& e) {
    return store_error(
        fmt::format("cannot checkpoint the database {}: {}", path_.string(), e.what()));
  }
}

}  // namespace nursery
