#include "scheduler.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "daemon/schedule/civil_time.hpp"

namespace nursery {

using schedule::PlannedTrigger;

namespace {

bool has_wake_window(const std::vector<schedule::Schedule>& list) {
  return std::any_of(list.begin(), list.end(), [](const schedule::Schedule& s) {
    return s.enabled && std::holds_alternative<schedule::WakeWindowTrigger>(s.trigger);
  });
}

Error unknown_room(std::string_view room) {
  return Error{"unknown_room", fmt::format("There is no room \"{}\".", room), 404};
}

NextTrigger next_of(const PlannedTrigger& t) {
  return NextTrigger{t.at, t.local, t.routine, t.schedule, t.reason};
}

bool same(const std::optional<NextTrigger>& a, const std::optional<NextTrigger>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->at == b->at && a->routine == b->routine && a->schedule == b->schedule &&
         a->reason == b->reason;
}

}  // namespace

Scheduler::Scheduler(Clock& clock, HubApi& hub, ScheduleStore& store, Logger log,
                     NextListener on_next)
    : clock_(clock), hub_(hub), store_(store), log_(std::move(log)), on_next_(std::move(on_next)) {
  jump_watch_ = clock_.watch_jumps([this](Duration by) { on_clock_jump(by); });
}

Scheduler::~Scheduler() = default;

void Scheduler::start(const config::Config& config) { configure(config, true); }
void Scheduler::reload(const config::Config& config) { configure(config, false); }

void Scheduler::configure(const config::Config& config, bool at_start) {
  auto zone = schedule::find_zone(config.hub.time_zone);
  zone_ = zone ? *zone : date::locate_zone("UTC");  // the loader checked it; UTC rather than fail
  position_ = {config.hub.latitude, config.hub.longitude};
  birth_date_.reset();
  if (config.child.birth_date) birth_date_ = date::year_month_day{*config.child.birth_date};
  routine_names_.clear();
  for (const auto& r : config.routines) routine_names_[r.id] = r.name;

  auto old = std::move(rooms_);
  rooms_.clear();
  const TimePoint now = clock_.now();
  for (const auto& rc : config.rooms) {
    RoomState room;
    room.id = rc.id;
    room.name = rc.name;
    room.alarm = clock_.make_alarm();
    if (auto stored = store_.schedules(rc.id); !stored) {
      log_.error("{}: {}; its schedules are off until the store can be read", rc.name,
                 stored.error().message);
    } else if (*stored) {
      room.schedules = std::move(**stored);
    } else if (!rc.schedules.empty()) {
      // Imported once: from now on the store's list is the one in force.
      if (auto st = store_.set_schedules(rc.id, rc.schedules); !st)
        log_.warning("{}: cannot store the config's schedules ({}); using them anyway", rc.name,
                     st.error().message);
      else
        log_.notice("{}: imported {} schedule(s) from the config", rc.name, rc.schedules.size());
      room.schedules = rc.schedules;
    }
    // Routines a reload removed: their schedules wait, said once here.
    for (const auto& s : room.schedules)
      if (!routine_names_.count(s.routine))
        log_.warning("{}: schedule {} names routine \"{}\", which the config no longer has",
                     rc.name, s.id, s.routine);
    if (auto it = old.find(rc.id); it != old.end()) {
      room.mark = std::move(it->second.mark);
      room.next = std::move(it->second.next);
    } else if (auto mark = store_.scheduler_mark(rc.id)) {
      room.mark = std::move(*mark);
    } else {
      log_.warning("{}: {}", rc.name, mark.error().message);
    }
    // Only a start catches up on what was missed (within grace); a reload
    // changes what is planned from now on.
    if (!at_start) room.mark.last_checked = now;
    auto [it, inserted] = rooms_.emplace(rc.id, std::move(room));
    (void)inserted;
  }
  for (auto& [id, room] : old)
    if (!rooms_.count(id) && on_next_) on_next_(id, std::nullopt);
  for (auto& [id, room] : rooms_) check(room);
}

Scheduler::RoomState* Scheduler::find(std::string_view room) {
  auto it = rooms_.find(room);
  return it == rooms_.end() ? nullptr : &it->second;
}

const Scheduler::RoomState* Scheduler::find(std::string_view room) const {
  auto it = rooms_.find(room);
  return it == rooms_.end() ? nullptr : &it->second;
}

Expected<schedule::PlanContext> Scheduler::context(const RoomState& room) const {
  schedule::PlanContext ctx;
  ctx.zone = zone_;
  ctx.position = position_;
  ctx.birth_date = birth_date_;
  if (has_wake_window(room.schedules)) {
    auto wake = store_.last_wake_time(room.id);
    if (!wake) return wake.error();
    ctx.last_wake = *wake;
  }
  return ctx;
}

void Scheduler::check(RoomState& room) {
  const TimePoint now = clock_.now();
  auto ctx = context(room);
  if (!ctx) {
    log_.warning("{}: {}", room.name, ctx.error().message);
    arm(room);
    return;
  }
  const TimePoint last_checked = room.mark.last_checked.value_or(
      now - std::chrono::duration_cast<Duration>(schedule::kMaxGrace));
  auto due = schedule::due_triggers(room.schedules, last_checked, now, *ctx, room.mark.last_fired);
  room.mark.last_checked = now;
  if (!due) {
    log_.warning("{}: cannot plan its schedules: {}", room.name, due.error().message);
    arm(room);
    return;
  }
  std::map<std::string, TimePoint, std::less<>> fired;
  for (const auto& t : due->due) {
    room.mark.last_fired[t.schedule] = t.at;
    fired[t.schedule] = t.at;
    fire(room, t);
  }
  for (const auto& m : due->missed)
    skip(room, m.trigger,
         fmt::format(
             "missed by {} (beyond its grace of {})",
             schedule::format_duration(std::chrono::duration_cast<schedule::Seconds>(m.late)),
             schedule::format_duration(m.trigger.grace)));
  // Stored only when something happened: the hub lives on an SD card.
  if (!fired.empty() || !due->missed.empty())
    if (auto st = store_.save_scheduler_mark(room.id, now, fired); !st)
      log_.warning("{}: {}", room.name, st.error().message);
  arm(room);
}

void Scheduler::fire(RoomState& room, const PlannedTrigger& t) {
  const TimePoint now = clock_.now();
  auto started = hub_.routine(
      room.id, RoutineRequest{RoutineAction::Start, t.routine, CommandSource::Schedule});
  if (!started) {
    if (started.error().code == "routine_running") {
      std::string running = t.routine;
      for (const auto& r : hub_.status().rooms)
        if (r.id == room.id) running = r.routine.routine;
      skip(room, t, fmt::format("{} was running", running));
    } else {
      skip(room, t, started.error().message);
    }
    return;
  }
  const auto late = std::chrono::duration_cast<schedule::Seconds>(now - t.at);
  log_.notice("{}: schedule {} started {} ({}{})", room.name, t.schedule, t.routine, t.reason,
              late.count() > 0 ? fmt::format(", {} late", schedule::format_duration(late)) : "");
}

void Scheduler::skip(RoomState& room, const PlannedTrigger& t, std::string reason) {
  log_.warning("{}: schedule {} skipped its {} trigger of {}: {}", room.name, t.schedule, t.routine,
               t.local, reason);
  if (auto st =
          store_.add_schedule_skip(ScheduleSkip{t.at, room.id, t.schedule, t.routine, reason});
      !st)
    log_.warning("{}: {}", room.name, st.error().message);
}

void Scheduler::arm(RoomState& room) {
  const TimePoint now = clock_.now();
  std::optional<NextTrigger> next;
  if (auto ctx = context(room)) {
    if (auto plan = schedule::next_triggers(room.schedules, now, 1, *ctx);
        plan && !plan->triggers.empty())
      next = next_of(plan->triggers.front());
  }
  std::optional<TimePoint> wake_at;
  if (next) wake_at = next->at;
  // A wake-up can be logged through any surface: look again now and then.
  const bool poll = has_wake_window(room.schedules);
  if (poll && (!wake_at || *wake_at > now + kWakePoll)) wake_at = now + kWakePoll;
  if (wake_at) {
    const std::string id = room.id;
    room.alarm->set(*wake_at, [this, id] {
      if (RoomState* r = find(id)) check(*r);
    });
  } else {
    room.alarm->cancel();
  }
  if (!same(room.next, next)) {
    room.next = next;
    if (next)
      log_.info("{}: next {} at {} ({}, schedule {})", room.name, next->routine, next->local,
                next->reason, next->schedule);
    if (on_next_) on_next_(room.id, next);
  }
}

void Scheduler::on_clock_jump(Duration) {
  // Every room is looked at again at the corrected time: what the jump
  // passed fires within its grace, the alarms are set for the new wall time.
  for (auto& [id, room] : rooms_) check(room);
}

void Scheduler::replan(std::string_view room_id) {
  if (RoomState* room = find(room_id)) arm(*room);
}

Expected<std::vector<schedule::Schedule>> Scheduler::schedules(std::string_view room_id) const {
  const RoomState* room = find(room_id);
  if (!room) return unknown_room(room_id);
  return room->schedules;
}

Expected<std::vector<schedule::Schedule>> Scheduler::set_schedules(
    std::string_view room_id, std::vector<schedule::Schedule> list) {
  RoomState* room = find(room_id);
  if (!room) return unknown_room(room_id);
  for (std::size_t i = 0; i < list.size(); ++i)
    if (!routine_names_.count(list[i].routine))
      return Error{"unknown_routine",
                   fmt::format("schedules[{}]: routine \"{}\" does not exist", i, list[i].routine),
                   400};
  if (auto st = store_.set_schedules(room->id, list); !st) return st.error();
  room->schedules = std::move(list);
  // A new list plans from now: a trigger already past is not fired.
  room->mark.last_checked = clock_.now();
  // Stored too, so that after an outage a trigger it spans is known as missed.
  if (auto st = store_.save_scheduler_mark(room->id, *room->mark.last_checked, {}); !st)
    log_.warning("{}: {}", room->name, st.error().message);
  log_.notice("{}: {} schedule(s) set", room->name, room->schedules.size());
  arm(*room);
  return room->schedules;
}

Expected<schedule::Plan> Scheduler::next_triggers(std::string_view room_id,
                                                  std::optional<TimePoint> from,
                                                  std::size_t count) const {
  const RoomState* room = find(room_id);
  if (!room) return unknown_room(room_id);
  auto ctx = context(*room);
  if (!ctx) return ctx.error();
  return schedule::next_triggers(room->schedules, from.value_or(clock_.now()), count, *ctx);
}

Expected<schedule::SunDay> Scheduler::sun(std::optional<date::year_month_day> day) const {
  const auto date = day.value_or(schedule::local_date(*zone_, clock_.now()));
  return schedule::sun_day(date, position_, *zone_);
}

std::optional<NextTrigger> Scheduler::next(std::string_view room_id) const {
  const RoomState* room = find(room_id);
  return room ? room->next : std::nullopt;
}

}  // namespace nursery
