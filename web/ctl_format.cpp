#include "ctl_format.hpp"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>
#include <vector>

#include "daemon/api_json/api_json.hpp"

namespace nursery {
namespace {

using nlohmann::json;

const json* field(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string text(const json& object, std::string_view key, std::string_view fallback = "?") {
  const json* value = field(object, key);
  if (!value || value->is_null()) return std::string(fallback);
  if (value->is_string()) return value->get<std::string>();
  return dump_json(*value);
}

std::optional<double> number(const json& object, std::string_view key) {
  const json* value = field(object, key);
  if (!value || !value->is_number()) return std::nullopt;
  return value->get<double>();
}

std::optional<bool> boolean(const json& object, std::string_view key) {
  const json* value = field(object, key);
  if (!value || !value->is_boolean()) return std::nullopt;
  return value->get<bool>();
}

const json& array_or_empty(const json& object, std::string_view key) {
  static const json empty = json::array();
  const json* value = field(object, key);
  return value && value->is_array() ? *value : empty;
}

std::string percent(double fraction) {
  double p = fraction * 100.0;
  if (std::abs(p - std::round(p)) < 0.05) return fmt::format("{:.0f}%", p);
  return fmt::format("{:.1f}%", p);
}

std::string joined(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

// Rows in columns two spaces apart, each line after `indent`.
std::string table(const std::vector<std::vector<std::string>>& rows, std::string_view indent = "") {
  std::vector<std::size_t> width;
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], row[c].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line(indent);
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();  // an empty last cell
    out += line + "\n";
  }
  return out;
}

}  // namespace

std::string format_time(std::string_view iso_utc, std::string_view time_zone,
                        std::string_view pattern) {
  std::istringstream in{std::string(iso_utc)};
  date::sys_time<std::chrono::milliseconds> parsed;
  in >> date::parse("%FT%TZ", parsed);
  if (in.fail()) return std::string(iso_utc);
  auto seconds = std::chrono::floor<std::chrono::seconds>(parsed);
  std::string with_zone = std::string(pattern) + " %Z";
  if (!time_zone.empty()) {
    try {
      return date::format(with_zone, date::make_zoned(std::string(time_zone), seconds));
    } catch (const std::exception&) {
      // An unknown zone (or no tz database): fall back to UTC.
    }
  }
  return date::format(std::string(pattern) + " UTC", seconds);
}

namespace {
std::string format_flat_values(const nlohmann::json& values) {
  std::vector<std::string> parts;
  if (auto on = boolean(values, "on")) parts.push_back(*on ? "on" : "off");
  if (auto b = number(values, "brightness")) parts.push_back("brightness " + percent(*b));
  if (auto k = number(values, "color_temp")) parts.push_back(fmt::format("{:.0f} K", *k));
  if (field(values, "track")) parts.push_back(text(values, "track"));
  if (auto v = number(values, "volume")) parts.push_back("volume " + percent(*v));
  if (field(values, "pattern")) parts.push_back(text(values, "pattern"));
  if (auto i = number(values, "intensity")) parts.push_back("intensity " + percent(*i));
  if (parts.empty()) return "no state reported";
  return joined(parts, ", ");
}
}  // namespace

std::string format_values(const nlohmann::json& values) {
  // A device with several capabilities reports one object per capability.
  std::vector<std::string> groups;
  for (std::string_view capability : {"light", "sound", "massager"})
    if (const json* sub = field(values, capability); sub && sub->is_object())
      groups.push_back(fmt::format("{} {}", capability, format_flat_values(*sub)));
  if (!groups.empty()) return joined(groups, "; ");
  return format_flat_values(values);
}

std::string format_routine_line(std::string_view room_label, const nlohmann::json& routine,
                                std::string_view time_zone) {
  std::string state = text(routine, "state");
  if (state == "idle") return fmt::format("{}: idle", room_label);
  std::string line = fmt::format("{}: {} {}", room_label, text(routine, "routine"), state);
  auto index = number(routine, "step_index");
  auto count = number(routine, "step_count");
  if (index && count && *count > 0)
    line += fmt::format(", step {:.0f} of {:.0f}", *index + 1, *count);
  if (const json* ends = field(routine, "ends_at"); ends && ends->is_string())
    line += ", ends " + format_time(ends->get<std::string>(), time_zone);
  return line;
}

std::string format_status(const nlohmann::json& status) {
  static const json no_object = json::object();
  const json* hub_field = field(status, "hub");
  const json& hub = hub_field ? *hub_field : no_object;
  std::string zone = text(hub, "time_zone", "");
  std::string out = fmt::format("{} (nurseryd {}), {}\n", text(hub, "name"), text(hub, "version"),
                                format_time(text(hub, "now"), zone));
  const json& rooms = array_or_empty(status, "rooms");
  if (rooms.empty()) out += "No rooms configured.\n";
  for (const auto& room : rooms) {
    std::string label = text(room, "name", "");
    if (label.empty()) label = text(room, "id");
    const json* routine = field(room, "routine");
    out += format_routine_line(label, routine ? *routine : no_object, zone);
    if (boolean(room, "night").value_or(false)) out += " (night limits)";
    out += "\n";
    if (const json* next = field(room, "next_trigger"); next && next->is_object())
      out += fmt::format("  next: {} {} ({}, {})\n", text(*next, "routine"),
                         format_time(text(*next, "at"), zone, "%a %Y-%m-%d %H:%M"),
                         text(*next, "schedule"), text(*next, "reason"));
    for (const auto& device : array_or_empty(room, "devices")) {
      std::vector<std::string> caps;
      for (const auto& c : array_or_empty(device, "capabilities"))
        if (c.is_string()) caps.push_back(c.get<std::string>());
      const json* state = field(device, "state");
      std::string line = fmt::format("  {} ({}): {}", text(device, "name"), joined(caps, ", "),
                                     format_values(state ? *state : no_object));
      if (!boolean(device, "available").value_or(true)) {
        line += "; " + text(device, "availability", "unavailable");
        if (const json* why = field(device, "availability_reason"); why && why->is_string())
          line += " (" + why->get<std::string>() + ")";
      }
      if (auto battery = number(device, "battery"))
        line += fmt::format("; battery {:.0f}%", *battery);
      if (boolean(device, "overridden").value_or(false))
        line += "; manual override until the next step";
      out += line + "\n";
    }
  }
  return out;
}

namespace {

// table() for rows of a fixed width.
template <std::size_t N>
std::string format_table(const std::vector<std::array<std::string, N>>& rows) {
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size());
  for (const auto& row : rows) cells.emplace_back(row.begin(), row.end());
  return table(cells);
}

// "45 min", "10h 5m"; "-" when unknown.
std::string minutes_text(const json& object, std::string_view key) {
  const auto m = number(object, key);
  if (!m) return "-";
  const long total = std::lround(*m);
  if (total < 60) return fmt::format("{} min", total);
  return fmt::format("{}h {:02}m", total / 60, total % 60);
}

std::string local_or_dash(const json& object, std::string_view key, std::string_view time_zone,
                          std::string_view pattern) {
  const json* value = field(object, key);
  if (!value || !value->is_string()) return "-";
  return format_time(value->get<std::string>(), time_zone, pattern);
}

std::string nights_table(const json& nights, std::string_view time_zone) {
  using Row = std::array<std::string, 6>;
  std::vector<Row> rows{{"NIGHT", "BEDTIME", "ASLEEP", "TO SLEEP", "WAKINGS", "WOKE (LENGTH)"}};
  for (const auto& n : nights) {
    std::string woke = local_or_dash(n, "woke_at", time_zone, "%H:%M");
    if (woke != "-") woke += " (" + minutes_text(n, "night_length_minutes") + ")";
    rows.push_back({text(n, "date"), local_or_dash(n, "bedtime", time_zone, "%H:%M"),
                    local_or_dash(n, "asleep_at", time_zone, "%H:%M"),
                    minutes_text(n, "time_to_sleep_minutes"), text(n, "wakings"), woke});
  }
  return format_table(rows);
}

}  // namespace

