// The Hub's part in the wake light: when the wake time of a room's night
// is, and the sound auto-off that follows it.
#include "daemon/schedule/civil_time.hpp"
#include "hub.hpp"

namespace nursery {

std::optional<WakePlan> Hub::wake_plan(std::string_view room_id,
                                       std::optional<TimePoint> bedtime) const {
  const Room* room = find_room(room_id);
  if (!room || !room->config().wake) return std::nullopt;
  if (!bedtime) {
    if (!room->night(clock_.now(), config_.safety.light.night_window)) return std::nullopt;
    bedtime = room->night_since();
  }
  auto zone = schedule::find_zone(config_.hub.time_zone);
  if (!bedtime || !zone) return std::nullopt;
  return plan_wake(*room->config().wake, **zone, *bedtime);
}

void Hub::follow_wake_time(const Room& room) {
  const auto plan = wake_plan(room.id());
  if (!plan) return;
  log_.notice("{}: wake light at {}, white noise off then", room.config().name,
              devices_.local_time(plan->wake_at));
  set_wake_time(room.id(), plan->wake_at);
}

}  // namespace nursery
