#pragma once
// The sleep log as every surface shows it: the POST body parsed and checked,
// the log as JSON and CSV, the summary as JSON. Times are ISO 8601 UTC ("Z")
// with a "…_local" twin in the hub's zone ("2026-12-01T19:30:00+00:00").
// Pure functions: any thread; none of them throws.

#include <date/tz.h>

#include <nlohmann/json.hpp>
#include <string>

#include "daemon/expected.hpp"
#include "daemon/hub_api.hpp"
#include "daemon/sleep_log/night.hpp"

namespace nursery::sleep_log {

// {"kind":"asleep|awake|waking","at":ISO 8601 (optional),"note":text
// (optional, at most kSleepNoteMaxChars characters of printable UTF-8),
// "room":id (optional)}. Errors: "invalid_request" (400) for a body that is
// not an object, an unknown key or no kind; "invalid_value" (400) for a
// kind, time, note or room that is not what it must be.
Expected<SleepEntryRequest> parse_entry_request(const nlohmann::json& body);

// {"id","room","kind","at","local","note","source"}
nlohmann::json to_json(const SleepEntry& entry, const date::time_zone& zone);
// {"room","date","bedtime","bedtime_local","bedtime_run","asleep_at","asleep_local",
//  "time_to_sleep_minutes","wakings","woke_at","woke_local","night_length_minutes"};
// null where the log does not tell.
nlohmann::json to_json(const Night& night, const date::time_zone& zone);
// {"from","to","time_zone","entries":[…],"runs":[{"id","room","routine",
//  "started_at","started_local","ended_at","ended_local","outcome"}],"nights":[…]}
nlohmann::json log_json(const SleepLogData& log, TimePoint from, TimePoint to,
                        const date::time_zone& zone);
// {"room","days","nights":N,"bedtime_sd_minutes","mean_bedtime":"19:34",
//  "mean_time_to_sleep_minutes","wakings_per_night","mean_night_length_minutes",
//  "next_sleep":{"at","local","last_wake_up","wake_window","reason"},"per_night":[…]}
nlohmann::json to_json(const Summary& summary, const date::time_zone& zone);

// The log as CSV (RFC 4180, CRLF line ends): a header, then one row per
// entry and per run, in time order:
//   at,local,room,record,kind,routine,outcome,ended_at,note,source
// `record` is "entry" or "run". A field with a comma, quote or line break is
// quoted (quotes doubled); a note a spreadsheet would take for a formula
// (=, +, -, @ first) is written with a leading apostrophe.
std::string log_csv(const SleepLogData& log, const date::time_zone& zone);

}  // namespace nursery::sleep_log