std::string format_runs(const nlohmann::json& runs, std::string_view time_zone) {
  const json& list = array_or_empty(runs, "runs");
  if (list.empty()) return "No runs yet.\n";
  std::vector<std::vector<std::string>> rows{
      {"ID", "ROOM", "ROUTINE", "STARTED", "ENDED", "OUTCOME"}};
  for (const auto& run : list) {
    const json* ended = field(run, "ended_at");
    bool open = !ended || !ended->is_string();
    rows.push_back(
        {text(run, "id"), text(run, "room"), text(run, "routine"),
         format_time(text(run, "started_at"), time_zone, "%Y-%m-%d %H:%M:%S"),
         open ? "-" : format_time(ended->get<std::string>(), time_zone, "%Y-%m-%d %H:%M:%S"),
         open ? "running" : text(run, "outcome")});
  }
  return table(rows);
}

std::string format_schedules(std::string_view room_label, const nlohmann::json& schedules) {
  const json& list = array_or_empty(schedules, "schedules");
  if (list.empty()) return fmt::format("{}: no schedules\n", room_label);
  std::vector<std::vector<std::string>> rows{{"ID", "ROUTINE", "DAYS", "WHEN", "GRACE", "STATE"}};
  for (const auto& s : list) {
    std::vector<std::string> days;
    for (const auto& d : array_or_empty(s, "days"))
      if (d.is_string()) days.push_back(d.get<std::string>());
    std::string when;
    if (field(s, "at"))
      when = "at " + text(s, "at");
    else if (field(s, "sun"))
      when = text(s, "sun") + (field(s, "offset") ? " " + text(s, "offset") : "");
    else if (boolean(s, "wake_window").value_or(false))
      when = "wake window";
    if (field(s, "not_before")) when += ", not before " + text(s, "not_before");
    if (field(s, "not_after")) when += ", not after " + text(s, "not_after");
    rows.push_back({text(s, "id"), text(s, "routine"),
                    days.size() == 7 ? "daily" : joined(days, ","), when, text(s, "grace"),
                    boolean(s, "enabled").value_or(true) ? "enabled" : "disabled"});
  }
  return fmt::format("{}: {} schedule{}\n", room_label, list.size(), list.size() == 1 ? "" : "s") +
         table(rows, "  ");
}

