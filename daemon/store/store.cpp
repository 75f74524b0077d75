// RunStore on SQLite. Every public method catches everything SQLiteCpp (or
// the JSON of a run's pauses) can throw and turns it into an Error: the loop
// must never be unwound by a failing disk.
#include "daemon/store/store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

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
};

constexpr int kLatestVersion = static_cast<int>(std::size(kMigrations));

constexpr const char* kRunColumns =
    "SELECT id, room, routine, started_at, skipped_ms, pauses, ended_at, outcome FROM runs ";

Error store_error(std::string message) { return Error{"store_error", std::move(message), 500}; }

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
                         int previous_schema_version)
    : db_(std::move(db)),
      path_(std::move(path)),
      previous_schema_version_(previous_schema_version) {}

SqliteStore::~SqliteStore() = default;

Expected<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::filesystem::path& file) {
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

  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(db), file, found));
}

Expected<std::int64_t> SqliteStore::begin_run(const RunRecord& run) {
  try {
    SQLite::Statement st(*db_,
                         "INSERT INTO runs (room, routine, started_at, skipped_ms, pauses, "
                         "ended_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)");
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
    return std::int64_t{db_->getLastInsertRowid()};
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot record the start of the {} run in room {}: {}",
                                   run.routine, run.room, e.what()));
  }
}

Status SqliteStore::update_run(const RunRecord& run) {
  try {
    SQLite::Statement st(*db_,
                         "UPDATE runs SET skipped_ms = ?, pauses = ?, started_at = ? WHERE id = ?");
    st.bind(1, static_cast<std::int64_t>(run.skipped.count()));
    st.bind(2, encode_pauses(run.pauses));
    st.bind(3, to_ms(run.started_at));
    st.bind(4, run.id);
    if (st.exec() == 0) {
      return Error{"unknown_run", fmt::format("there is no run {} to update", run.id), 404};
    }
    return Ok{};
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot save the progress of run {}: {}", run.id, e.what()));
  }
}

Status SqliteStore::end_run(std::int64_t id, TimePoint ended_at, Outcome outcome) {
  try {
    SQLite::Statement st(*db_,
                         "UPDATE runs SET ended_at = ?, outcome = ? "
                         "WHERE id = ? AND ended_at IS NULL");
    st.bind(1, to_ms(ended_at));
    st.bind(2, std::string(outcome_name(outcome)));
    st.bind(3, id);
    if (st.exec() == 0) {
      return Error{"unknown_run", fmt::format("there is no open run {} to end", id), 404};
    }
    return Ok{};
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot record the end of run {}: {}", id, e.what()));
  }
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
    std::string sql = kRunColumns;
    if (query.room) sql += "WHERE room = :room ";
    if (query.routine) sql += query.room ? "AND routine = :routine " : "WHERE routine = :routine ";
    sql += "ORDER BY started_at DESC, id DESC LIMIT :limit";
    SQLite::Statement st(*db_, sql);
    if (query.room) st.bind(":room", *query.room);
    if (query.routine) st.bind(":routine", *query.routine);
    st.bind(":limit", limit_param(query.limit));
    return read_runs(st);
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot read the recent runs: {}", e.what()));
  }
}

Status SqliteStore::add_event(const EventRecord& event) {
  try {
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
  } catch (const std::exception& e) {
    return store_error(
        fmt::format("cannot record the {} event in room {}: {}", event.kind, event.room, e.what()));
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
  try {
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
    return std::int64_t{db_->getLastInsertRowid()};
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot record that {} switched on: {}", u.device, e.what()));
  }
}

Status SqliteStore::update_usage(const UsageRecord& u) {
  try {
    SQLite::Statement st(*db_,
                         "UPDATE usage SET session_start = ?, on_at = ?, off_at = ?, "
                         "ended_by = ? WHERE id = ?");
    st.bind(1, to_ms(u.session_start));
    st.bind(2, to_ms(u.on_at));
    bind_optional_time(st, 3, u.off_at);
    st.bind(4, u.ended_by);
    st.bind(5, u.id);
    if (st.exec() == 0)
      return Error{"unknown_usage", fmt::format("there is no usage record {}", u.id), 404};
    return Ok{};
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot record that {} switched off: {}", u.device, e.what()));
  }
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

Expected<std::optional<TimePoint>> SqliteStore::latest_time() {
  try {
    SQLite::Statement st(*db_,
                         "SELECT max(coalesce((SELECT max(max(started_at, coalesce(ended_at, 0))) "
                         "FROM runs), 0), coalesce((SELECT max(at) FROM events), 0), "
                         "coalesce((SELECT max(max(on_at, coalesce(off_at, 0))) FROM usage), 0))");
    std::optional<TimePoint> latest;
    if (st.executeStep() && st.getColumn(0).getInt64() > 0)
      latest = from_ms(st.getColumn(0).getInt64());
    // Pauses live in the runs' JSON; an open run's last pause bound counts too.
    auto open = open_runs();
    if (open)
      for (const auto& run : *open)
        for (const auto& p : run.pauses) {
          latest = std::max(latest.value_or(p.from), p.from);
          if (p.to) latest = std::max(*latest, *p.to);
        }
    return latest;
  } catch (const std::exception& e) {
    return store_error(fmt::format("cannot read the latest stored time: {}", e.what()));
  }
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
