#include "engine.hpp"

#include <algorithm>

namespace nursery {
namespace {

constexpr Role kRoles[] = {Capability::Light, Capability::Sound, Capability::Massager};

bool is_paused(const RunRecord& run) { return !run.pauses.empty() && !run.pauses.back().to; }

// A device with several roles (a Hatch Rest is light and sound) gets the
// values of each; it is on when any role wants it on.
void merge_role(DeviceValues& into, const DeviceValues& role_values) {
  const bool on = into.on.value_or(false) || role_values.on.value_or(false);
  const bool any_on = into.on.has_value() || role_values.on.has_value();
  into.merge(role_values);
  if (any_on) into.on = on;
}

}  // namespace

RoutineEngine::RoutineEngine(std::string room, std::vector<Device*> devices, Clock& clock,
                             RoutineHost& host, Logger log)
    : room_(std::move(room)), clock_(clock), host_(host), log_(std::move(log)),
      alarm_(clock.make_alarm()) {
  for (Device* d : devices) targets_.push_back(Target{d, {}, false, 0});
}

void RoutineEngine::begin(const config::RoutineConfig& routine, RunRecord run) {
  alarm_->cancel();
  timeline_.emplace(routine);
  run_ = std::move(run);
  step_index_ = -1;
  for (auto& t : targets_) t = Target{t.device, {}, false, 0};
  tick();
}

RoutineStatus RoutineEngine::status() const {
  RoutineStatus s;
  if (!timeline_) return s;
  const TimePoint now = clock_.now();
  const Duration e = routine_elapsed(run_, now);
  s.state = is_paused(run_) ? RoutineState::Paused : RoutineState::Running;
  s.routine = timeline_->routine().id;
  s.step_index = timeline_->step_index(e);
  s.step_count = timeline_->step_count();
  s.started_at = run_.started_at;
  if (s.state == RoutineState::Running)
    s.ends_at = now + std::max(Duration{0}, timeline_->duration() - e);
  return s;
}

Status RoutineEngine::pause() {
  if (!timeline_) return Error{"not_running", "No routine is running in this room.", 409};
  if (is_paused(run_)) return Error{"already_paused", "The routine is already paused.", 409};
  run_.pauses.push_back(Pause{clock_.now(), std::nullopt});
  log_.info("{}: {} paused", room_, timeline_->routine().name);
  tick();
  return Ok{};
}

Status RoutineEngine::resume() {
  if (!timeline_) return Error{"not_running", "No routine is running in this room.", 409};
  if (!is_paused(run_)) return Error{"not_paused", "The routine is not paused.", 409};
  run_.pauses.back().to = clock_.now();
  log_.info("{}: {} resumed", room_, timeline_->routine().name);
  tick();
  return Ok{};
}

Status RoutineEngine::skip() {
  if (!timeline_) return Error{"not_running", "No routine is running in this room.", 409};
  const Duration e = routine_elapsed(run_, clock_.now());
  auto next = timeline_->next_step_at(e);
  if (!next) {
    log_.info("{}: skipped past the last step of {}", room_, timeline_->routine().name);
    end(Outcome::Completed);
    return Ok{};
  }
  run_.skipped += *next - e;
  tick();
  return Ok{};
}

void RoutineEngine::end(Outcome outcome) {
  if (!timeline_) return;
  alarm_->cancel();
  run_.ended_at = clock_.now();
  run_.outcome = outcome;
  timeline_.reset();
  step_index_ = -1;
  host_.routine_ended(room_, outcome);
}

RoutineEngine::Target* RoutineEngine::find(std::string_view device_id) {
  for (auto& t : targets_)
    if (t.device->id() == device_id) return &t;
  return nullptr;
}

void RoutineEngine::hold(std::string_view device_id) {
  Target* t = find(device_id);
  if (!t || !timeline_) return;
  t->held = true;
  t->held_until_after_step = step_index_;
}

bool RoutineEngine::held(std::string_view device_id) const {
  for (const auto& t : targets_)
    if (t.device->id() == device_id) return t.held;
  return false;
}

void RoutineEngine::resend(std::string_view device_id) {
  if (Target* t = find(device_id)) {
    t->sent = {};
    if (timeline_) tick();
  }
}

void RoutineEngine::drive(Target& t, Duration e, bool paused) {
  if (t.held) return;
  const bool native = t.device->native_transition();
  DeviceValues wanted;
  Duration transition{0};
  std::optional<TimePoint> session_started;
  bool any = false;
  for (Role role : kRoles) {
    if (!has(t.device->capabilities(), role)) continue;
    auto seg = timeline_->segment(role, e);
    if (!seg) continue;
    any = true;
    DeviceValues v;
    if (native && !paused && seg->fading_at(e)) {
      v = seg->to;  // the device fades by itself over what is left
      transition = std::max(transition, seg->end - e);
    } else {
      v = quantize(seg->at(e));
    }
    merge_role(wanted, v);
    if (role == Capability::Massager && v.on == true) {
      if (auto on_at = timeline_->switched_on_at(role, e))
        session_started = clock_.now() - (e - *on_at);
    }
  }
  if (!any) return;
  DeviceValues delta = changed_fields(as_command(wanted), t.sent);
  if (delta.empty()) return;
  DeviceCommand command{delta, native ? transition : Duration{0}, std::nullopt};
  t.sent.merge(delta);
  host_.send_from_routine(*t.device, command, session_started);
}

void RoutineEngine::tick() {
  if (!timeline_) return;
  const TimePoint now = clock_.now();
  const Duration e = routine_elapsed(run_, now);
  const bool paused = is_paused(run_);
  const int index = timeline_->step_index(e);
  const bool step_began = index != step_index_ && timeline_->routine().steps.front().at <= e;
  if (index != step_index_) {
    step_index_ = index;
    for (auto& t : targets_) {
      if (t.held && index > t.held_until_after_step) {
        t.held = false;
        t.sent = {};
        log_.info("{}: {} follows the routine again", room_, t.device->name());
      }
    }
  }
  for (auto& t : targets_) drive(t, e, paused);
  if (step_began) host_.routine_step_began(room_, index);
  if (paused) {
    alarm_->cancel();
    return;
  }
  if (e >= timeline_->duration()) {
    end(Outcome::Completed);
    return;
  }
  Duration next = timeline_->duration();
  if (auto n = timeline_->next_step_at(e)) next = std::min(next, *n);
  for (const auto& t : targets_) {
    if (t.held || t.device->native_transition()) continue;
    for (Role role : kRoles) {
      if (!has(t.device->capabilities(), role)) continue;
      if (auto seg = timeline_->segment(role, e))
        if (auto step = next_visible_change(*seg, e)) next = std::min(next, e + *step);
    }
  }
  alarm_->set(now + (next - e), [this] { tick(); });
}

}  // namespace nursery