std::string format_triggers(std::string_view room_label, const nlohmann::json& plan,
                            std::string_view time_zone) {
  const json& triggers = array_or_empty(plan, "triggers");
  std::string out;
  if (triggers.empty()) {
    out = fmt::format("{}: no schedule will start anything\n", room_label);
  } else {
    out = fmt::format("{}: next\n", room_label);
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : triggers)
      rows.push_back({format_time(text(t, "at"), time_zone, "%a %Y-%m-%d %H:%M"),
                      text(t, "routine"), text(t, "schedule"), text(t, "reason")});
    out += table(rows, "  ");
  }
  for (const auto& skip : array_or_empty(plan, "skipped"))
    out += fmt::format("  skipped {} {}: {}\n", text(skip, "schedule"), text(skip, "date", ""),
                       text(skip, "reason"));
  return out;
}

std::string format_sleep_entry(const nlohmann::json& entry, std::string_view time_zone) {
  std::string line =
      fmt::format("Logged {} at {} in {}", text(entry, "kind"),
                  format_time(text(entry, "at"), time_zone, "%Y-%m-%d %H:%M"), text(entry, "room"));
  const std::string note = text(entry, "note", "");
  if (!note.empty()) line += fmt::format(" ({})", note);
  return line + "\n";
}

std::string format_sleep_log(const nlohmann::json& log, std::string_view time_zone) {
  const json& nights = array_or_empty(log, "nights");
  const json& entries = array_or_empty(log, "entries");
  const json& runs = array_or_empty(log, "runs");
  if (nights.empty() && entries.empty() && runs.empty())
    return "Nothing in the sleep log for this time.\n";
  std::string out;
  if (!nights.empty()) out += nights_table(nights, time_zone) + "\n";
  // Entries and runs in one list, by time (the ISO 8601 UTC texts sort as times).
  using Row = std::array<std::string, 4>;
  std::vector<std::pair<std::string, Row>> items;
  for (const auto& e : entries)
    items.push_back({text(e, "at"), Row{local_or_dash(e, "at", time_zone, "%Y-%m-%d %H:%M"),
                                        text(e, "room"), text(e, "kind"), text(e, "note", "")}});
  for (const auto& r : runs) {
    std::string what = text(r, "routine") + " " + text(r, "outcome", "running");
    items.push_back(
        {text(r, "started_at"), Row{local_or_dash(r, "started_at", time_zone, "%Y-%m-%d %H:%M"),
                                    text(r, "room"), "run", what}});
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Row> rows{{"WHEN", "ROOM", "WHAT", "NOTE"}};
  for (auto& [at, row] : items) rows.push_back(std::move(row));
  return out + format_table(rows);
}

std::string format_sleep_summary(const nlohmann::json& s, std::string_view time_zone) {
  std::string out = fmt::format("{}: {} night(s) in the last {} days\n", text(s, "room"),
                                text(s, "nights"), text(s, "days"));
  const auto sd = number(s, "bedtime_sd_minutes");
  out += fmt::format("  bedtime         {} on average, {}\n", text(s, "mean_bedtime", "-"),
                     sd ? fmt::format("within ±{:.0f} min (standard deviation)", *sd)
                        : std::string("consistency needs two nights"));
  out += fmt::format("  time to sleep   {} on average\n",
                     minutes_text(s, "mean_time_to_sleep_minutes"));
  const auto wakings = number(s, "wakings_per_night");
  out += fmt::format("  wakings         {} per night\n",
                     wakings ? fmt::format("{:.1f}", *wakings) : std::string("-"));
  out += fmt::format("  night length    {} on average\n",
                     minutes_text(s, "mean_night_length_minutes"));
  static const json none = json::object();
  const json* next = field(s, "next_sleep");
  const json& n = next && next->is_object() ? *next : none;
  const json* at = field(n, "at");
  out += fmt::format(
      "  next sleep      {}\n",
      at && at->is_string()
          ? fmt::format("{} ({})", format_time(at->get<std::string>(), time_zone, "%H:%M"),
                        text(n, "reason"))
          : fmt::format("unknown: {}", text(n, "reason")));
  const json& nights = array_or_empty(s, "per_night");
  if (!nights.empty()) out += "\n" + nights_table(nights, time_zone);
  return out;
}

std::string format_command_result(const nlohmann::json& result) {
  static const json no_object = json::object();
  const json* applied = field(result, "applied");
  std::string out = fmt::format("{} in {}: {}\n", text(result, "device"), text(result, "room"),
                                format_values(applied ? *applied : no_object));
  for (const auto& clamp : array_or_empty(result, "clamped"))
    out += fmt::format("  {} limited from {} to {}: {}\n", text(clamp, "field"),
                       text(clamp, "requested"), text(clamp, "applied"), text(clamp, "reason"));
  return out;
}

std::string server_error_message(int status, const nlohmann::json& body) {
  if (const json* error = field(body, "error"))
    if (const json* message = field(*error, "message"); message && message->is_string())
      return message->get<std::string>();
  return fmt::format("nurseryd answered HTTP {}", status);
}

std::string format_ble_scan(const nlohmann::json& scan) {
  auto text = [](const nlohmann::json& o, const char* key) -> std::string {
    if (!o.is_object()) return "?";
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return "-";
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  const auto devices =
      scan.is_object() ? scan.value("devices", nlohmann::json::array()) : nlohmann::json::array();
  if (!devices.is_array() || devices.empty())
    return fmt::format("No Bluetooth LE device seen in {} s.\n", text(scan, "seconds"));
  std::string out = fmt::format("{:<17}  {:>5}  {:<24}  {}\n", "ADDRESS", "RSSI", "NAME", "DRIVER");
  for (const auto& d : devices)
    out += fmt::format("{:<17}  {:>5}  {:<24}  {}\n", text(d, "address"), text(d, "rssi"),
                       text(d, "name"), text(d, "driver"));
  return out;
}

}  // namespace nursery
