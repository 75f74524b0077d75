#pragma once
// nurseryctl's command line, parsed apart from main() so that tests can reach
// it. Nothing is validated here that the server validates: `set` builds the
// JSON body from key=value words and lets the hub refuse what is wrong, so
// that the rules are the ones every surface shares.
// Pure functions; never throw.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "daemon/expected.hpp"

namespace nursery {

// nurseryctl's exit codes.
inline constexpr int kCtlOk = 0;
inline constexpr int kCtlRefused = 1;   // the server answered with an error
inline constexpr int kCtlUsage = 2;     // the command line is wrong
inline constexpr int kCtlNoServer = 3;  // nothing answered on the socket

enum class CtlCommand {
  Help,
  ShowStatus,
  Start,
  Stop,
  Pause,
  Resume,
  Skip,
  Runs,
  Set,
  Schedule,
  Next,
  BleScan,
  Log,
  Summary
};

// `nurseryctl schedule ACTION ...`
enum class ScheduleAction { List, Set, Enable, Disable };

struct CtlArgs {
  CtlCommand command = CtlCommand::Help;
  std::filesystem::path socket;
  bool json = false;
  std::optional<std::string> room;     // --room, or ROOM of `set`
  std::optional<std::string> routine;  // start [ROUTINE], runs --routine ROUTINE
  std::string device;                  // set ROOM DEVICE
  nlohmann::json values;               // set: the request body
  std::optional<std::size_t> limit;    // runs --limit N
  std::optional<long> seconds;         // ble scan --seconds N (the server checks the range)
  ScheduleAction schedule_action = ScheduleAction::List;
  std::string schedule_id;           // schedule set|enable|disable ID
  nlohmann::json schedule_keys;      // schedule set: the fields given; null removes one
  std::optional<std::size_t> count;  // next --count N
  std::optional<std::string> from;   // next --from TIME
  // log [asleep|awake|waking] [--at TIME] [--note TEXT]; summary [--days N]
  std::optional<std::string> sleep_kind;  // none: list the recent log
  std::optional<std::string> at;          // as typed: "19:45" or ISO 8601
  std::optional<std::string> note;
  std::optional<int> days;
};

// The KEY=VALUE words of `schedule set` into schedule fields: days as a
// comma list ("mon,tue", or daily, weekdays, weekends), wake_window and
// enabled as booleans, every other value as text, an empty value (KEY=) as
// null: remove the field.
Expected<nlohmann::json> parse_schedule_assignments(std::span<const std::string> words);
// `base` (a schedule as GET shows it, or {"id":…}) with `keys` applied: a
// trigger given (at, sun or wake_window) replaces the one there.
nlohmann::json merge_schedule(nlohmann::json base, const nlohmann::json& keys);

// `--at` of `log`: "HH:MM" is that wall time in `zone` on the latest day on
// which it is not ahead of `now` (so "23:50" typed at 00:10 is last night);
// anything else must be ISO 8601 with its zone and is sent as it is.
// An Error (code "usage") for neither.
Expected<std::string> resolve_log_time(std::string_view text, std::string_view zone,
                                       std::chrono::system_clock::time_point now);

// $RUNTIME_DIRECTORY/control.sock when set (its first entry, if it lists
// several), else /run/nurseryd/control.sock.
std::filesystem::path default_socket_path(const char* runtime_directory);

// `args` excludes the program name. An Error (code "usage") is a mistake on
// the command line: print its message and the usage, exit kCtlUsage.
Expected<CtlArgs> parse_ctl_args(std::span<const std::string> args, const char* runtime_directory);

// key=value words into a JSON object: true/false (and on/off for "on") are
// booleans, numbers are numbers ("40%" is 0.4), anything else is a string.
Expected<nlohmann::json> parse_assignments(std::span<const std::string> words);

// The body of POST /rooms/{room}/routine for start, stop, pause, resume, skip.
nlohmann::json routine_request_body(const CtlArgs& args);
std::string_view ctl_command_name(CtlCommand command);

std::string ctl_usage();

}  // namespace nursery
