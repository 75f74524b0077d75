#include "daemon/schedule/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <map>

namespace nursery::schedule {
namespace {

constexpr std::array<std::string_view, 7> kWeekdayNames = {"sun", "mon", "tue", "wed",
                                                           "thu", "fri", "sat"};
constexpr std::string_view kKnownKeys[] = {"id",        "routine", "days",        "at",
                                           "sun",       "offset",  "wake_window", "not_before",
                                           "not_after", "grace",   "enabled"};
constexpr std::size_t kMaxIdLength = 32;

bool is_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// How a value reads in a message: "a number", "a list", "\"soon\"".
std::string what_of(const FieldValue& v) {
  switch (v.kind) {
    case FieldValue::Kind::Bool:
      return v.boolean ? "true" : "false";
    case FieldValue::Kind::Number:
      return "a number";
    case FieldValue::Kind::String:
      return fmt::format("the string \"{}\"", v.text);
    case FieldValue::Kind::List:
      return "a list";
    case FieldValue::Kind::Other:
      return v.what.empty() ? std::string("a value of another type") : v.what;
  }
  return "a value of another type";
}

// Collects the problems of one schedule; each check reads one field.
class Parser {
 public:
  explicit Parser(const std::vector<Field>& fields) {
    for (const Field& f : fields) {
      const bool known =
          std::find(std::begin(kKnownKeys), std::end(kKnownKeys), f.key) != std::end(kKnownKeys);
      if (!known) {
        fail(kUnknownField, f.key,
             fmt::format("unknown field \"{}\" (a schedule has id, routine, days, at, sun, "
                         "offset, wake_window, not_before, not_after, grace and enabled)",
                         f.key));
        continue;
      }
      if (!by_key_.emplace(f.key, &f.value).second)
        fail(kInvalidValue, f.key, fmt::format("field \"{}\" is given twice", f.key));
    }
  }

  ScheduleParse run() {
    Schedule s;
    if (auto id = required_id("id", "the schedule's name")) s.id = *id;
    if (auto routine = required_id("routine", "the id of the routine it starts"))
      s.routine = *routine;
    read_days(s);
    read_trigger(s);
    read_bounds(s);
    read_grace(s);
    if (const FieldValue* v = get("enabled")) {
      if (v->kind == FieldValue::Kind::Bool)
        s.enabled = v->boolean;
      else
        fail(kInvalidValue, "enabled",
             fmt::format("enabled must be true or false, got {}", what_of(*v)));
    }
    ScheduleParse out;
    out.errors = std::move(errors_);
    if (out.errors.empty()) out.schedule = std::move(s);
    return out;
  }

 private:
  const FieldValue* get(std::string_view key) const {
    auto it = by_key_.find(std::string(key));
    return it == by_key_.end() ? nullptr : it->second;
  }

  void fail(std::string_view code, std::string_view field, std::string message,
            std::optional<std::size_t> item = std::nullopt) {
    errors_.push_back(
        FieldError{std::string(code), std::string(field), item, std::nullopt, std::move(message)});
  }

  // A string field, or nullopt with an error when present with another type.
  std::optional<std::string> string_field(std::string_view key, std::string_view example) {
    const FieldValue* v = get(key);
    if (!v) return std::nullopt;
    if (v->kind != FieldValue::Kind::String) {
      fail(kInvalidValue, key,
           fmt::format("{} must be a string like \"{}\", got {}", key, example, what_of(*v)));
      return std::nullopt;
    }
    return v->text;
  }

  std::optional<std::string> required_id(std::string_view key, std::string_view meaning) {
    if (!get(key)) {
      fail(kMissingField, key, fmt::format("{} is required ({})", key, meaning));
      return std::nullopt;
    }
    auto text = string_field(key, key == "id" ? "weeknights" : "bedtime");
    if (!text) return std::nullopt;
    if (!is_id(*text)) {
      fail(
          kInvalidValue, key,
          fmt::format("{} \"{}\" must be 1 to 32 characters of a-z, 0-9, '_' and '-'", key, *text));
      return std::nullopt;
    }
    return text;
  }

