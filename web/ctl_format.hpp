#pragma once
// nurseryctl's output for people, built from the server's JSON. Every
// function tolerates a missing or mistyped field (it prints "?") and never
// throws: a newer or older daemon must not crash the tool.
// Times are shown in the hub's time zone when it is known, else in UTC.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace nursery {

// An ISO 8601 UTC time as `pattern` (date/strftime style) plus the zone's
// abbreviation, in `time_zone` if it names a zone; the text unchanged if it
// is not a time.
std::string format_time(std::string_view iso_utc, std::string_view time_zone,
                        std::string_view pattern = "%H:%M:%S");

// "on, brightness 10%, 2200 K"; "no state reported" when empty.
std::string format_values(const nlohmann::json& values);

// "Nursery: bedtime running, step 3 of 7, ends 20:45:10 BST"
std::string format_routine_line(std::string_view room_label, const nlohmann::json& routine,
                                std::string_view time_zone);

// The whole of GET /status: a line for the hub, and per room its routine
// line and a line per device.
std::string format_status(const nlohmann::json& status);

// GET /runs as a table, newest first.
std::string format_runs(const nlohmann::json& runs, std::string_view time_zone);

// GET /rooms/{room}/schedules as a table, one schedule a line.
std::string format_schedules(std::string_view room_label, const nlohmann::json& schedules);

// GET /rooms/{room}/next: one line per trigger, in the hub's time zone, and
// the days that are skipped, with why.
std::string format_triggers(std::string_view room_label, const nlohmann::json& plan,
                            std::string_view time_zone);
// The sleep log: the reply of POST /sleep-log ("Logged asleep at …"), GET
// /sleep-log (the nights, then entries and runs by time) and GET
// /sleep-log/summary.
std::string format_sleep_entry(const nlohmann::json& entry, std::string_view time_zone);
std::string format_sleep_log(const nlohmann::json& log, std::string_view time_zone);
std::string format_sleep_summary(const nlohmann::json& summary, std::string_view time_zone);

// The reply of a device command: what was applied and what was clamped.
std::string format_command_result(const nlohmann::json& result);

// The "scan" object of GET /ble/scan as a table: address, RSSI, name and
// the driver that would take the device ("-": none), strongest first.
std::string format_ble_scan(const nlohmann::json& scan);

// The message of an {"error":{…}} body, or a description of the status.
std::string server_error_message(int status, const nlohmann::json& body);

}  // namespace nursery
