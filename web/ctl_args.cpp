#include "ctl_args.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <vector>

#include "daemon/schedule/civil_time.hpp"
#include "daemon/schedule/time_text.hpp"

namespace nursery {
namespace {

Error usage_error(std::string message) { return Error{"usage", std::move(message), 0}; }

struct CommandName {
  std::string_view name;
  CtlCommand command;
};

constexpr CommandName kCommands[] = {
    {"help", CtlCommand::Help},   {"status", CtlCommand::ShowStatus},
    {"start", CtlCommand::Start}, {"stop", CtlCommand::Stop},
    {"pause", CtlCommand::Pause}, {"resume", CtlCommand::Resume},
    {"skip", CtlCommand::Skip},   {"runs", CtlCommand::Runs},
    {"set", CtlCommand::Set},     {"schedule", CtlCommand::Schedule},
    {"next", CtlCommand::Next},   {"ble", CtlCommand::BleScan},
    {"log", CtlCommand::Log},     {"summary", CtlCommand::Summary},
};

std::optional<CtlCommand> find_command(std::string_view name) {
  for (const auto& c : kCommands)
    if (c.name == name) return c.command;
  return std::nullopt;
}

// A whole-word number, or nullopt. Integers stay integers so that color_temp
// reaches the server as 2200, not 2200.0.
std::optional<nlohmann::json> parse_number(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  std::int64_t whole = 0;
  if (auto [end, ec] = std::from_chars(first, last, whole); ec == std::errc{} && end == last)
    return nlohmann::json(whole);
  double real = 0;
  if (auto [end, ec] = std::from_chars(first, last, real);
      ec == std::errc{} && end == last && std::isfinite(real))
    return nlohmann::json(real);
  return std::nullopt;
}

nlohmann::json parse_value(std::string_view key, std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  if (key == "on" && (text == "on" || text == "yes")) return true;
  if (key == "on" && (text == "off" || text == "no")) return false;
  if (auto number = parse_number(text)) return *number;
  if (text.size() > 1 && text.back() == '%')
    if (auto percent = parse_number(text.substr(0, text.size() - 1)))
      return percent->get<double>() / 100.0;
  return std::string(text);
}

// "--name=value" or "--name value"; advances i past what it consumed.
Expected<std::string> option_value(std::span<const std::string> args, std::size_t& i,
                                   std::string_view name) {
  std::string_view arg = args[i];
  if (arg.size() > name.size() && arg[name.size()] == '=')
    return std::string(arg.substr(name.size() + 1));
  if (i + 1 >= args.size()) return usage_error(fmt::format("{} needs a value", name));
  return args[++i];
}

// "--name=N" or "--name N", a whole number.
Expected<std::size_t> number_option(std::span<const std::string> args, std::size_t& i,
                                    std::string_view name) {
  auto value = option_value(args, i, name);
  if (!value) return value.error();
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (value->empty() || ec != std::errc{} || end != value->data() + value->size())
    return usage_error(fmt::format("{} needs a number, got \"{}\"", name, *value));
  return n;
}

constexpr std::string_view kWeekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

// The words after `schedule`; an Error for a mistake on the command line.
std::optional<Error> parse_schedule_command(std::span<const std::string> rest, CtlArgs& out) {
  if (rest.empty()) return usage_error("schedule needs list, set, enable or disable");
  const std::string& action = rest[0];
  if (action == "list") {
    if (rest.size() > 1) return usage_error("schedule list takes no arguments");
    out.schedule_action = ScheduleAction::List;
    return std::nullopt;
  }
  if (action != "set" && action != "enable" && action != "disable")
    return usage_error(
        fmt::format("unknown schedule action \"{}\": use list, set, enable or disable", action));
  if (rest.size() < 2) return usage_error(fmt::format("schedule {} needs a schedule id", action));
  out.schedule_id = rest[1];
  if (action == "set") {
    out.schedule_action = ScheduleAction::Set;
    if (rest.size() < 3)
      return usage_error("schedule set needs ID and at least one key=value, e.g. at=19:30");
    auto keys = parse_schedule_assignments(rest.subspan(2));
    if (!keys) return keys.error();
    out.schedule_keys = std::move(*keys);
    return std::nullopt;
  }
  if (rest.size() > 2) return usage_error(fmt::format("schedule {} takes one schedule id", action));
  out.schedule_action = action == "enable" ? ScheduleAction::Enable : ScheduleAction::Disable;
  return std::nullopt;
}

nlohmann::json parse_days(std::string_view text) {
  if (text == "daily" || text == "every-day")
    return nlohmann::json(std::vector<std::string>(std::begin(kWeekdays), std::end(kWeekdays)));
  if (text == "weekdays")
    return nlohmann::json(
        std::vector<std::string>(std::begin(kWeekdays), std::begin(kWeekdays) + 5));
  if (text == "weekends")
    return nlohmann::json(std::vector<std::string>(std::begin(kWeekdays) + 5, std::end(kWeekdays)));
  // Each name as typed: the server says which one it does not know.
  nlohmann::json days = nlohmann::json::array();
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    days.push_back(std::string(text.substr(start, comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return days;
}

}  // namespace

Expected<nlohmann::json> parse_schedule_assignments(std::span<const std::string> words) {
  nlohmann::json keys = nlohmann::json::object();
  for (const auto& word : words) {
    auto eq = word.find('=');
    if (eq == std::string::npos || eq == 0)
      return usage_error(fmt::format("expected key=value, got \"{}\"", word));
    std::string key = word.substr(0, eq);
    std::string_view value = std::string_view(word).substr(eq + 1);
    if (keys.contains(key)) return usage_error(fmt::format("{} is given twice", key));
    if (key == "id") return usage_error("the schedule's id is the word after set");
    if (value.empty())
      keys[key] = nullptr;
    else if (key == "days")
      keys[key] = parse_days(value);
    else if ((key == "enabled" || key == "wake_window") && (value == "true" || value == "false"))
      keys[key] = value == "true";
    else
      keys[key] = std::string(value);
  }
  return keys;
}

nlohmann::json merge_schedule(nlohmann::json base, const nlohmann::json& keys) {
  if (!base.is_object()) base = nlohmann::json::object();
  const bool new_trigger =
      keys.contains("at") || keys.contains("sun") || keys.contains("wake_window");
  if (new_trigger)
    for (const char* k : {"at", "sun", "offset", "wake_window"}) base.erase(k);
  for (const auto& [key, value] : keys.items()) {
    if (value.is_null())
      base.erase(key);
    else
      base[key] = value;
  }
  return base;
}

std::string_view ctl_command_name(CtlCommand command) {
  for (const auto& c : kCommands)
    if (c.command == command) return c.name;
  return "?";
}

std::filesystem::path default_socket_path(const char* runtime_directory) {
  if (runtime_directory && *runtime_directory) {
    std::string_view dirs(runtime_directory);
    // systemd joins several RuntimeDirectory= entries with ':'.
    std::string_view first = dirs.substr(0, dirs.find(':'));
    if (!first.empty()) return std::filesystem::path(std::string(first)) / "control.sock";
  }
  return "/run/nurseryd/control.sock";
}

Expected<nlohmann::json> parse_assignments(std::span<const std::string> words) {
  nlohmann::json body = nlohmann::json::object();
  for (const auto& word : words) {
    auto eq = word.find('=');
    if (eq == std::string::npos || eq == 0)
      return usage_error(fmt::format("expected key=value, got \"{}\"", word));
    std::string key = word.substr(0, eq);
    if (body.contains(key)) return usage_error(fmt::format("{} is given twice", key));
    body[key] = parse_value(key, std::string_view(word).substr(eq + 1));
  }
  return body;
}

Expected<CtlArgs> parse_ctl_args(std::span<const std::string> args, const char* runtime_directory) {
  CtlArgs out;
  out.socket = default_socket_path(runtime_directory);
  std::vector<std::string> positional;
  bool options_done = false;
  bool help = false;
  std::optional<std::string> routine_option;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (options_done || !arg.starts_with("-") || arg == "-") {
      positional.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
    } else if (arg == "-h" || arg == "--help") {
      help = true;
    } else if (arg == "--json") {
      out.json = true;
    } else if (arg == "--socket" || arg.starts_with("--socket=")) {
      auto value = option_value(args, i, "--socket");
      if (!value) return value.error();
      if (value->empty()) return usage_error("--socket needs a path");
      out.socket = *value;
    } else if (arg == "--room" || arg.starts_with("--room=")) {
      auto value = option_value(args, i, "--room");
      if (!value) return value.error();
      if (value->empty()) return usage_error("--room needs a room id");
      out.room = *value;
    } else if (arg == "--routine" || arg.starts_with("--routine=")) {
      auto value = option_value(args, i, "--routine");
      if (!value) return value.error();
      if (value->empty()) return usage_error("--routine needs a routine id");
      routine_option = *value;
    } else if (arg == "--limit" || arg.starts_with("--limit=")) {
      auto limit = number_option(args, i, "--limit");
      if (!limit) return limit.error();
      out.limit = *limit;
    } else if (arg == "--count" || arg.starts_with("--count=")) {
      auto count = number_option(args, i, "--count");
      if (!count) return count.error();
      out.count = *count;
    } else if (arg == "--from" || arg.starts_with("--from=")) {
      auto value = option_value(args, i, "--from");
      if (!value) return value.error();
      out.from = *value;
    } else if (arg == "--seconds" || arg.starts_with("--seconds=")) {
      auto seconds = number_option(args, i, "--seconds");
      if (!seconds) return seconds.error();
      out.seconds = static_cast<long>(*seconds);
    } else if (arg == "--at" || arg.starts_with("--at=")) {
      auto value = option_value(args, i, "--at");
      if (!value) return value.error();
      if (value->empty())
        return usage_error("--at needs a time, like 19:45 or 2026-12-01T19:45:00Z");
      out.at = *value;
    } else if (arg == "--note" || arg.starts_with("--note=")) {
      auto value = option_value(args, i, "--note");
      if (!value) return value.error();
      out.note = *value;
    } else if (arg == "--days" || arg.starts_with("--days=")) {
      auto days = number_option(args, i, "--days");
      if (!days) return days.error();
      // The server says what range it takes; a value too large for an int
      // is sent as one it refuses.
      out.days = static_cast<int>(std::min<std::size_t>(*days, 100'000));
    } else if (!arg.starts_with("--") && arg.size() > 1 && arg[1] >= '0' && arg[1] <= '9') {
      positional.emplace_back(arg);  // a negative number, e.g. in `set … volume=-3`
    } else {
      return usage_error(fmt::format("unknown option {}", arg));
    }
  }
  if (help) {
    out.command = CtlCommand::Help;
    return out;
  }
  if (positional.empty()) return usage_error("no command given");

  auto command = find_command(positional.front());
  if (!command) return usage_error(fmt::format("unknown command \"{}\"", positional.front()));
  out.command = *command;
  std::span<const std::string> rest(positional.begin() + 1, positional.end());

  switch (out.command) {
    case CtlCommand::Start:
      if (rest.size() > 1) return usage_error("start takes at most one routine name");
      if (rest.size() == 1) out.routine = rest[0];
      break;
    case CtlCommand::Set: {
      if (rest.size() < 3) return usage_error("set needs ROOM DEVICE and at least one key=value");
      out.room = rest[0];
      out.device = rest[1];
      auto values = parse_assignments(rest.subspan(2));
      if (!values) return values.error();
      out.values = std::move(*values);
      break;
    }
    case CtlCommand::BleScan:
      if (rest.size() != 1 || rest[0] != "scan")
        return usage_error("ble takes one subcommand: nurseryctl ble scan [--seconds N]");
      break;
    case CtlCommand::Schedule: {
      if (auto problem = parse_schedule_command(rest, out)) return *problem;
      break;
    }
    case CtlCommand::Log:
      if (rest.size() > 1)
        return usage_error("log takes at most one kind: asleep, awake or waking");
      if (rest.size() == 1) {
        if (rest[0] != "asleep" && rest[0] != "awake" && rest[0] != "waking")
          return usage_error(fmt::format("log takes asleep, awake or waking, got \"{}\"", rest[0]));
        out.sleep_kind = rest[0];
      }
      break;
    default:
      if (!rest.empty())
        return usage_error(fmt::format("{} takes no arguments", ctl_command_name(out.command)));
  }
  if (out.seconds && out.command != CtlCommand::BleScan)
    return usage_error("--seconds only applies to ble scan");
  if ((out.count || out.from) && out.command != CtlCommand::Next)
    return usage_error("--count and --from only apply to next");
  if (out.limit && out.command != CtlCommand::Runs)
    return usage_error("--limit only applies to runs");
  if ((out.at || out.note) && !(out.command == CtlCommand::Log && out.sleep_kind))
    return usage_error("--at and --note only apply to log asleep|awake|waking");
  if (out.days && out.command != CtlCommand::Summary && out.command != CtlCommand::Log)
    return usage_error("--days only applies to log and summary");
  if (routine_option) {
    if (out.command != CtlCommand::Runs)
      return usage_error(out.command == CtlCommand::Start
                             ? "start takes its routine as a word: nurseryctl start ROUTINE"
                             : "--routine only applies to runs");
    out.routine = std::move(routine_option);
  }
  return out;
}

nlohmann::json routine_request_body(const CtlArgs& args) {
  nlohmann::json body{{"action", std::string(ctl_command_name(args.command))}};
  if (args.command == CtlCommand::Start && args.routine) body["routine"] = *args.routine;
  return body;
}

Expected<std::string> resolve_log_time(std::string_view text, std::string_view zone_name,
                                       std::chrono::system_clock::time_point now) {
  if (schedule::parse_instant(text)) return std::string(text);
  const auto time = schedule::parse_time_of_day(text);
  if (!time)
    return usage_error(fmt::format(
        "--at needs HH:MM (today, local) or ISO 8601 like 2026-12-01T19:45:00Z, got \"{}\"", text));
  auto zone = schedule::find_zone(zone_name.empty() ? "UTC" : zone_name);
  if (!zone) return usage_error(zone.error().message);
  const auto instant = std::chrono::time_point_cast<std::chrono::milliseconds>(now);
  auto day = schedule::local_date(**zone, instant);
  auto at = schedule::resolve_local(**zone, day, *time).at;
  if (at > instant) {
    day = date::year_month_day{date::sys_days{day} - date::days{1}};
    at = schedule::resolve_local(**zone, day, *time).at;
  }
  return schedule::format_utc(at);
}

std::string ctl_usage() {
  return R"(Usage: nurseryctl [--socket PATH] [--json] [--room ROOM] COMMAND

Commands:
  status             the hub, each room's routine and each device's state
  start [ROUTINE]    start ROUTINE (default: the room's default routine)
  stop               stop the room's routine
  pause, resume      pause or resume it
  skip               jump to its next step
  runs [--limit N] [--routine ROUTINE]
                     recent routine runs, newest first, of every room (--room:
                     that room's only; --routine: that routine's only)
  schedule list       the room's schedules
  schedule set ID KEY=VALUE...
                     add or change schedule ID, e.g.
                       nurseryctl schedule set weeknights routine=bedtime
                         days=mon,tue,wed,thu,fri at=19:30
                       nurseryctl schedule set dusk sun=sunset offset=-30m
                         not_before=18:30 days=weekends routine=bedtime
                     keys: routine, days (a comma list, daily, weekdays,
                     weekends), at, sun (sunrise, sunset, civil_dawn,
                     civil_dusk), offset, wake_window=true, not_before,
                     not_after, grace, enabled; KEY= removes a key
  schedule enable ID, schedule disable ID
                     switch schedule ID on or off
  next [--count N] [--from TIME]
                     what the room's schedules will start next (N from 1 to
                     100, default 5; TIME as 2027-03-28T19:30:00+02:00)
  log [--days N]     the sleep log: the nights, then every entry and run (14 days)
  log asleep|awake|waking [--at TIME] [--note TEXT]
                     add to the sleep log; TIME is HH:MM (the latest one not
                     ahead, in the hub's zone) or ISO 8601; default now
  summary [--days N] bedtime consistency, time to sleep, wakings, night length
                     over N days (default 14), and the next predicted sleep
  set ROOM DEVICE KEY=VALUE...
                     set a device by hand, e.g.
                       nurseryctl set nursery night-light on=true brightness=10%
                     keys: on, brightness, color_temp, volume, track, intensity,
                     pattern, transition (seconds); fractions as 0.1 or 10%
  ble scan [--seconds N]
                     Bluetooth LE devices nearby (N seconds, default 10): address,
                     RSSI, name and the driver that would take it

Options:
  --socket PATH      the control socket (default: $RUNTIME_DIRECTORY/control.sock,
                     else /run/nurseryd/control.sock)
  --room ROOM        the room for start, stop, pause, resume, skip, schedule,
                     next, log and summary (needed when the hub has more than
                     one room), or of runs
  --json             print the server's JSON as it is, for scripts
  -h, --help         this help

Exit status: 0 done, 1 refused by nurseryd, 2 usage error, 3 cannot reach nurseryd.
)";
}

}  // namespace nursery