  void read_days(Schedule& s) {
    const FieldValue* v = get("days");
    if (!v) {
      fail(kMissingField, "days",
           "days is required: a list of weekdays such as [\"mon\", \"tue\"]");
      return;
    }
    if (v->kind != FieldValue::Kind::List) {
      fail(kInvalidValue, "days",
           fmt::format("days must be a list of weekdays such as [\"mon\", \"tue\"], got {}",
                       what_of(*v)));
      return;
    }
    if (v->items.empty()) {
      fail(kInvalidValue, "days",
           "days is empty: list at least one of mon, tue, wed, thu, fri, sat, sun");
      return;
    }
    WeekdaySet days;
    bool ok = true;
    for (std::size_t i = 0; i < v->items.size(); ++i) {
      const FieldValue& item = v->items[i];
      if (item.kind != FieldValue::Kind::String) {
        fail(kInvalidValue, "days",
             fmt::format("days[{}] must be a weekday like \"mon\", got {}", i, what_of(item)), i);
        ok = false;
        continue;
      }
      auto day = parse_weekday(item.text);
      if (!day) {
        fail(kInvalidValue, "days",
             fmt::format("days[{}]: \"{}\" is not a weekday (use mon, tue, wed, thu, fri, sat, "
                         "sun)",
                         i, item.text),
             i);
        ok = false;
      } else if (days.contains(*day)) {
        fail(kInvalidValue, "days", fmt::format("days[{}]: \"{}\" is listed twice", i, item.text),
             i);
        ok = false;
      } else {
        days.add(*day);
      }
    }
    if (ok) s.days = days;
  }

  void read_trigger(Schedule& s) {
    // Which of the three kinds are present, in the order written in the docs.
    std::vector<std::string_view> kinds;
    for (std::string_view k : {"at", "sun", "wake_window"})
      if (get(k)) kinds.push_back(k);
    if (kinds.empty()) {
      fail(kMissingField, "",
           "a schedule needs one of \"at\" (a time of day), \"sun\" (a sun event) or "
           "\"wake_window\": true");
      if (get("offset"))
        fail(kConflictingFields, "offset", "offset applies only to a \"sun\" trigger");
      return;
    }
    for (std::size_t i = 1; i < kinds.size(); ++i)
      fail(kConflictingFields, kinds[i],
           fmt::format("\"{}\" and \"{}\" exclude each other: give exactly one of \"at\", "
                       "\"sun\" or \"wake_window\"",
                       kinds[0], kinds[i]));
    if (get("offset") && std::find(kinds.begin(), kinds.end(), "sun") == kinds.end())
      fail(kConflictingFields, "offset", "offset applies only to a \"sun\" trigger");
    if (kinds.size() > 1) return;

    if (kinds[0] == "at") {
      auto text = string_field("at", "19:30");
      if (!text) return;
      auto at = parse_time_of_day(*text);
      if (!at) {
        fail(kInvalidValue, "at",
             fmt::format("at \"{}\" is not a time of day: use \"HH:MM\" from 00:00 to 23:59",
                         *text));
        return;
      }
      s.trigger = ClockTrigger{*at};
    } else if (kinds[0] == "sun") {
      SunTrigger t;
      bool ok = true;
      if (auto text = string_field("sun", "sunset")) {
        if (auto event = parse_sun_event(*text)) {
          t.event = *event;
        } else {
          fail(kInvalidValue, "sun",
               fmt::format("sun \"{}\" is not a sun event (use sunrise, sunset, civil_dawn or "
                           "civil_dusk)",
                           *text));
          ok = false;
        }
      } else {
        ok = false;
      }
      if (get("offset")) {
        if (auto text = string_field("offset", "-30m")) {
          auto offset = parse_offset(*text);
          if (!offset) {
            fail(kInvalidValue, "offset",
                 fmt::format("offset \"{}\" is not a signed duration like \"-30m\" or \"1h15m\"",
                             *text));
            ok = false;
          } else if (*offset > kMaxSunOffset || *offset < -kMaxSunOffset) {
            fail(kInvalidValue, "offset",
                 fmt::format("offset \"{}\" is beyond {} before or after the event", *text,
                             format_duration(kMaxSunOffset)));
            ok = false;
          } else {
            t.offset = *offset;
          }
        } else {
          ok = false;
        }
      }
      if (ok) s.trigger = t;
    } else {
      const FieldValue* v = get("wake_window");
      if (v->kind != FieldValue::Kind::Bool || !v->boolean) {
        fail(kInvalidValue, "wake_window",
             fmt::format("wake_window must be true (leave it out for an \"at\" or \"sun\" "
                         "trigger), got {}",
                         what_of(*v)));
        return;
      }
      s.trigger = WakeWindowTrigger{};
    }
  }

  std::optional<TimeOfDay> bound(std::string_view key) {
    auto text = string_field(key, "20:00");
    if (!text) return std::nullopt;
    auto t = parse_time_of_day(*text);
    if (!t)
      fail(kInvalidValue, key,
           fmt::format("{} \"{}\" is not a time of day: use \"HH:MM\" from 00:00 to 23:59", key,
                       *text));
    return t;
  }

