#include "hub.hpp"

#include <date/tz.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <utility>

#include "version.hpp"

namespace nursery {
namespace {

constexpr Duration kFirstRetry{2000};
constexpr Duration kMaxRetry{60000};

// Which capabilities a set of values touches.
Capabilities touched(const DeviceValues& v) {
  Capabilities caps = 0;
  for_each_field(v, [&](const Field& field, const auto& value) {
    if (value) caps |= bit(field.capability);
  });
  return caps;
}

// The massager and sound switch-offs among `v`: what must not run
// unsupervised, and is always safe to send again.
DeviceValues switch_offs(const DeviceValues& v) {
  DeviceValues offs;
  if (v.massager_on == false) offs.massager_on = false;
  if (v.sound_on == false) offs.sound_on = false;
  return offs;
}

// Values of capabilities the device lacks, as an API error.
std::optional<Error> unsupported(const Device& device, const DeviceValues& v) {
  const Capabilities extra = touched(v) & ~device.capabilities();
  for (Capability c : kAllCapabilities)
    if (has(extra, c))
      return Error{"unsupported_value",
                   fmt::format("{} has no {} (it is a {} device).", device.name(), role_name(c),
                               device.driver()),
                   400};
  return std::nullopt;
}

std::string clamps_text(const std::vector<Clamp>& clamps) {
  std::vector<std::string> what;
  for (const auto& c : clamps)
    what.push_back(fmt::format("{} {} -> {} ({})", c.field, c.requested, c.applied, c.reason));
  return fmt::format("{}", fmt::join(what, "; "));
}

std::string signed_duration(Duration d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  const auto a = s < 0 ? -s : s;
  return fmt::format("{}{}h{:02}m{:02}s", s < 0 ? "-" : "+", a / 3600, a / 60 % 60, a % 60);
}

}  // namespace

std::string_view command_source_name(CommandSource source) {
  switch (source) {
    case CommandSource::Routine:
      return "routine";
    case CommandSource::Control:
      return "control";
    case CommandSource::Mqtt:
      return "mqtt";
    case CommandSource::Web:
      return "web";
    case CommandSource::Device:
      return "device";
    case CommandSource::Safety:
      return "safety";
    case CommandSource::Schedule:
      return "schedule";
    case CommandSource::Shutdown:
      return "shutdown";
  }
  return "unknown";
}

Hub::Hub(Clock& clock, RunStore& store, LogSink& sink, HubEvents& events, DeviceFactory factory,
         DeviceServices services)
    : clock_(clock),
      store_(store),
      sink_(sink),
      log_(sink, "hub"),
      events_(events),
      factory_(std::move(factory)),
      gate_(clock, store, Logger(sink, "safety"), *this),
      devices_(clock, sink, *this, services) {
  jump_watch_ = clock_.watch_jumps([this](Duration by) { on_clock_jump(by); });
}

Hub::~Hub() {
  // Engines first: they hold pointers to the devices.
  rooms_.clear();
}

// --- configuration ----------------------------------------------------------

void Hub::start(config::Config config) {
  config_ = std::move(config);
  gate_.configure(config_);
  try {
    devices_.set_time_zone(date::locate_zone(config_.hub.time_zone));
  } catch (const std::exception&) {
    devices_.set_time_zone(nullptr);  // the loader checked it; UTC rather than fail
  }
  gate_.load();
  for (const auto& dc : config_.devices) devices_.add(dc, factory_);
  build_rooms();
  for (DeviceSlot* slot : devices_.all()) devices_.start(*slot);
  recover_runs();
  // Devices reported their state before the runs (and so the night) were
  // recovered: what they have must meet the limits now known.
  for (DeviceSlot* slot : devices_.all()) enforce_limits(*slot);
}

void Hub::reload(config::Config config) {
  // Let go of the runs without ending them or sending anything: they are
  // recomputed below under the new routines. The night goes on as it was.
  std::map<std::string, std::optional<TimePoint>> nights;
  for (auto& room : rooms_) {
    room->engine().release();
    nights[room->id()] = room->night_since();
  }
  rooms_.clear();

  for (DeviceSlot* slot : devices_.all()) {
    const auto it = std::find_if(config.devices.begin(), config.devices.end(),
                                 [&](const config::DeviceConfig& d) { return d.id == slot->id(); });
    if (it != config.devices.end() && config::same_device(*it, slot->config())) continue;
    const std::string id = slot->id();
    const bool unreachable = !slot->available();
    make_safe(*slot, it != config.devices.end() ? "its configuration changed"
                                                : "it left the configuration");
    gate_.forget(id);
    if (unreachable) {
      // The "off" could not reach it: owed, and sent first when a device of
      // this id is heard again (its successor, or the same one re-added).
      retries_[id].safety.merge(
          DeviceValues::off(slot->capabilities() & (Capability::Massager | Capability::Sound)));
    } else {
      retries_.erase(id);
    }
    devices_.remove(id, std::chrono::seconds(3), [] {});
  }
  config_ = std::move(config);
  gate_.configure(config_);
  try {
    devices_.set_time_zone(date::locate_zone(config_.hub.time_zone));
  } catch (const std::exception&) {
    devices_.set_time_zone(nullptr);
  }
  std::vector<DeviceSlot*> added;
  for (const auto& dc : config_.devices)
    if (!devices_.find(dc.id)) added.push_back(&devices_.add(dc, factory_));
  build_rooms();
  for (DeviceSlot* slot : added) devices_.start(*slot);
  recover_runs();
  for (auto& room : rooms_)
    if (auto it = nights.find(room->id()); it != nights.end()) room->restore_night(it->second);
  settle_massagers();
  // Limits the new config tightens hold at once for what devices have now.
  for (DeviceSlot* slot : devices_.all()) enforce_limits(*slot);
  events_.publish(event::Reloaded{});
}

void Hub::build_rooms() {
  for (const auto& rc : config_.rooms) {
    std::vector<Device*> devices;
    for (DeviceSlot* s : devices_.in_room(rc.id)) devices.push_back(&s->device());
    rooms_.push_back(std::make_unique<Room>(
        rc, std::move(devices), clock_, static_cast<RoutineHost&>(*this), Logger(sink_, "engine")));
  }
}

void Hub::recover_runs() {
  const TimePoint now = clock_.now();
  // Night follows the newest bedtime or wake run of each room.
  for (auto& room : rooms_) {
    if (auto recent = store_.recent_runs(RunQuery{.room = room->id(), .limit = 50})) {
      for (auto it = recent->rbegin(); it != recent->rend(); ++it)
        if (const auto* routine = config_.find_routine(it->routine))
          // A start after now was stored before the clock was set back:
          // the night has begun, so it holds from now at least.
          room->routine_started(routine->kind, std::min(it->started_at, now));
    }
    follow_wake_time(*room);
  }
  auto open = store_.open_runs();
  if (!open) {
    log_.error("cannot read unfinished runs: {}", open.error().message);
    return;
  }
  for (auto& run : *open) {
    Room* room = find_room(run.room);
    const auto* routine = config_.find_routine(run.routine);
    const bool known = room && routine && !room->engine().active();
    if (known && routine_elapsed(run, now) < Timeline(*routine).duration()) {
      log_.notice("{}: {} goes on where it would be now", room->config().name, routine->name);
      room->engine().begin(*routine, run);
      record(run.room, "", "routine_resumed_after_restart", routine->id, CommandSource::Routine);
      continue;
    }
    log_.notice("closing run {} of {} in {} as interrupted{}", run.id, run.routine, run.room,
                known ? ": it would have ended meanwhile" : ": its room or routine is gone");
    const TimePoint ended = std::max(now, run.started_at);
    (void)store_write(fmt::format("the end of run {}", run.id), [this, id = run.id, ended] {
      return store_.end_run(id, ended, Outcome::Interrupted);
    });
  }
}

void Hub::settle_massagers() {
  for (DeviceSlot* slot : devices_.all()) {
    if (!has(slot->capabilities(), Capability::Massager) ||
        !slot->known().is_on(Capability::Massager))
      continue;
    const Room* room = find_room(slot->room());
    const DeviceValues* asked = room ? room->engine().asked(slot->id()) : nullptr;
    if (room && room->engine().active() && asked && asked->is_on(Capability::Massager)) continue;
    log_.notice("{}: switched off: no routine keeps it on after the reload", slot->device().name());
    dispatch(*slot, DeviceValues::off(bit(Capability::Massager)), Duration{0},
             CommandSource::Safety, {});
  }
}

void Hub::shutdown(Duration deadline, std::function<void()> done) {
  for (auto& room : rooms_) room->engine().release();
  for (auto& [id, retry] : retries_) retry.alarm->cancel();
  for (DeviceSlot* slot : devices_.all())
    if (has(slot->capabilities(), Capability::Massager) && slot->known().massager_on != false)
      dispatch(*slot, DeviceValues::off(bit(Capability::Massager)), Duration{0},
               CommandSource::Shutdown, {});
  // Every device is stopped (Device::stop lets a driver flush what is in
  // flight, such as the massager's "off"), each within the deadline.
  auto slots = devices_.all();
  auto left = std::make_shared<std::size_t>(slots.size());
  auto finished = std::make_shared<std::function<void()>>(std::move(done));
  if (slots.empty()) {
    (*finished)();
    return;
  }
  for (DeviceSlot* slot : slots)
    devices_.remove(slot->id(), deadline, [left, finished] {
      if (--*left == 0) (*finished)();
    });
}

void Hub::set_wake_time(std::string_view room, std::optional<TimePoint> at) {
  for (DeviceSlot* slot : devices_.in_room(room))
    if (has(slot->capabilities(), Capability::Sound)) gate_.set_sound_deadline(slot->id(), at);
}

void Hub::set_next_trigger(std::string_view room, std::optional<NextTrigger> next) {
  if (next)
    next_triggers_.insert_or_assign(std::string(room), std::move(*next));
  else if (auto it = next_triggers_.find(room); it != next_triggers_.end())
    next_triggers_.erase(it);
}

// --- the choke point --------------------------------------------------------

GateSubject Hub::subject(const DeviceSlot& slot) const {
  return GateSubject{slot.id(), slot.device().name(), slot.capabilities(), slot.known()};
}

RoomSituation Hub::room_situation(const DeviceSlot& slot) const {
  const Room* room = find_room(slot.room());
  if (!room) return {};
  RoomSituation s;
  s.night = room->night(clock_.now(), config_.safety.light.night_window);
  if (room->engine().active())
    if (const auto* routine = config_.find_routine(room->engine().run().routine))
      s.waking = routine->kind == config::RoutineKind::Wake;
  return s;
}

SafetyDecision Hub::dispatch(DeviceSlot& slot, const DeviceValues& values, Duration transition,
                             CommandSource source, const Intents& intents) {
  Device& device = slot.device();
  DeviceCommand command;
  command.values = values.only(slot.capabilities());
  bool native = false;
  for (Capability c : kAllCapabilities)
    if (has(touched(command.values), c) && device.native_transition(c)) native = true;
  command.transition = native ? transition : Duration{0};
  SafetyDecision decision = gate_.decide(subject(slot), command, intents, room_situation(slot));
  if (!decision.clamps.empty()) {
    const auto text = clamps_text(decision.clamps);
    log_.child("safety").notice("{}: {} command limited: {}", device.name(),
                                command_source_name(source), text);
    record(slot.room(), slot.id(), "clamp", text, source);
    events_.publish(event::Clamped{slot.room(), slot.id(), source, decision.clamps});
  }
  // Only what the device is not already known to have is sent.
  DeviceCommand to_send = decision.command;
  to_send.values = changed_fields(decision.command.values, slot.known());
  if (to_send.values.empty()) return decision;
  if (!has(touched(to_send.values), Capability::Massager)) to_send.massage_session.reset();
  devices_.note_asked(slot, decision.command.values);
  devices_.send(slot, to_send, source);
  gate_.track(subject(slot), intents);
  return decision;
}

void Hub::enforce_limits(DeviceSlot& slot) {
  DeviceCommand as_known{0, slot.known(), Duration{0}, std::nullopt};
  const SafetyDecision decision = gate_.decide(subject(slot), as_known, {}, room_situation(slot));
  if (decision.clamps.empty()) return;
  dispatch(slot, decision.command.values, Duration{0}, CommandSource::Safety, {});
}

void Hub::make_safe(DeviceSlot& slot, const std::string& why) {
  const Capabilities unsupervised =
      slot.capabilities() & (Capability::Massager | Capability::Sound);
  if (!unsupervised) return;
  log_.child("safety").notice("{}: switched off before it leaves the hub: {}", slot.device().name(),
                              why);
  dispatch(slot, DeviceValues::off(unsupervised), Duration{0}, CommandSource::Safety, {});
}

void Hub::enforce(const std::string& device_id, const DeviceValues& values,
                  const std::string& reason) {
  DeviceSlot* slot = devices_.find(device_id);
  if (!slot) return;
  record(slot->room(), device_id, "auto_off", reason, CommandSource::Safety);
  for (Capability c : kAllCapabilities)
    if (has(touched(values), c))
      events_.publish(event::AutoOff{slot->room(), device_id, c, reason});
  // Sent even if the device is believed off already: it is what must be true.
  devices_.forget(*slot, values);
  dispatch(*slot, values, Duration{0}, CommandSource::Safety, {});
}

SafetyDecision Hub::send_from_routine(Device& device, const DeviceValues& values,
                                      Duration transition, const Intents& intents) {
  DeviceSlot* slot = devices_.find(device.id());
  if (!slot) return {};
  return dispatch(*slot, values, transition, CommandSource::Routine, intents);
}

// --- what devices say ----------------------------------------------------------

void Hub::device_reported(DeviceSlot& slot, const DeviceReport& report,
                          const DeviceValues& overridden) {
  events_.publish(event::DeviceState{slot.room(), slot.id(), slot.observed()});
  if (!overridden.empty()) {
    const Capabilities caps = touched(overridden);
    Room* room = find_room(slot.room());
    if (room && room->engine().active()) {
      room->engine().hold(slot.id(), caps);
      log_.child("engine").notice(
          "{}: {} was changed by hand ({}); left alone until the routine's next step for it",
          room->config().name, slot.device().name(), describe(overridden));
    }
    record(slot.room(), slot.id(), "override", describe(overridden), CommandSource::Device);
    events_.publish(event::Override{slot.room(), slot.id(), caps, overridden});
  }
  (void)report;
  // A state no command explains — a button on the device, another app — is
  // held to the same limits as one the hub set, and arms the same timers.
  enforce_limits(slot);
  gate_.track(subject(slot), {}, /*reported=*/true);
}

void Hub::device_availability(DeviceSlot& slot, Availability before) {
  const Availability now = slot.availability();
  log_.notice(
      "{} is {}{}", slot.device().name(), availability_name(now),
      slot.availability_reason().empty() ? "" : fmt::format(": {}", slot.availability_reason()));
  events_.publish(
      event::DeviceAvailability{slot.room(), slot.id(), now, slot.availability_reason()});
  if (now != Availability::Available || before == Availability::Available) return;
  // What it has now is unknown: what must be true is sent again — first
  // what the limits still owe it (an auto-off that could not be sent, a
  // switch-off still on its way when the link went, which was lost with it),
  // then where the routine is now (not a replay).
  devices_.forget_all(slot);
  DeviceValues owed;
  for (const PendingCommand& p : slot.pending()) owed.merge(switch_offs(p.values));
  if (auto it = retries_.find(slot.id()); it != retries_.end()) {
    owed.merge(it->second.safety);
    it->second.safety = {};
  }
  if (!owed.empty()) dispatch(slot, owed, Duration{0}, CommandSource::Safety, {});
  if (Room* room = find_room(slot.room())) room->engine().resend(slot.id());
}

void Hub::device_command_ended(DeviceSlot& slot, const PendingCommand& command,
                               CommandOutcome outcome, const std::string& reason) {
  events_.publish(
      event::CommandResult{slot.room(), slot.id(), command.id, command.source, outcome, reason});
  if (outcome == CommandOutcome::Done) {
    if (auto it = retries_.find(slot.id()); it != retries_.end()) it->second.backoff = Duration{0};
    return;
  }
  log_.warning("{}: command {} {}: {}", slot.device().name(), command.id,
               command_outcome_name(outcome), reason);
  // What the device has for these fields is unknown now.
  devices_.forget(slot, command.values);
  // Retried where that is safe: what the limits demand, always; a massager
  // or sound switched off, whoever asked (the hub's gate already counts it
  // off; the safe direction is never wrong); what a routine wants, by
  // asking again; the rest of a parent's command is theirs to repeat.
  if (command.source == CommandSource::Safety || command.source == CommandSource::Shutdown) {
    retries_[slot.id()].safety.merge(command.values);
    retry_later(slot);
  } else if (const DeviceValues offs = switch_offs(command.values); !offs.empty()) {
    retries_[slot.id()].safety.merge(offs);
    retry_later(slot);
  } else if (command.source == CommandSource::Routine) {
    retry_later(slot);
  }
}

void Hub::retry_later(DeviceSlot& slot) {
  Retry& r = retries_[slot.id()];
  if (!r.alarm) r.alarm = clock_.make_alarm();
  r.backoff = r.backoff == Duration{0} ? kFirstRetry : std::min(r.backoff * 2, kMaxRetry);
  const std::string id = slot.id();
  r.alarm->set(clock_.now() + r.backoff, [this, id] {
    DeviceSlot* s = devices_.find(id);
    if (!s) return;
    Retry& retry = retries_[id];
    if (!retry.safety.empty()) {
      const DeviceValues owed = retry.safety;
      retry.safety = {};
      devices_.forget(*s, owed);
      dispatch(*s, owed, Duration{0}, CommandSource::Safety, {});
    }
    if (Room* room = find_room(s->room())) room->engine().resend(id);
  });
}

void Hub::device_battery(DeviceSlot& slot) {
  if (slot.battery())
    events_.publish(event::DeviceBattery{slot.room(), slot.id(), *slot.battery()});
}

// --- routines -----------------------------------------------------------------

void Hub::publish_routine(event::RoutineChange change, Room& room, CommandSource source,
                          std::optional<Outcome> outcome) {
  event::Routine e{change,  room.id(), room.engine().status(), room.engine().run().routine,
                   outcome, source};
  events_.publish(e);
}

void Hub::routine_step_began(std::string_view room_id, int step_index) {
  Room* room = find_room(room_id);
  if (!room) return;
  auto s = room->engine().status();
  log_.child("engine").info("{} {}: step {} of {}", room->config().name, s.routine, step_index + 1,
                            s.step_count);
  publish_routine(event::RoutineChange::Step, *room, CommandSource::Routine);
}

void Hub::routine_ended(std::string_view room_id, Outcome outcome) {
  Room* room = find_room(room_id);
  if (!room) return;
  const RunRecord& run = room->engine().run();
  const TimePoint ended = std::max(*run.ended_at, run.started_at);
  const auto id = run.id;
  last_end_stored_ = store_write(fmt::format("the end of run {}", id), [this, id, ended, outcome] {
    return store_.end_run(id, ended, outcome);
  });
  record(room_id, "", "routine_ended", fmt::format("{} {}", run.routine, outcome_name(outcome)),
         CommandSource::Routine);
  log_.child("engine").notice("{}: {} {}", room->config().name, run.routine, outcome_name(outcome));
  // A massage never outlives its routine.
  for (DeviceSlot* slot : devices_.in_room(room_id))
    if (has(slot->capabilities(), Capability::Massager) && slot->known().massager_on != false)
      dispatch(*slot, DeviceValues::off(bit(Capability::Massager)), Duration{0},
               CommandSource::Routine, {});
  publish_routine(event::RoutineChange::Ended, *room,
                  std::exchange(ending_source_, CommandSource::Routine), outcome);
}

Expected<RoutineStatus> Hub::routine(std::string_view room_id, const RoutineRequest& request) {
  Room* room = find_room(room_id);
  if (!room) return Error{"unknown_room", fmt::format("There is no room \"{}\".", room_id), 404};
  RoutineEngine& engine = room->engine();
  const auto source = request.source;
  if (request.action == RoutineAction::Start) {
    const std::string id = request.routine.value_or(room->config().default_routine);
    const auto* routine = config_.find_routine(id);
    if (!routine)
      return Error{"unknown_routine", fmt::format("There is no routine \"{}\".", id), 404};
    if (engine.active())
      return Error{"routine_running",
                   fmt::format("{} is already running in {}; stop it first.",
                               engine.status().routine, room->config().name),
                   409};
    RunRecord run{0, room->id(), routine->id, clock_.now(), Duration{0}, {}, {}, {}};
    auto id_or = store_.begin_run(run);
    if (!id_or) return id_or.error();
    run.id = *id_or;
    room->routine_started(routine->kind, run.started_at);
    if (routine->kind == config::RoutineKind::Bedtime) follow_wake_time(*room);
    log_.child("engine").notice("{}: {} started", room->config().name, routine->name);
    record(room_id, "", "routine_started", routine->id, source);
    engine.begin(*routine, run);
    // Night begins with a bedtime routine: lights already on are brought
    // within the night limits at once.
    for (DeviceSlot* slot : devices_.in_room(room_id)) enforce_limits(*slot);
    publish_routine(event::RoutineChange::Started, *room, source);
    return engine.status();
  }
  if (!engine.active())
    return Error{"not_running", fmt::format("No routine is running in {}.", room->config().name),
                 409};
  Status st = Ok{};
  event::RoutineChange change = event::RoutineChange::Step;
  switch (request.action) {
    case RoutineAction::Stop:
      record(room_id, "", "routine_stop", engine.run().routine, source);
      ending_source_ = source;
      engine.end(Outcome::Stopped);  // acts on the devices whether or not it can be stored
      if (!last_end_stored_) return unstored("The routine is stopped", last_end_stored_.error());
      return engine.status();
    case RoutineAction::Pause:
      st = engine.pause();
      change = event::RoutineChange::Paused;
      break;
    case RoutineAction::Resume:
    case RoutineAction::Skip: {
      // Not the safe direction (a massager may come back on): stored first,
      // and not done at all when it cannot be.
      auto next =
          request.action == RoutineAction::Resume ? engine.after_resume() : engine.after_skip();
      if (next)
        if (auto saved = store_.update_run(*next); !saved) {
          log_.error("cannot store run progress: {}", saved.error().message);
          note_store_problem(saved.error());
          return saved.error();
        }
      if (request.action == RoutineAction::Resume) {
        st = engine.resume();
        change = event::RoutineChange::Resumed;
      } else {
        st = engine.skip();
      }
      break;
    }
    case RoutineAction::Start:
      break;
  }
  if (!st) return st.error();
  Status stored = Ok{};
  if (engine.active()) {
    const RunRecord run = engine.run();
    stored = store_write(fmt::format("the progress of run {}", run.id),
                         [this, run] { return store_.update_run(run); });
    record(room_id, "", fmt::format("routine_{}", routine_action_name(request.action)),
           engine.run().routine, source);
    publish_routine(change, *room, source);
  }
  if (!stored)
    return unstored(request.action == RoutineAction::Pause ? "The routine is paused"
                                                           : "The routine has moved on",
                    stored.error());
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
                                        const DeviceRequest& request) {
  Room* room = find_room(room_id);
  if (!room) return Error{"unknown_room", fmt::format("There is no room \"{}\".", room_id), 404};
  DeviceSlot* slot = devices_.find(device_id);
  if (!slot || slot->room() != room_id)
    return Error{"unknown_device",
                 fmt::format("There is no device \"{}\" in {}.", device_id, room->config().name),
                 404};
  DeviceValues values = request.values;
  if (auto e = unsupported(slot->device(), values)) return *e;
  if (request.on)
    for (Capability c : kAllCapabilities)
      if (has(slot->capabilities(), c) && !values.on(c)) values.on(c) = *request.on;
  if (values.empty()) return Error{"invalid_request", "The command sets nothing.", 400};
  if (!slot->available())
    return Error{"device_unavailable",
                 fmt::format("{} is not reachable right now{}.", slot->device().name(),
                             slot->availability_reason().empty()
                                 ? ""
                                 : fmt::format(" ({})", slot->availability_reason())),
                 503};
  SafetyDecision decision = dispatch(*slot, values, request.transition, request.source, {});
  record(room_id, device_id, "manual", describe(decision.command.values), request.source);
  if (room->engine().active()) {
    room->engine().hold(device_id, touched(values));
    log_.child("engine").info("{}: {} set by hand; left alone until the routine's next step for it",
                              room->config().name, slot->device().name());
  }
  return CommandResult{std::string(room_id),    std::string(device_id),
                       slot->capabilities(),    values,
                       decision.command.values, decision.clamps};
}

// --- status ---------------------------------------------------------------------

HubStatus Hub::status() const {
  HubStatus s{config_.hub.name, config_.hub.time_zone, kVersion, clock_.now(), {}, store_problem()};
  for (const auto& room : rooms_) {
    RoomStatus rs{room->id(),
                  room->config().name,
                  room->night(clock_.now(), config_.safety.light.night_window),
                  {},
                  room->engine().status(),
                  std::nullopt};
    for (const DeviceSlot* slot : devices_.all()) {
      if (slot->room() != room->id()) continue;
      const Device& d = slot->device();
      rs.devices.push_back(DeviceStatus{
          d.id(), d.name(), std::string(d.driver()), d.capabilities(), slot->availability(),
          slot->availability_reason(), slot->battery(), slot->link_quality(), slot->observed(),
          slot->asked(), room->engine().held(d.id()), slot->last_command()});
    }
    if (auto next = next_triggers_.find(room->id()); next != next_triggers_.end())
      rs.next_trigger = next->second;
    s.rooms.push_back(std::move(rs));
  }
  return s;
}

std::string Hub::summary() const {
  std::vector<std::string> parts;
  for (const auto& room : rooms_) {
    auto s = room->engine().status();
    if (s.state == RoutineState::Idle)
      parts.push_back(fmt::format("{}: idle", room->config().name));
    else
      parts.push_back(fmt::format("{}: {} {}, step {} of {}", room->config().name, s.routine,
                                  routine_state_name(s.state), s.step_index + 1, s.step_count));
    if (auto next = next_triggers_.find(room->id()); next != next_triggers_.end())
      // "2027-03-28T19:30:00+02:00" reads "2027-03-28 19:30".
      parts.back() +=
          fmt::format(", next {} {} {}", next->second.routine, next->second.local.substr(0, 10),
                      next->second.local.substr(11, 5));
  }
  if (auto problem = store_problem(); !problem.empty())
    parts.push_back(fmt::format("storage: {}", problem));
  return fmt::format("{}", fmt::join(parts, "; "));
}

bool Hub::any_routine_active() const {
  return std::any_of(rooms_.begin(), rooms_.end(),
                     [](const auto& r) { return r->engine().active(); });
}

Device* Hub::device(std::string_view id) {
  DeviceSlot* s = devices_.find(id);
  return s ? &s->device() : nullptr;
}

// --- bookkeeping ------------------------------------------------------------------

void Hub::on_clock_jump(Duration by) {
  log_.warning("the wall clock jumped {}; running routines and sessions keep their place",
               signed_duration(by));
  for (auto& room : rooms_) {
    room->shift(by);
    if (room->engine().active()) {
      const RunRecord run = room->engine().run();
      (void)store_write(fmt::format("the progress of run {}", run.id),
                        [this, run] { return store_.update_run(run); });
    }
  }
  gate_.shift(by);
  record("", "", "clock_jump", signed_duration(by), CommandSource::Safety);
}

Status Hub::store_write(std::string what, std::function<Status()> write) {
  // Later writes wait behind earlier ones, so what is stored stays in order.
  Status st = unstored_.empty() ? write() : Status(Error{"storage_pending", store_problem_, 507});
  if (st) return st;
  if (unstored_.empty()) {
    log_.error("cannot store {}: {}; retrying until it can", what, st.error().message);
    note_store_problem(st.error());
  }
  unstored_.push_back({std::move(what), std::move(write)});
  if (!store_retry_) store_retry_ = clock_.make_alarm();
  if (!store_retry_->pending()) {
    store_backoff_ = kFirstRetry;
    store_retry_->set(clock_.now() + store_backoff_, [this] { retry_store(); });
  }
  return st;
}

void Hub::retry_store() {
  while (!unstored_.empty()) {
    Status st = unstored_.front().write();
    if (!st) {
      note_store_problem(st.error());
      store_backoff_ = std::min(store_backoff_ * 2, kMaxRetry);
      store_retry_->set(clock_.now() + store_backoff_, [this] { retry_store(); });
      return;
    }
    log_.notice("stored {} after all", unstored_.front().what);
    unstored_.pop_front();
  }
  store_problem_.clear();
  events_.publish(event::StoreState{""});
}

std::string Hub::store_problem() const {
  if (!store_problem_.empty()) return store_problem_;
  return store_.health().reason;  // the store's own warning: its reserve in use
}

void Hub::note_store_problem(const Error& error) {
  if (store_problem_ == error.message) return;
  store_problem_ = error.message;
  events_.publish(event::StoreState{store_problem_});
}

Error Hub::unstored(std::string_view done, const Error& why) const {
  return Error{why.code == "storage_pending" ? "storage_full" : why.code,
               fmt::format("{}, but the hub could not record it: {} It keeps trying, and "
                           "records it as soon as it can.",
                           done, store_problem_.empty() ? why.message : store_problem_),
               why.http_status >= 500 ? why.http_status : 507};
}

void Hub::record(std::string_view room, std::string_view device, std::string_view kind,
                 std::string detail, CommandSource source) {
  auto st = store_.add_event(EventRecord{clock_.now(), std::string(room), std::string(device),
                                         std::string(kind), std::move(detail),
                                         std::string(command_source_name(source))});
  if (!st) log_.error("cannot record {} event: {}", kind, st.error().message);
}

Room* Hub::find_room(std::string_view id) {
  for (auto& r : rooms_)
    if (r->id() == id) return r.get();
  return nullptr;
}

const Room* Hub::find_room(std::string_view id) const {
  return const_cast<Hub*>(this)->find_room(id);
}

}  // namespace nursery
