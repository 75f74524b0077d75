#pragma once
// The scheduler: when each room's schedules start their routine.
//
// It plans with the pure library (daemon/schedule, planner.hpp) and acts on
// the hub's clock: one alarm per room, set for the room's next trigger. When
// the alarm goes off, at start, and after the wall clock jumped, it asks
// due_triggers() what is due (a trigger missed while the hub was down or its
// clock was wrong fires late only inside its grace, never hours late) and
// starts each due routine through HubApi::routine with source "schedule", so
// a scheduled start passes the same safety gate as one from a parent. A
// trigger that finds another routine running does not interrupt it: it is
// skipped, logged and stored (ScheduleStore::add_schedule_skip), as is a
// trigger found beyond its grace.
//
// Schedules are data in the store; [[rooms.schedules]] of the config are
// imported once into a store that has none for the room. A change of the
// list (set_schedules), a reload and a clock jump re-plan; a change of the
// list or a reload never fires a trigger that is already past. A room with a
// wake-window schedule re-reads its last wake-up every kWakePoll (and on
// replan()), so that a wake-up logged through any surface moves its trigger.
//
// Thread: the loop thread. Never throws.

#include <date/tz.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "daemon/clock.hpp"
#include "daemon/hub_api.hpp"
#include "daemon/log.hpp"
#include "daemon/schedule/planner.hpp"
#include "daemon/schedule_store.hpp"

namespace nursery {

class Scheduler {
 public:
  // Told a room's next trigger whenever it changes (nullopt: none ahead).
  using NextListener = std::function<void(const std::string& room, std::optional<NextTrigger>)>;

  static constexpr Duration kWakePoll = std::chrono::minutes(5);

  Scheduler(Clock& clock, HubApi& hub, ScheduleStore& store, Logger log, NextListener on_next = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // At start: imports, reads what the store knows, fires what is due
  // (within its grace) and arms every room.
  void start(const config::Config& config);
  // On reload: the rooms of the new config, each keeping where it stood;
  // nothing past is fired.
  void reload(const config::Config& config);
  // Re-reads the room's last wake-up and re-arms (the sleep log changed).
  void replan(std::string_view room);

  Expected<std::vector<schedule::Schedule>> schedules(std::string_view room) const;
  Expected<std::vector<schedule::Schedule>> set_schedules(std::string_view room,
                                                          std::vector<schedule::Schedule> list);
  Expected<schedule::Plan> next_triggers(std::string_view room, std::optional<TimePoint> from,
                                         std::size_t count) const;
  Expected<schedule::SunDay> sun(std::optional<date::year_month_day> day) const;
  std::optional<NextTrigger> next(std::string_view room) const;

 private:
  struct RoomState {
    std::string id;
    std::string name;
    std::vector<schedule::Schedule> schedules;
    SchedulerMark mark;
    std::unique_ptr<Alarm> alarm;
    std::optional<NextTrigger> next;
  };

  void configure(const config::Config& config, bool at_start);
  RoomState* find(std::string_view room);
  const RoomState* find(std::string_view room) const;
  Expected<schedule::PlanContext> context(const RoomState& room) const;
  // Fires what is due, records what was missed, then arms.
  void check(RoomState& room);
  void fire(RoomState& room, const schedule::PlannedTrigger& trigger);
  void skip(RoomState& room, const schedule::PlannedTrigger& trigger, std::string reason);
  void arm(RoomState& room);
  void on_clock_jump(Duration by);

  Clock& clock_;
  HubApi& hub_;
  ScheduleStore& store_;
  Logger log_;
  NextListener on_next_;
  const date::time_zone* zone_ = nullptr;
  schedule::GeoPosition position_;
  std::optional<date::year_month_day> birth_date_;
  std::map<std::string, RoomState, std::less<>> rooms_;
  std::map<std::string, std::string, std::less<>> routine_names_;
  Subscription jump_watch_;
};

}  // namespace nursery
