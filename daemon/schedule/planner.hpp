#pragma once
// Planning: when schedules trigger. Pure functions of (schedules, instants,
// context): no clock is read, no timer armed, nothing stored. The hub (or a
// test, in virtual time) asks and acts on the answer.
//
// How a trigger instant is found, for each enabled schedule and each local
// date D whose weekday is in its days:
//  - clock "19:30": 19:30 on D through the tz database (civil_time.hpp: in a
//    DST gap the first instant after it, in an overlap the first occurrence);
//  - sun "sunset -30m": D's sunset (sun.hpp) minus 30 minutes, rounded to the
//    whole minute; then clamped into [not_before, not_after] on D. Where the
//    event does not happen on D (polar day or night) the trigger falls back to
//    a bound: the one the missing event is "beyond" (no sunset because the
//    sun never sets: not_after; because it never rises: not_before; the other
//    way round for sunrise and civil dawn), else the other bound if only that
//    one is given, else D is skipped and the skip is reported;
//  - wake window: ONE trigger, at the last logged wake-up plus the window for
//    the child's age on the day of that wake-up (wake_window.hpp), rounded to
//    the whole minute, clamped into the bounds on its own local date, dropped
//    when that date's weekday is not in days. No wake-up logged, or no birth
//    date, is a skip with its reason.
//
// Every search is bounded: at most kHorizonDays local dates ahead, at most
// kMaxTriggers triggers; nothing here loops on its input.
//
// Thread: any (pure). Nothing here throws.

#include <date/tz.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "daemon/expected.hpp"
#include "daemon/schedule/schedule.hpp"
#include "daemon/schedule/sun.hpp"
#include "daemon/schedule/time_text.hpp"
#include "daemon/schedule/wake_window.hpp"

namespace nursery::schedule {

// What planning needs to know about the hub and the child.
struct PlanContext {
  const date::time_zone* zone = nullptr;           // required (find_zone)
  GeoPosition position;                            // for sun triggers
  std::optional<date::year_month_day> birth_date;  // for wake windows
  std::optional<Instant> last_wake;                // the last logged wake-up
  WakeWindowTable wake_windows = default_wake_windows();
};

// "invalid_value" for a missing zone, a bad position or a bad wake-window table.
Status check_context(const PlanContext& context);

struct PlannedTrigger {
  Instant at;         // UTC
  std::string local;  // "2027-03-28T19:30:00+02:00"
  std::string routine;
  std::string schedule;  // the schedule's id
  // "clock 19:30", "sunset -30m", "wake window 2h15m after 17:05",
  // "not_after bound: no sunset (the sun is up all day)", "not_before bound:
  // sunset -30m is 16:02", "clock 02:30, in the DST gap: at 03:00", …
  std::string reason;
  date::year_month_day day;  // the local date the trigger belongs to
  Seconds grace{0};          // the schedule's grace
};

// A date on which a schedule would have triggered but cannot, and why.
struct SkippedDay {
  std::string schedule;
  std::optional<date::year_month_day> day;  // none for "no wake-up logged yet"
  std::string reason;  // "no sunset (the sun is up all day)", "wake window: no wake-up logged yet"
};

inline constexpr std::size_t kMaxTriggers = 100;
inline constexpr int kHorizonDays = 400;

struct Plan {
  std::vector<PlannedTrigger> triggers;  // ascending `at`; ties in the schedules' list order
  bool capped = false;                   // more were asked for than kMaxTriggers
  // Skips from from's local date up to the last trigger returned (to the
  // horizon when fewer than asked were found), earliest first, at most
  // kMaxTriggers of them.
  std::vector<SkippedDay> skipped;
};

// The next `count` triggers strictly after `from` (count is capped at
// kMaxTriggers; Plan::capped says so). Fewer when the horizon is reached.
// Errors: only from check_context().
Expected<Plan> next_triggers(const std::vector<Schedule>& schedules, Instant from,
                             std::size_t count, const PlanContext& context);

// ---- firing: missed triggers and clock jumps --------------------------------
//
// The contract. The caller keeps, across calls and across restarts (in the
// store):
//   last_checked  the `now` of its previous call;
//   last_fired    per schedule id, the `at` of the last trigger it fired.
// It calls due_triggers(schedules, last_checked, now, …) whenever an alarm set
// for the next trigger goes off, when it notices the clock jumped, and at
// start; it fires every trigger in `due`, then records last_fired[id] = at
// for each and last_checked = now, whatever came back.
//
// A trigger is due when
//     last_checked < at <= now,   now - at <= its grace,   at > last_fired[id].
// Consequences:
//  - an outage, or a clock that was wrong and jumps forward, spanning a
//    trigger: it fires late only while inside its grace; beyond, it is in
//    `missed` (the latest one per schedule, for the log), never fired hours late;
//  - the clock jumps back: now < last_checked, so nothing is due; the caller
//    still sets last_checked = now, and when the wall clock reaches a trigger
//    that already fired before the jump, last_fired keeps it from firing twice;
//  - a fall-back overlap repeats a wall-clock hour, but the plan holds one
//    instant per local date, so a trigger in it fires once.
// After a restart with no record, pass last_checked = now - kMaxGrace: a
// trigger missed within its grace then still fires.
// Only the last 8 days before `now` are looked at, however old last_checked is.
using LastFired = std::map<std::string, Instant, std::less<>>;

struct MissedTrigger {
  PlannedTrigger trigger;
  Seconds late{0};  // now - at
};

struct DueTriggers {
  std::vector<PlannedTrigger> due;    // ascending `at`, ties in list order
  std::vector<MissedTrigger> missed;  // beyond grace; the latest per schedule, in list order
};

Expected<DueTriggers> due_triggers(const std::vector<Schedule>& schedules, Instant last_checked,
                                   Instant now, const PlanContext& context,
                                   const LastFired& last_fired);

// {"at":"…Z","local":"…+02:00","routine","schedule","reason"}
nlohmann::json to_json(const PlannedTrigger& trigger);
// {"triggers":[…],"capped":false,"skipped":[{"schedule","date"(null for none),"reason"}]}
nlohmann::json to_json(const Plan& plan);

}  // namespace nursery::schedule