  void read_bounds(Schedule& s) {
    const bool clock = get("at") && !get("sun") && !get("wake_window");
    for (std::string_view key : {"not_before", "not_after"}) {
      if (get(key) && clock)
        fail(kConflictingFields, key,
             fmt::format("{} applies only to a \"sun\" or \"wake_window\" trigger: an \"at\" "
                         "time is already exact",
                         key));
    }
    s.not_before = bound("not_before");
    s.not_after = bound("not_after");
    if (s.not_before && s.not_after && *s.not_before > *s.not_after)
      fail(kInvalidValue, "not_after",
           fmt::format("not_before ({}) is later than not_after ({}): the window must lie "
                       "within one day",
                       format_time_of_day(*s.not_before), format_time_of_day(*s.not_after)));
  }

  void read_grace(Schedule& s) {
    auto text = string_field("grace", "15m");
    if (!text) return;
    auto d = parse_duration(*text);
    if (!d) {
      fail(kInvalidValue, "grace",
           fmt::format("grace \"{}\" is not a duration like \"15m\" or \"1h30m\"", *text));
    } else if (*d < kMinGrace || *d > kMaxGrace) {
      fail(kInvalidValue, "grace",
           fmt::format("grace \"{}\" must be from {} to {}: a routine started later than that "
                       "does more harm than good",
                       *text, format_duration(kMinGrace), format_duration(kMaxGrace)));
    } else {
      s.grace = *d;
    }
  }

  std::map<std::string, const FieldValue*> by_key_;
  std::vector<FieldError> errors_;
};

FieldValue field_value_from_json(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::boolean:
      return FieldValue::of_bool(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return FieldValue::of_number(j.get<double>());
    case nlohmann::json::value_t::string:
      return FieldValue::of_string(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      std::vector<FieldValue> items;
      for (const auto& item : j) items.push_back(field_value_from_json(item));
      return FieldValue::of_list(std::move(items));
    }
    case nlohmann::json::value_t::null:
      return FieldValue::of_other("null");
    case nlohmann::json::value_t::object:
      return FieldValue::of_other("an object");
    default:
      return FieldValue::of_other("a value of another type");
  }
}

Error to_error(const FieldError& e, std::string_view prefix) {
  return Error{e.code, std::string(prefix) + e.message, 400};
}

}  // namespace

WeekdaySet WeekdaySet::every_day() {
  WeekdaySet set;
  for (unsigned d = 0; d < 7; ++d) set.add(date::weekday{d});
  return set;
}

std::vector<date::weekday> WeekdaySet::list() const {
  std::vector<date::weekday> out;
  for (unsigned i = 1; i <= 7; ++i) {
    const date::weekday d{i % 7};  // Monday (1) first, Sunday (0) last
    if (contains(d)) out.push_back(d);
  }
  return out;
}

std::string_view weekday_name(date::weekday day) { return kWeekdayNames[day.c_encoding() % 7]; }

std::optional<date::weekday> parse_weekday(std::string_view name) {
  for (unsigned i = 0; i < kWeekdayNames.size(); ++i)
    if (kWeekdayNames[i] == name) return date::weekday{i};
  return std::nullopt;
}

FieldValue FieldValue::of_bool(bool b) {
  FieldValue v;
  v.kind = Kind::Bool;
  v.boolean = b;
  return v;
}
FieldValue FieldValue::of_number(double n) {
  FieldValue v;
  v.kind = Kind::Number;
  v.number = n;
  return v;
}
FieldValue FieldValue::of_string(std::string s) {
  FieldValue v;
  v.kind = Kind::String;
  v.text = std::move(s);
  return v;
}
FieldValue FieldValue::of_list(std::vector<FieldValue> items) {
  FieldValue v;
  v.kind = Kind::List;
  v.items = std::move(items);
  return v;
}
FieldValue FieldValue::of_other(std::string what) {
  FieldValue v;
  v.kind = Kind::Other;
  v.what = std::move(what);
  return v;
}

ScheduleParse parse_schedule(const std::vector<Field>& fields) { return Parser(fields).run(); }

ScheduleListParse parse_schedule_list(const std::vector<std::vector<Field>>& list) {
  ScheduleListParse out;
  std::vector<Schedule> schedules;
  std::map<std::string, std::size_t> first_use;
  for (std::size_t i = 0; i < list.size(); ++i) {
    ScheduleParse one = parse_schedule(list[i]);
    for (FieldError& e : one.errors) {
      e.schedule = i;
      out.errors.push_back(std::move(e));
    }
    if (!one.schedule) continue;
    auto [it, fresh] = first_use.emplace(one.schedule->id, i);
    if (!fresh) {
      out.errors.push_back(FieldError{
          std::string(kDuplicateId), "id", std::nullopt, i,
          fmt::format("id \"{}\" is already used by schedules[{}]", one.schedule->id, it->second)});
      continue;
    }
    schedules.push_back(std::move(*one.schedule));
  }
  if (out.errors.empty()) out.schedules = std::move(schedules);
  return out;
}

std::optional<std::vector<Field>> fields_from_json(const nlohmann::json& object) {
  if (!object.is_object()) return std::nullopt;
  std::vector<Field> fields;
  for (const auto& [key, value] : object.items())
    fields.push_back({key, field_value_from_json(value)});
  return fields;
}

Expected<Schedule> schedule_from_json(const nlohmann::json& object) {
  auto fields = fields_from_json(object);
  if (!fields)
    return Error{std::string(kInvalidValue),
                 "a schedule must be a JSON object like {\"id\":\"weeknights\",\"routine\":"
                 "\"bedtime\",\"days\":[\"mon\"],\"at\":\"19:30\"}",
                 400};
  ScheduleParse parsed = parse_schedule(*fields);
  if (!parsed.errors.empty()) return to_error(parsed.errors.front(), "");
  return std::move(*parsed.schedule);
}

Expected<std::vector<Schedule>> schedule_list_from_json(const nlohmann::json& array) {
  if (!array.is_array())
    return Error{std::string(kInvalidValue), "schedules must be a JSON array of schedules", 400};
  std::vector<std::vector<Field>> list;
  for (std::size_t i = 0; i < array.size(); ++i) {
    auto fields = fields_from_json(array[i]);
    if (!fields)
      return Error{std::string(kInvalidValue),
                   fmt::format("schedules[{}] must be a JSON object", i), 400};
    list.push_back(std::move(*fields));
  }
  ScheduleListParse parsed = parse_schedule_list(list);
  if (!parsed.errors.empty()) {
    const FieldError& e = parsed.errors.front();
    return to_error(e, fmt::format("schedules[{}]: ", e.schedule.value_or(0)));
  }
  return std::move(*parsed.schedules);
}

Expected<std::vector<Schedule>> schedules_body_from_json(const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("schedules"))
    return Error{std::string(kMissingField),
                 "the body must be {\"schedules\":[…]}, the whole list of the room's schedules",
                 400};
  for (const auto& [key, value] : body.items())
    if (key != "schedules")
      return Error{std::string(kUnknownField),
                   fmt::format("unknown field \"{}\" (the body has only \"schedules\")", key), 400};
  return schedule_list_from_json(body["schedules"]);
}

