#include "hub.hpp"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "version.hpp"

namespace nursery {
namespace {

constexpr double kLevelTolerance = 0.015;  // reports round; 1 % is not a change of mind
constexpr int kColorTolerance = 30;

bool differs(const std::optional<double>& seen, const std::optional<double>& sent) {
  return seen && sent && std::abs(*seen - *sent) > kLevelTolerance;
}

// A reported value that contradicts what the hub sent: someone else acted.
bool contradicts(const DeviceValues& seen, const DeviceValues& sent) {
  if (seen.on && sent.on && *seen.on != *sent.on) return true;
  if (seen.on == false || sent.on == false) return false;  // levels of an off device mean nothing
  if (differs(seen.brightness, sent.brightness) || differs(seen.volume, sent.volume) ||
      differs(seen.intensity, sent.intensity))
    return true;
  if (seen.color_temp && sent.color_temp &&
      std::abs(*seen.color_temp - *sent.color_temp) > kColorTolerance)
    return true;
  if (seen.track && sent.track && *seen.track != *sent.track) return true;
  return seen.pattern && sent.pattern && *seen.pattern != *sent.pattern;
}

// Which values a device cannot take, as an API error.
std::optional<Error> unsupported(const Device& device, const DeviceValues& v) {
  auto check = [&](bool present, std::string_view field) -> std::optional<Error> {
    if (!present) return std::nullopt;
    auto cap = capability_of_field(field);
    if (cap && !has(device.capabilities(), *cap))
      return Error{
          "unsupported_value",
          fmt::format("{} has no {} (it is a {} device).", device.name(), field, device.driver()),
          400};
    return std::nullopt;
  };
  for (auto e :
       {check(v.brightness.has_value(), "brightness"),
        check(v.color_temp.has_value(), "color_temp"), check(v.volume.has_value(), "volume"),
        check(v.track.has_value(), "track"), check(v.intensity.has_value(), "intensity"),
        check(v.pattern.has_value(), "pattern")})
    if (e) return e;
  return std::nullopt;
}

}  // namespace

std::string_view command_source_name(CommandSource source) {
  switch (source) {
    case CommandSource::Routine:
      return "routine";
    case CommandSource::Api:
      return "api";
    case CommandSource::Safety:
      return "safety";
    case CommandSource::Shutdown:
      return "shutdown";
  }
  return "unknown";
}

Hub::Hub(config::Config config, Clock& clock, RunStore& store, LogSink& sink)
    : config_(std::move(config)),
      clock_(clock),
      store_(store),
      log_(sink, "hub"),
      safety_(config_.safety, config_.child.birth_date) {
  try {
    zone_ = date::locate_zone(config_.hub.time_zone);
  } catch (const std::exception&) {
    zone_ = nullptr;  // the loader checked it; fall back to UTC rather than fail
  }
}

Hub::~Hub() = default;

Expected<std::unique_ptr<Hub>> Hub::create(config::Config config, Clock& clock, RunStore& store,
                                           LogSink& sink, const DeviceFactory& factory) {
  std::unique_ptr<Hub> hub(new Hub(std::move(config), clock, store, sink));
  hub->slots_.reserve(hub->config_.devices.size());
  for (const auto& dc : hub->config_.devices) {
    auto device = factory(dc, *hub);
    if (!device) return device.error();
    Slot slot;
    slot.device = std::move(*device);
    slot.auto_off = clock.make_alarm();
    hub->slots_.push_back(std::move(slot));
  }
  for (auto& slot : hub->slots_) slot.device->start();
  for (const auto& rc : hub->config_.rooms) {
    std::vector<Device*> devices;
    for (auto& s : hub->slots_)
      if (s.device->room() == rc.id) devices.push_back(s.device.get());
    hub->rooms_.push_back(Room{&rc,
                               std::make_unique<RoutineEngine>(rc.id, std::move(devices), clock,
                                                               *hub, hub->log_.child("engine")),
                               std::nullopt});
  }
  return hub;
}

void Hub::recover() {
  const TimePoint now = clock_.now();
  // Night mode follows the newest bedtime or wake run of each room.
  if (auto recent = store_.recent_runs(RunQuery{.limit = 50})) {
    for (auto it = recent->rbegin(); it != recent->rend(); ++it) {
      Room* room = find_room(it->room);
      const auto* routine = config_.find_routine(it->routine);
      if (room && routine) update_night(*room, *routine, it->started_at);
    }
  }
  auto open = store_.open_runs();
  if (!open) {
    log_.error("cannot read unfinished runs: {}", open.error().message);
    return;
  }
  for (auto& run : *open) {
    Room* room = find_room(run.room);
    const auto* routine = config_.find_routine(run.routine);
    const bool known = room && routine && !room->engine->active();
    if (known && routine_elapsed(run, now) < Timeline(*routine).duration()) {
      log_.notice("{}: resuming {} where it would be now", room->config->name, routine->name);
      room->engine->begin(*routine, run);
      record(run.room, "", "routine_resumed_after_restart", routine->id);
      continue;
    }
    log_.notice("closing run {} of {} in {} as interrupted{}", run.id, run.routine, run.room,
                known ? ": it would have ended while the hub was down" : "");
    if (auto st = store_.end_run(run.id, now, Outcome::Interrupted); !st)
      log_.error("cannot close run {}: {}", run.id, st.error().message);
  }
  changed();
}

void Hub::shutdown() {
  for (auto& slot : slots_) {
    slot.auto_off->cancel();
    if (has(slot.device->capabilities(), Capability::Massager) && slot.applied.on != false)
      dispatch(slot, DeviceCommand{DeviceValues::off(), Duration{0}, std::nullopt},
               CommandSource::Shutdown);
  }
  release();
}

std::vector<std::string> Hub::release() {
  std::vector<std::string> massagers_on;
  for (auto& slot : slots_) {
    slot.auto_off->cancel();
    if (has(slot.device->capabilities(), Capability::Massager) && slot.applied.on == true)
      massagers_on.push_back(slot.device->id());
  }
  // Engines are dropped without ending their runs: the next hub (after a
  // restart or a reload) recomputes them.
  for (auto& room : rooms_)
    room.engine = std::make_unique<RoutineEngine>(room.config->id, std::vector<Device*>{}, clock_,
                                                  *this, log_.child("engine"));
  return massagers_on;
}

void Hub::settle_massagers(const std::vector<std::string>& were_on) {
  for (const auto& id : were_on) {
    Slot* slot = find_slot(id);
    if (!slot || slot->applied.on == true) continue;
    log_.child("safety").notice("{}: switched off: no routine keeps it on after the reload",
                                slot->device->name());
    dispatch(*slot, DeviceCommand{DeviceValues::off(), Duration{0}, std::nullopt},
             CommandSource::Safety);
  }
}

std::string Hub::local_time(TimePoint t) const {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  if (!zone_) return date::format("%H:%M:%S", secs);
  return date::format("%H:%M:%S", date::make_zoned(zone_, secs));
}

Hub::Room* Hub::find_room(std::string_view id) {
  for (auto& r : rooms_)
    if (r.config->id == id) return &r;
  return nullptr;
}
const Hub::Room* Hub::find_room(std::string_view id) const {
  return const_cast<Hub*>(this)->find_room(id);
}
Hub::Slot* Hub::find_slot(std::string_view id) {
  for (auto& s : slots_)
    if (s.device->id() == id) return &s;
  return nullptr;
}
const Hub::Slot* Hub::find_slot(std::string_view id) const {
  return const_cast<Hub*>(this)->find_slot(id);
}
Device* Hub::device(std::string_view id) {
  Slot* s = find_slot(id);
  return s ? s->device.get() : nullptr;
}

bool Hub::is_night(const Room& room) const {
  return room.night_since && clock_.now() < *room.night_since + config_.safety.light.night_window;
}

void Hub::update_night(Room& room, const config::RoutineConfig& routine, TimePoint started) {
  if (routine.kind == config::RoutineKind::Bedtime) room.night_since = started;
  if (routine.kind == config::RoutineKind::Wake) room.night_since.reset();
}

void Hub::record(std::string_view room, std::string_view device, std::string_view kind,
                 std::string detail) {
  auto st = store_.add_event(EventRecord{clock_.now(), std::string(room), std::string(device),
                                         std::string(kind), std::move(detail)});
  if (!st) log_.error("cannot record {} event: {}", kind, st.error().message);
}

void Hub::changed() {
  if (on_change_) on_change_();
}

bool Hub::any_routine_active() const {
  return std::any_of(rooms_.begin(), rooms_.end(),
                     [](const Room& r) { return r.engine->active(); });
}

std::string Hub::summary() const {
  std::vector<std::string> parts;
  for (const auto& room : rooms_) {
    auto s = room.engine->status();
    if (s.state == RoutineState::Idle) {
      parts.push_back(fmt::format("{}: idle", room.config->name));
    } else {
      parts.push_back(fmt::format("{}: {} {}, step {} of {}", room.config->name, s.routine,
                                  routine_state_name(s.state), s.step_index + 1, s.step_count));
    }
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

SafetyDecision Hub::dispatch(Slot& slot, const DeviceCommand& command, CommandSource source,
                             std::optional<TimePoint> session_started) {
  Device& device = *slot.device;
  const Room* room = find_room(device.room());
  const TimePoint now = clock_.now();
  const bool massager = has(device.capabilities(), Capability::Massager);
  if (massager && slot.applied.on == true && slot.session_started)
    session_started = slot.session_started;  // a running session keeps its start
  SafetySituation situation{device.capabilities(), slot.applied, room && is_night(*room), now,
                            session_started};
  SafetyDecision decision = safety_.check(command, situation);
  if (!decision.clamps.empty()) {
    std::vector<std::string> what;
    for (const auto& c : decision.clamps)
      what.push_back(fmt::format("{} {} -> {} ({})", c.field, c.requested, c.applied, c.reason));
    auto text = fmt::format("{}", fmt::join(what, "; "));
    log_.child("safety").notice("{}: {} command limited: {}", device.name(),
                                command_source_name(source), text);
    record(device.room(), device.id(), "clamp", text);
  }
  // Only what the device is not already known to have is sent.
  DeviceCommand to_send = decision.command;
  to_send.values = changed_fields(decision.command.values, slot.applied);
  const DeviceValues& v = to_send.values;
  const bool was_on = slot.applied.on == true;
  slot.applied.merge(v);
  const bool is_on = slot.applied.on == true;
  if (!was_on && is_on) {
    if (massager) {
      slot.session_started = session_started.value_or(now);
      arm_auto_off(slot, *slot.session_started + safety_.massage_session_limit(now),
                   "the massage session for the child's age is over");
    } else if (has(device.capabilities(), Capability::Sound)) {
      arm_auto_off(slot, now + safety_.sound_auto_off(), "sound auto-off");
    }
  } else if (was_on && !is_on) {
    slot.auto_off->cancel();
    slot.session_started.reset();
  }
  if (!v.empty()) device.apply(to_send);
  return decision;
}

void Hub::arm_auto_off(Slot& slot, TimePoint at, std::string reason) {
  Slot* s = &slot;
  slot.auto_off->set(at, [this, s, reason = std::move(reason)] {
    log_.child("safety").notice("{}: switched off: {}", s->device->name(), reason);
    record(s->device->room(), s->device->id(), "auto_off", reason);
    dispatch(*s, DeviceCommand{DeviceValues::off(), Duration{0}, std::nullopt},
             CommandSource::Safety);
    changed();
  });
}

void Hub::send_from_routine(Device& device, const DeviceCommand& command,
                            std::optional<TimePoint> session_started) {
  if (Slot* slot = find_slot(device.id()))
    dispatch(*slot, command, CommandSource::Routine, session_started);
}

void Hub::routine_step_began(std::string_view room_id, int step_index) {
  const Room* room = find_room(room_id);
  if (!room) return;
  auto s = room->engine->status();
  log_.child("engine").info("{} {}: step {} of {}", room->config->name, s.routine, step_index + 1,
                            s.step_count);
  changed();
}

void Hub::routine_ended(std::string_view room_id, Outcome outcome) {
  Room* room = find_room(room_id);
  if (!room) return;
  const RunRecord& run = room->engine->run();
  if (auto st = store_.end_run(run.id, *run.ended_at, outcome); !st)
    log_.error("cannot store the end of run {}: {}", run.id, st.error().message);
  record(room_id, "", "routine_ended", fmt::format("{} {}", run.routine, outcome_name(outcome)));
  log_.child("engine").notice("{}: {} {}", room->config->name, run.routine, outcome_name(outcome));
  // A massage never outlives its routine.
  for (auto& slot : slots_)
    if (slot.device->room() == room_id && has(slot.device->capabilities(), Capability::Massager) &&
        slot.applied.on == true)
      dispatch(slot, DeviceCommand{DeviceValues::off(), Duration{0}, std::nullopt},
               CommandSource::Routine);
  changed();
}

HubStatus Hub::status() const {
  HubStatus s{config_.hub.name, config_.hub.time_zone, kVersion, clock_.now(), {}};
  for (const auto& room : rooms_) {
    RoomStatus rs{room.config->id, room.config->name, is_night(room), {}, room.engine->status()};
    for (const auto& slot : slots_) {
      const Device& d = *slot.device;
      if (d.room() != room.config->id) continue;
      rs.devices.push_back(DeviceStatus{d.id(), d.name(), std::string(d.driver()), d.capabilities(),
                                        slot.available, slot.observed, room.engine->held(d.id())});
    }
    s.rooms.push_back(std::move(rs));
  }
  return s;
}

Expected<RoutineStatus> Hub::routine(std::string_view room_id, const RoutineRequest& request) {
  Room* room = find_room(room_id);
  if (!room) return Error{"unknown_room", fmt::format("There is no room \"{}\".", room_id), 404};
  RoutineEngine& engine = *room->engine;
  if (request.action == RoutineAction::Start) {
    const std::string id = request.routine.value_or(room->config->default_routine);
    const auto* routine = config_.find_routine(id);
    if (!routine)
      return Error{"unknown_routine", fmt::format("There is no routine \"{}\".", id), 404};
    if (engine.active())
      return Error{"routine_running",
                   fmt::format("{} is already running in {}; stop it first.",
                               engine.status().routine, room->config->name),
                   409};
    RunRecord run{0, room->config->id, routine->id, clock_.now(), Duration{0}, {}, {}, {}};
    auto id_or = store_.begin_run(run);
    if (!id_or) return id_or.error();
    run.id = *id_or;
    update_night(*room, *routine, run.started_at);
    log_.child("engine").notice("{}: {} started", room->config->name, routine->name);
    record(room_id, "", "routine_started", routine->id);
    engine.begin(*routine, run);
    changed();
    return engine.status();
  }
  if (!engine.active())
    return Error{"not_running", fmt::format("No routine is running in {}.", room->config->name),
                 409};
  Status st = Ok{};
  switch (request.action) {
    case RoutineAction::Stop:
      engine.end(Outcome::Stopped);
      return engine.status();
    case RoutineAction::Pause:
      st = engine.pause();
      break;
    case RoutineAction::Resume:
      st = engine.resume();
      break;
    case RoutineAction::Skip:
      st = engine.skip();
      break;
    case RoutineAction::Start:
      break;
  }
  if (!st) return st.error();
  if (engine.active()) {
    if (auto saved = store_.update_run(engine.run()); !saved)
      log_.error("cannot store run progress: {}", saved.error().message);
    record(room_id, "", fmt::format("routine_{}", routine_action_name(request.action)),
           engine.run().routine);
  }
  changed();
  return engine.status();
}

Expected<std::vector<RunRecord>> Hub::runs(const RunQuery& query) const {
  if (query.room && !find_room(*query.room))
    return Error{"unknown_room", fmt::format("There is no room \"{}\".", *query.room), 404};
  if (query.routine && !config_.find_routine(*query.routine))
    return Error{"unknown_routine", fmt::format("There is no routine \"{}\".", *query.routine),
                 404};
  return store_.recent_runs(query);
}

Expected<CommandResult> Hub::set_device(std::string_view room_id, std::string_view device_id,
                                        const DeviceCommand& command) {
  Room* room = find_room(room_id);
  if (!room) return Error{"unknown_room", fmt::format("There is no room \"{}\".", room_id), 404};
  Slot* slot = find_slot(device_id);
  if (!slot || slot->device->room() != room_id)
    return Error{"unknown_device",
                 fmt::format("There is no device \"{}\" in {}.", device_id, room->config->name),
                 404};
  if (command.values.empty()) return Error{"invalid_request", "The command sets nothing.", 400};
  if (auto e = unsupported(*slot->device, command.values)) return *e;
  if (!slot->available)
    return Error{"device_unavailable",
                 fmt::format("{} is not reachable right now.", slot->device->name()), 503};
  SafetyDecision decision = dispatch(*slot, command, CommandSource::Api);
  record(room_id, device_id, "manual", describe(decision.command.values));
  if (room->engine->active()) {
    room->engine->hold(device_id);
    log_.child("engine").info("{}: {} set by hand; left alone until the next step",
                              room->config->name, slot->device->name());
  }
  changed();
  return CommandResult{std::string(room_id), std::string(device_id), command.values,
                       decision.command.values, decision.clamps};
}

void Hub::report_state(std::string_view device_id, const DeviceValues& observed) {
  Slot* slot = find_slot(device_id);
  if (!slot) return;
  slot->observed.merge(observed);
  Room* room = find_room(slot->device->room());
  if (!contradicts(observed, slot->applied)) return;
  // Someone else changed the device: adopt what it says, keep it within the
  // limits, and let the routine leave it alone until its next step.
  slot->applied.merge(observed);
  if (room && room->engine->active() && !room->engine->held(device_id)) {
    room->engine->hold(device_id);
    log_.child("engine").notice("{}: {} was changed by hand ({}); left alone until the next step",
                                room->config->name, slot->device->name(), describe(observed));
    record(slot->device->room(), device_id, "override", describe(observed));
  }
  SafetySituation situation{slot->device->capabilities(), slot->applied, room && is_night(*room),
                            clock_.now(), slot->session_started};
  DeviceCommand as_seen{observed, Duration{0}, std::nullopt};
  auto decision = safety_.check(as_seen, situation);
  if (!decision.clamps.empty()) dispatch(*slot, as_seen, CommandSource::Safety);
  changed();
}

void Hub::report_availability(std::string_view device_id, bool available) {
  Slot* slot = find_slot(device_id);
  if (!slot || slot->available == available) return;
  slot->available = available;
  log_.notice("{} is {}", slot->device->name(), available ? "available" : "unavailable");
  if (available) slot->applied = {};  // what it has now is unknown: send it everything
  if (Room* room = find_room(slot->device->room()); room && available)
    room->engine->resend(device_id);
  changed();
}

}  // namespace nursery
