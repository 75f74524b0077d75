#pragma once
// Schedules as data: what a parent writes, validated, in one model shared by
// the API (JSON), the config file (TOML, [[rooms.schedules]]) and the store.
//
// The written shape (issue 9), one object per schedule:
//
//   {"id":"weeknights","routine":"bedtime","days":["mon","tue","wed","thu","fri"],
//    "at":"19:30"}
//   {"id":"dusk","routine":"bedtime","days":[…],"sun":"sunset","offset":"-30m",
//    "not_before":"18:30","not_after":"20:00"}
//   {"id":"nap","routine":"nap","days":[…],"wake_window":true,"grace":"30m","enabled":false}
//
// Exactly one of "at" (a local time of day), "sun" (sunrise | sunset |
// civil_dawn | civil_dusk, with an optional signed "offset" such as "-30m" or
// "1h15m") or "wake_window":true. Optional: "not_before" / "not_after" (local
// times of day a sun or wake-window trigger is clamped into; not for "at"),
// "grace" (how late a missed trigger may still fire, default 15m, 1m..2h),
// "enabled" (default true). Any other key is refused.
//
// Parsing never builds anything partial and never throws: it returns either
// the schedule or every problem found, each naming its field. The parse works
// on a syntax-neutral list of fields (Field, FieldValue), so the TOML loader
// converts its table and maps each FieldError back to a file:line:col through
// `field` and `item`; the JSON functions below are a thin layer over it.
//
// Pure functions: any thread; nothing here throws.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/expected.hpp"
#include "daemon/schedule/sun.hpp"
#include "daemon/schedule/time_text.hpp"

namespace nursery::schedule {

// A set of local weekdays.
class WeekdaySet {
 public:
  WeekdaySet() = default;
  static WeekdaySet every_day();
  bool contains(date::weekday day) const { return (bits_ >> day.c_encoding()) & 1u; }
  void add(date::weekday day) { bits_ |= static_cast<std::uint8_t>(1u << day.c_encoding()); }
  bool empty() const { return bits_ == 0; }
  // Monday first, as a parent reads a week.
  std::vector<date::weekday> list() const;
  bool operator==(const WeekdaySet&) const = default;

 private:
  std::uint8_t bits_ = 0;  // bit n: the weekday whose c_encoding() is n (0 = Sunday)
};

// "mon".."sun"; parse accepts exactly these lowercase names.
std::string_view weekday_name(date::weekday day);
std::optional<date::weekday> parse_weekday(std::string_view name);

struct ClockTrigger {
  TimeOfDay at;
  bool operator==(const ClockTrigger&) const = default;
};
struct SunTrigger {
  SunEvent event = SunEvent::Sunset;
  Seconds offset{0};  // signed: -30m is half an hour before the event
  bool operator==(const SunTrigger&) const = default;
};
// At the end of the child's wake window after the last logged wake-up.
struct WakeWindowTrigger {
  bool operator==(const WakeWindowTrigger&) const = default;
};
using Trigger = std::variant<ClockTrigger, SunTrigger, WakeWindowTrigger>;

inline constexpr Seconds kDefaultGrace{15 * 60};
inline constexpr Seconds kMinGrace{60};
inline constexpr Seconds kMaxGrace{2 * 3600};
// Beyond half a day an offset names another day's event.
inline constexpr Seconds kMaxSunOffset{12 * 3600};

struct Schedule {
  std::string id;       // [a-z0-9_-]{1,32}, unique in a room's list
  std::string routine;  // a routine id; whether it exists is the caller's check
  WeekdaySet days;      // never empty once parsed
  Trigger trigger = ClockTrigger{};
  std::optional<TimeOfDay> not_before;  // sun and wake-window triggers only
  std::optional<TimeOfDay> not_after;
  Seconds grace = kDefaultGrace;
  bool enabled = true;
  bool operator==(const Schedule&) const = default;
};

// ---- the syntax-neutral field view ----------------------------------------

// A value as JSON or TOML gave it, reduced to what a schedule can hold.
struct FieldValue {
  enum class Kind { Bool, Number, String, List, Other };
  Kind kind = Kind::Other;
  bool boolean = false;
  double number = 0.0;
  std::string text;               // String
  std::vector<FieldValue> items;  // List
  std::string what;               // Other: what it is, for messages ("a table", "null")

  // Named rather than overloaded, so that a const char* or an int64 from a
  // TOML node cannot silently pick the bool or the double.
  static FieldValue of_bool(bool b);
  static FieldValue of_number(double n);
  static FieldValue of_string(std::string s);
  static FieldValue of_list(std::vector<FieldValue> items);
  static FieldValue of_other(std::string what);
};

struct Field {
  std::string key;
  FieldValue value;
};

// Stable codes, for a surface to answer with (all are HTTP 400).
inline constexpr std::string_view kInvalidValue = "invalid_value";  // a value it cannot be
inline constexpr std::string_view kUnknownField = "unknown_field";  // a key no schedule has
inline constexpr std::string_view kMissingField = "missing_field";  // a required key absent
inline constexpr std::string_view kConflictingFields = "conflicting_fields";  // two that exclude
inline constexpr std::string_view kDuplicateId = "duplicate_id";              // an id used twice

struct FieldError {
  std::string code;                     // one of the codes above
  std::string field;                    // the key it is about; empty for the schedule as a whole
  std::optional<std::size_t> item;      // index in a list value ("days"), when about one item
  std::optional<std::size_t> schedule;  // index in a list of schedules, when parsing a list
  std::string message;  // a sentence that names the field, e.g. `at: "25:61" is not …`
};

struct ScheduleParse {
  std::optional<Schedule> schedule;  // set exactly when errors is empty
  std::vector<FieldError> errors;
};
struct ScheduleListParse {
  std::optional<std::vector<Schedule>> schedules;
  std::vector<FieldError> errors;  // each with `schedule` set
};

// Every key must appear at most once (the caller's syntax guarantees it for
// JSON objects and TOML tables; a repeated key here is refused).
ScheduleParse parse_schedule(const std::vector<Field>& fields);
// Each schedule as above, then ids unique across the list.
ScheduleListParse parse_schedule_list(const std::vector<std::vector<Field>>& list);

// ---- JSON --------------------------------------------------------------------

// The fields of a JSON object; a non-object gives nullopt.
std::optional<std::vector<Field>> fields_from_json(const nlohmann::json& object);

// One schedule object. The error is the first problem found, with its code
// as above and its message (which names the field).
Expected<Schedule> schedule_from_json(const nlohmann::json& object);
// An array of schedule objects; the message is prefixed with the schedule's
// place, "schedules[1]: at \"25:61\" is not …".
Expected<std::vector<Schedule>> schedule_list_from_json(const nlohmann::json& array);
// The body of PUT /api/v1/rooms/{room}/schedules: {"schedules":[…]}, no other key.
Expected<std::vector<Schedule>> schedules_body_from_json(const nlohmann::json& body);

// Canonical: every field, defaults included ("grace":"15m","enabled":true),
// days in the order mon..sun, so what GET shows is what is in force.
// schedule_from_json(to_json(s)) == s.
nlohmann::json to_json(const Schedule& schedule);
// {"schedules":[…]}
nlohmann::json to_json(const std::vector<Schedule>& schedules);

// "clock 19:30", "sunset -30m", "sunrise", "wake window": how a trigger reads.
std::string describe(const Trigger& trigger);

}  // namespace nursery::schedule
