#pragma once
// What the scheduler keeps across restarts, and what it reads of the sleep
// log. The interface knows nothing of SQL; daemon/store implements it with
// SQLite. Thread: the loop thread. Methods never throw.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clock.hpp"
#include "expected.hpp"
#include "schedule/schedule.hpp"

namespace nursery {

// A trigger that did not start its routine: another routine was running,
// the start was refused, or it was found beyond its grace.
struct ScheduleSkip {
  TimePoint at;  // the trigger's instant
  std::string room;
  std::string schedule;
  std::string routine;
  std::string reason;  // "bedtime was running", "missed by 3h (grace 15m)"
  bool operator==(const ScheduleSkip&) const = default;
};

// Where a room's firing stands (planner.hpp, due_triggers' contract).
struct SchedulerMark {
  std::optional<TimePoint> last_checked;
  std::map<std::string, TimePoint, std::less<>> last_fired;  // per schedule id
};

class ScheduleStore {
 public:
  virtual ~ScheduleStore() = default;
  // The room's list; nullopt when none was ever stored for it (then the
  // config's [[rooms.schedules]] are imported). An empty list is a list.
  virtual Expected<std::optional<std::vector<schedule::Schedule>>> schedules(
      std::string_view room) = 0;
  virtual Status set_schedules(std::string_view room,
                               const std::vector<schedule::Schedule>& schedules) = 0;
  virtual Expected<SchedulerMark> scheduler_mark(std::string_view room) = 0;
  // Sets last_checked and, for each entry of `fired`, last_fired.
  virtual Status save_scheduler_mark(
      std::string_view room, TimePoint checked,
      const std::map<std::string, TimePoint, std::less<>>& fired) = 0;
  virtual Status add_schedule_skip(const ScheduleSkip& skip) = 0;
  // Newest first.
  virtual Expected<std::vector<ScheduleSkip>> schedule_skips(std::string_view room,
                                                             std::size_t limit) = 0;
  // The latest "awake" entry of the room's sleep log: where a wake window
  // starts. nullopt when none is logged.
  virtual Expected<std::optional<TimePoint>> last_wake_time(std::string_view room) = 0;
};

}  // namespace nursery
