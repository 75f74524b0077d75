#include "daemon/sleep_log/sleep_log_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "config/text.hpp"
#include "config/values.hpp"
#include "daemon/api_json/api_json.hpp"
#include "daemon/schedule/civil_time.hpp"
#include "daemon/schedule/time_text.hpp"

namespace nursery::sleep_log {

namespace {

using nlohmann::json;

Error invalid_value(std::string message) { return Error{"invalid_value", std::move(message), 400}; }

// Why a note cannot be kept, or nullopt: at most kSleepNoteMaxChars code
// points of valid UTF-8, nothing unprintable (a note is shown on one line
// in logs and in the CLI; a spreadsheet gets it quoted).
std::optional<std::string> check_note(std::string_view note) {
  std::size_t chars = 0;
  for (std::size_t at = 0; at < note.size();) {
    const Utf8Step step = decode_utf8(note, at);
    if (step.length == 0) return "note is not valid UTF-8";
    if (is_unprintable(step.code_point))
      return "note must be printable text on one line (no control characters or line breaks)";
    at += step.length;
    ++chars;
  }
  if (chars > kSleepNoteMaxChars)
    return fmt::format("note is {} characters long; at most {} are kept", chars,
                       kSleepNoteMaxChars);
  return std::nullopt;
}

// A client's value in a message: enough of it to recognise.
std::string dump_json_text(const json& value) {
  std::string text = dump_json(value);
  return text.size() <= 64 ? text : text.substr(0, 64) + "...";
}

json time_or_null(const std::optional<TimePoint>& t) {
  return t ? json(format_utc(*t)) : json(nullptr);
}

json local_or_null(const date::time_zone& zone, const std::optional<TimePoint>& t) {
  return t ? json(schedule::format_local(zone, *t)) : json(nullptr);
}

// Minutes to a tenth: what a parent reads, and what a test can compare.
json minutes_or_null(const std::optional<double>& m) {
  return m ? json(std::round(*m * 10.0) / 10.0) : json(nullptr);
}

json minutes_or_null(const std::optional<Duration>& d) {
  if (!d) return nullptr;
  return minutes_or_null(std::optional<double>(static_cast<double>(d->count()) / 60000.0));
}

std::string csv_field(std::string_view text) {
  std::string value(text);
  if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@'))
    value.insert(value.begin(), '\'');
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

}  // namespace

Expected<SleepEntryRequest> parse_entry_request(const json& body) {
  if (!body.is_object())
    return Error{"invalid_request",
                 "the body must be a JSON object like {\"kind\":\"asleep\",\"at\":\"…Z\"}", 400};
  SleepEntryRequest out;
  bool has_kind = false;
  for (const auto& [key, value] : body.items()) {
    if (key == "kind") {
      const auto kind = value.is_string() ? parse_sleep_kind(value.get<std::string>())
                                          : std::optional<SleepKind>{};
      if (!kind)
        return invalid_value(fmt::format("kind must be \"asleep\", \"awake\" or \"waking\", got {}",
                                         dump_json_text(value)));
      out.kind = *kind;
      has_kind = true;
    } else if (key == "at") {
      const auto at = value.is_string() ? schedule::parse_instant(value.get<std::string>())
                                        : std::optional<TimePoint>{};
      if (!at)
        return invalid_value(fmt::format(
            "at must be an ISO 8601 time with its zone, like \"2026-12-01T19:45:00Z\" or "
            "\"2026-12-01T19:45:00+01:00\", got {}",
            dump_json_text(value)));
      out.at = *at;
    } else if (key == "note") {
      if (!value.is_string())
        return invalid_value(fmt::format("note must be a string, got {}", dump_json_text(value)));
      auto note = value.get<std::string>();
      if (auto why = check_note(note)) return invalid_value(*why);
      out.note = std::move(note);
    } else if (key == "room") {
      if (!value.is_string())
        return invalid_value(fmt::format("room must be a room id, got {}", dump_json_text(value)));
      auto room = value.get<std::string>();
      if (auto why = check_id("room id", room)) return invalid_value(*why);
      out.room = std::move(room);
    } else {
      return Error{"invalid_request",
                   fmt::format("unknown key \"{}\": a sleep-log entry has kind, at, note and room",
                               key.size() <= 64 ? key : key.substr(0, 64) + "..."),
                   400};
    }
  }
  if (!has_kind)
    return Error{"invalid_request", "kind is required: \"asleep\", \"awake\" or \"waking\"", 400};
  return out;
}

json to_json(const SleepEntry& e, const date::time_zone& zone) {
  return json{{"id", e.id},
              {"room", e.room},
              {"kind", std::string(sleep_kind_name(e.kind))},
              {"at", format_utc(e.at)},
              {"local", schedule::format_local(zone, e.at)},
              {"note", e.note},
              {"source", e.source}};
}

json to_json(const Night& n, const date::time_zone& zone) {
  return json{{"room", n.room},
              {"date", date::format("%F", date::sys_days{n.date})},
              {"bedtime", format_utc(n.start)},
              {"bedtime_local", schedule::format_local(zone, n.start)},
              {"bedtime_run", n.bedtime_run ? json(*n.bedtime_run) : json(nullptr)},
              {"asleep_at", time_or_null(n.asleep_at)},
              {"asleep_local", local_or_null(zone, n.asleep_at)},
              {"time_to_sleep_minutes", minutes_or_null(n.time_to_sleep())},
              {"wakings", n.wakings},
              {"woke_at", time_or_null(n.woke_at)},
              {"woke_local", local_or_null(zone, n.woke_at)},
              {"night_length_minutes", minutes_or_null(n.length())}};
}

json log_json(const SleepLogData& log, TimePoint from, TimePoint to, const date::time_zone& zone) {
  json entries = json::array();
  for (const auto& e : log.entries) entries.push_back(to_json(e, zone));
  json runs = json::array();
  for (const auto& r : log.runs)
    runs.push_back(
        json{{"id", r.id},
             {"room", r.room},
             {"routine", r.routine},
             {"started_at", format_utc(r.started_at)},
             {"started_local", schedule::format_local(zone, r.started_at)},
             {"ended_at", time_or_null(r.ended_at)},
             {"ended_local", local_or_null(zone, r.ended_at)},
             {"outcome", r.outcome ? json(std::string(outcome_name(*r.outcome))) : json(nullptr)}});
  json nights = json::array();
  for (const auto& n : assemble_nights(log, zone)) nights.push_back(to_json(n, zone));
  return json{{"from", format_utc(from)},   {"to", format_utc(to)},
              {"time_zone", log.time_zone}, {"entries", std::move(entries)},
              {"runs", std::move(runs)},    {"nights", std::move(nights)}};
}

json to_json(const Summary& s, const date::time_zone& zone) {
  json per_night = json::array();
  for (const auto& n : s.nights) per_night.push_back(to_json(n, zone));
  json mean_bedtime = nullptr;
  if (s.mean_bedtime) {
    const auto m = std::chrono::duration_cast<std::chrono::minutes>(*s.mean_bedtime).count();
    mean_bedtime = fmt::format("{:02}:{:02}", (m / 60) % 24, m % 60);
  }
  return json{{"room", s.room},
              {"days", s.days},
              {"nights", static_cast<int>(s.nights.size())},
              {"bedtime_sd_minutes", minutes_or_null(s.bedtime_sd_minutes)},
              {"mean_bedtime", mean_bedtime},
              {"mean_time_to_sleep_minutes", minutes_or_null(s.mean_time_to_sleep_minutes)},
              {"wakings_per_night", s.wakings_per_night
                                        ? json(std::round(*s.wakings_per_night * 100.0) / 100.0)
                                        : json(nullptr)},
              {"mean_night_length_minutes", minutes_or_null(s.mean_night_length_minutes)},
              {"next_sleep",
               json{{"at", time_or_null(s.next_sleep)},
                    {"local", local_or_null(zone, s.next_sleep)},
                    {"last_wake_up", time_or_null(s.last_wake_up)},
                    {"wake_window", s.wake_window ? json(schedule::format_duration(*s.wake_window))
                                                  : json(nullptr)},
                    {"reason", s.next_sleep_reason}}},
              {"per_night", std::move(per_night)}};
}

std::string log_csv(const SleepLogData& log, const date::time_zone& zone) {
  struct Row {
    TimePoint at;
    int order;  // entries before runs at the same instant, then by id
    std::int64_t id;
    std::string line;
  };
  std::vector<Row> rows;
  for (const auto& e : log.entries)
    rows.push_back({e.at, 0, e.id,
                    fmt::format("{},{},{},entry,{},,,,{},{}", format_utc(e.at),
                                schedule::format_local(zone, e.at), csv_field(e.room),
                                sleep_kind_name(e.kind), csv_field(e.note), csv_field(e.source))});
  for (const auto& r : log.runs)
    rows.push_back({r.started_at, 1, r.id,
                    fmt::format("{},{},{},run,,{},{},{},,", format_utc(r.started_at),
                                schedule::format_local(zone, r.started_at), csv_field(r.room),
                                csv_field(r.routine),
                                r.outcome ? outcome_name(*r.outcome) : std::string_view{},
                                r.ended_at ? format_utc(*r.ended_at) : std::string{})});
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.at, a.order, a.id) < std::tie(b.at, b.order, b.id);
  });
  std::string out = "at,local,room,record,kind,routine,outcome,ended_at,note,source\r\n";
  for (const auto& row : rows) out += row.line + "\r\n";
  return out;
}

}  // namespace nursery::sleep_log
