#include "engine.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace nursery {
namespace {

// After a clamp that applies only for a moment, ask again this soon.
constexpr Duration kReaskDelay{1000};

Error not_running() { return Error{"not_running", "No routine is running in this room.", 409}; }

}  // namespace

RoutineEngine::RoutineEngine(std::string room, std::vector<Device*> devices, Clock& clock,
                             RoutineHost& host, Logger log)
    : room_(std::move(room)),
      clock_(clock),
      host_(host),
      log_(std::move(log)),
      alarm_(clock.make_alarm()) {
  for (Device* d : devices) targets_.push_back(Target{d, {}, 0, {}, false});
}

void RoutineEngine::begin(const config::RoutineConfig& routine, RunRecord run) {
  alarm_->cancel();
  timeline_.emplace(routine);
  run_ = std::move(run);
  step_index_ = -1;
  role_step_.clear();
  for (auto& t : targets_) t = Target{t.device, {}, 0, {}, false};
  tick();
}

std::string RoutineEngine::intent(int step) const {
  return fmt::format("run {} step {}", run_.id, step);
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

std::optional<RunRecord> RoutineEngine::after_resume() const {
  if (!timeline_ || !is_paused(run_)) return std::nullopt;
  RunRecord run = run_;
  run.pauses.back().to = clock_.now();
  return run;
}

std::optional<RunRecord> RoutineEngine::after_skip() const {
  if (!timeline_) return std::nullopt;
  RunRecord run = run_;
  const Duration e = routine_elapsed(run_, clock_.now());
  run.skipped += timeline_->next_step_at(e).value_or(timeline_->duration()) - e;
  return run;
}

Status RoutineEngine::pause() {
  if (!timeline_) return not_running();
  if (is_paused(run_)) return Error{"already_paused", "The routine is already paused.", 409};
  run_.pauses.push_back(Pause{clock_.now(), std::nullopt});
  log_.info("{}: {} paused", room_, timeline_->routine().name);
  tick();
  return Ok{};
}

Status RoutineEngine::resume() {
  if (!timeline_) return not_running();
  if (!is_paused(run_)) return Error{"not_paused", "The routine is not paused.", 409};
  run_ = *after_resume();
  log_.info("{}: {} resumed", room_, timeline_->routine().name);
  for (auto& t : targets_) t.asked = {};  // what was paused is asked for again
  tick();
  return Ok{};
}

Status RoutineEngine::skip() {
  if (!timeline_) return not_running();
  const auto next = timeline_->next_step_at(routine_elapsed(run_, clock_.now()));
  // Past the last step: to the end, where every device has its final values.
  run_ = *after_skip();
  if (!next) log_.info("{}: skipped to the end of {}", room_, timeline_->routine().name);
  if (is_paused(run_)) return Ok{};  // the position moves; nothing is applied until resume
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

void RoutineEngine::release() {
  alarm_->cancel();
  timeline_.reset();
  step_index_ = -1;
}

RoutineEngine::Target* RoutineEngine::find(std::string_view device_id) {
  for (auto& t : targets_)
    if (t.device->id() == device_id) return &t;
  return nullptr;
}

void RoutineEngine::hold(std::string_view device_id, Capabilities capabilities) {
  Target* t = find(device_id);
  if (!t || !timeline_) return;
  for (Capability c : kAllCapabilities) {
    if (!has(capabilities, c) || !has(t->device->capabilities(), c)) continue;
    t->held |= bit(c);
    auto it = role_step_.find(c);
    t->held_after_step[c] = it == role_step_.end() ? -1 : it->second;
  }
}

Capabilities RoutineEngine::held(std::string_view device_id) const {
  for (const auto& t : targets_)
    if (t.device->id() == device_id) return t.held;
  return 0;
}

const DeviceValues* RoutineEngine::asked(std::string_view device_id) const {
  for (const auto& t : targets_)
    if (t.device->id() == device_id) return &t.asked;
  return nullptr;
}

void RoutineEngine::resend(std::string_view device_id) {
  if (Target* t = find(device_id)) {
    t->asked = {};
    if (timeline_) tick();
  }
}

void RoutineEngine::shift(Duration by) {
  if (!timeline_) return;
  run_.started_at += by;
  for (auto& p : run_.pauses) {
    p.from += by;
    if (p.to) *p.to += by;
  }
}

void RoutineEngine::drive(Target& t, Duration e, bool paused) {
  const Capabilities caps = t.device->capabilities();
  DeviceValues wanted;
  Duration transition{0};
  Intents intents;
  for (Role role : kAllCapabilities) {
    if (!has(caps, role) || has(t.held, role)) continue;
    auto seg = timeline_->segment(role, e);
    if (!seg) continue;
    DeviceValues v;
    const bool fading = seg->fading_at(e);
    if (paused && role == Capability::Massager) {
      v = DeviceValues::off(bit(role));
    } else if (!paused && fading && t.device->native_transition(role)) {
      v = seg->to;  // the device fades by itself over what is left
      transition = std::max(transition, seg->end - e);
    } else {
      v = fading ? quantize(seg->at(e)) : seg->to;
    }
    v = as_command(v.only(bit(role)));
    if (v.is_on(role))
      if (auto step = timeline_->switched_on_step(role, e)) intents[role] = intent(*step);
    wanted.merge(v);
  }
  DeviceValues delta = t.reask ? wanted : changed_fields(wanted, t.asked);
  t.reask = false;
  if (delta.empty()) return;
  t.asked.merge(delta);
  const SafetyDecision decision = host_.send_from_routine(*t.device, delta, transition, intents);
  // A fade whose target the gentle start held back rises once the session
  // has begun; a value set at once stays where the limit put it until the
  // role's next step (no jolt a second later).
  if (decision.transient() && transition > Duration{0}) t.reask = true;
}

void RoutineEngine::tick() {
  if (!timeline_) return;
  const TimePoint now = clock_.now();
  const Duration e = routine_elapsed(run_, now);
  const bool paused = is_paused(run_);
  const int index = timeline_->step_index(e);
  // The position a run begins (or is recovered) at is not a step beginning.
  const bool step_began = step_index_ >= 0 && index != step_index_;
  step_index_ = index;
  for (Role role : kAllCapabilities) {
    const int last = timeline_->last_step_of(role, e);
    auto it = role_step_.find(role);
    if (it != role_step_.end() && it->second == last) continue;
    role_step_[role] = last;
    // A new step of this role: holds on it end, and what it wants is asked
    // for in full (a limit that clamped it before may allow it now).
    for (auto& t : targets_) {
      if (!has(t.device->capabilities(), role)) continue;
      if (has(t.held, role) && t.held_after_step[role] < last) {
        t.held &= ~bit(role);
        log_.info("{}: {} follows the routine again", room_, t.device->name());
      }
      t.asked.erase(t.asked.only(bit(role)));
    }
  }
  for (auto& t : targets_) drive(t, e, paused);
  if (!timeline_) return;  // a send ended the run (it cannot today, but stay safe)
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
    if (t.reask) next = std::min(next, e + kReaskDelay);
    for (Role role : kAllCapabilities) {
      if (!has(t.device->capabilities(), role) || has(t.held, role) ||
          t.device->native_transition(role))
        continue;
      if (auto seg = timeline_->segment(role, e))
        if (auto step = next_visible_change(*seg, e)) next = std::min(next, e + *step);
    }
  }
  alarm_->set(now + (next - e), [this] { tick(); });
}

}  // namespace nursery