nlohmann::json to_json(const Schedule& s) {
  nlohmann::json days = nlohmann::json::array();
  for (date::weekday d : s.days.list()) days.push_back(weekday_name(d));
  nlohmann::json out = {{"id", s.id}, {"routine", s.routine}, {"days", std::move(days)}};
  if (const auto* c = std::get_if<ClockTrigger>(&s.trigger)) {
    out["at"] = format_time_of_day(c->at);
  } else if (const auto* sun = std::get_if<SunTrigger>(&s.trigger)) {
    out["sun"] = sun_event_name(sun->event);
    out["offset"] = format_duration(sun->offset);
  } else {
    out["wake_window"] = true;
  }
  if (s.not_before) out["not_before"] = format_time_of_day(*s.not_before);
  if (s.not_after) out["not_after"] = format_time_of_day(*s.not_after);
  out["grace"] = format_duration(s.grace);
  out["enabled"] = s.enabled;
  return out;
}

nlohmann::json to_json(const std::vector<Schedule>& schedules) {
  nlohmann::json list = nlohmann::json::array();
  for (const Schedule& s : schedules) list.push_back(to_json(s));
  return {{"schedules", std::move(list)}};
}

std::string describe(const Trigger& trigger) {
  if (const auto* c = std::get_if<ClockTrigger>(&trigger))
    return "clock " + format_time_of_day(c->at);
  if (const auto* s = std::get_if<SunTrigger>(&trigger)) {
    std::string out(sun_event_name(s->event));
    if (s->offset > Seconds::zero()) out += " +" + format_duration(s->offset);
    if (s->offset < Seconds::zero()) out += " " + format_duration(s->offset);
    return out;
  }
  return "wake window";
}

}  // namespace nursery::schedule
