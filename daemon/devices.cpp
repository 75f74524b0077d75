#include "devices.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace nursery {
namespace {

// Reports round, and a device may settle a step off: a level within 1.5 %
// or a colour within 30 K of one the hub sent is that value.
constexpr int kLevelTolerance = 15;  // permille
constexpr int kColorTolerance = 30;

bool matches(const bool& a, const bool& b) { return a == b; }
bool matches(const Level& a, const Level& b) {
  return std::abs(a.permille() - b.permille()) <= kLevelTolerance;
}
bool matches(const int& a, const int& b) { return std::abs(a - b) <= kColorTolerance; }
bool matches(const std::string& a, const std::string& b) { return a == b; }

// Stands in for a device its driver could not create: unavailable, with why.
class BrokenDevice final : public Device {
 public:
  BrokenDevice(const config::DeviceConfig& config, DeviceHost& host, std::string reason)
      : Device(config), host_(host), reason_(std::move(reason)) {}
  std::string_view driver() const override { return "unavailable"; }
  Capabilities capabilities() const override { return 0; }
  bool native_transition(Capability) const override { return false; }
  void start() override { host_.availability(Availability::Unavailable, reason_); }
  void apply(const DeviceCommand& command) override {
    host_.command_result(command.id, CommandOutcome::Failed, reason_);
  }

 private:
  DeviceHost& host_;
  std::string reason_;
};

}  // namespace

// The DeviceHost of one device. Everything it is told after the device has
// begun stopping is dropped.
class DeviceSlot::Handle final : public DeviceHost {
 public:
  Handle(Devices& owner, DeviceSlot& slot, Clock& clock, Logger log, DeviceServices services)
      : owner_(owner), slot_(slot), clock_(clock), log_(std::move(log)), services_(services) {}

  void detach() {
    detached_ = true;
    posted_.clear();
  }

  Clock& clock() override { return clock_; }
  Logger logger() override { return log_; }
  std::string local_time(TimePoint t) const override { return owner_.local_time(t); }
  void post(std::function<void()> fn) override {
    if (detached_) return;
    // An alarm due now runs on the next turn of the loop (or the next
    // advance of a manual clock), and never once this handle is gone.
    auto alarm = clock_.make_alarm();
    Alarm* raw = alarm.get();
    posted_.push_back(std::move(alarm));
    raw->set(clock_.now(), [this, raw, fn = std::move(fn)] {
      auto it = std::find_if(posted_.begin(), posted_.end(),
                             [raw](const auto& a) { return a.get() == raw; });
      std::unique_ptr<Alarm> keep;
      if (it != posted_.end()) {
        keep = std::move(*it);
        posted_.erase(it);
      }
      fn();
    });
  }
  void report(const DeviceReport& report) override {
    if (!detached_) owner_.on_report(slot_, report);
  }
  void command_result(CommandId id, CommandOutcome outcome, std::string reason) override {
    if (!detached_) owner_.on_result(slot_, id, outcome, std::move(reason));
  }
  void availability(Availability availability, std::string reason) override {
    if (!detached_) owner_.on_availability(slot_, availability, std::move(reason));
  }
  void battery(int percent) override {
    if (detached_) return;
    slot_.battery_ = std::clamp(percent, 0, 100);
    owner_.listener_.device_battery(slot_);
  }
  void link_quality(int percent) override {
    if (!detached_) slot_.link_quality_ = std::clamp(percent, 0, 100);
  }
  PubSub* pubsub() override { return services_.pubsub; }
  Ble* ble() override { return services_.ble; }

 private:
  Devices& owner_;
  DeviceSlot& slot_;
  Clock& clock_;
  Logger log_;
  DeviceServices services_;
  bool detached_ = false;
  std::vector<std::unique_ptr<Alarm>> posted_;
};

Devices::Devices(Clock& clock, LogSink& sink, DeviceListener& listener, DeviceServices services)
    : clock_(clock), sink_(sink), log_(sink, "devices"), listener_(listener), services_(services) {}

Devices::~Devices() {
  // Drivers are destroyed before their handles, and nothing they say on
  // the way out is heard.
  for (auto* list : {&slots_, &stopping_})
    for (auto& slot : *list) {
      slot->handle_->detach();
      slot->device_.reset();
    }
}

std::string Devices::local_time(TimePoint t) const {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  if (!zone_) return date::format("%H:%M:%S", secs);
  return date::format("%H:%M:%S", date::make_zoned(zone_, secs));
}

DeviceSlot& Devices::add(const config::DeviceConfig& config, const DeviceFactory& factory) {
  auto slot = std::make_unique<DeviceSlot>();
  slot->config_ = config;
  slot->handle_ = std::make_unique<DeviceSlot::Handle>(*this, *slot, clock_,
                                                       Logger(sink_, "device"), services_);
  slot->timeout_ = clock_.make_alarm();
  auto device = factory(config, *slot->handle_);
  if (device) {
    slot->device_ = std::move(*device);
  } else {
    log_.error("{}: {}", config.id, device.error().message);
    slot->device_ = std::make_unique<BrokenDevice>(config, *slot->handle_, device.error().message);
  }
  slots_.push_back(std::move(slot));
  return *slots_.back();
}

void Devices::start(DeviceSlot& slot) { slot.device_->start(); }

void Devices::remove(const std::string& id, Duration deadline, std::function<void()> done) {
  auto it =
      std::find_if(slots_.begin(), slots_.end(), [&](const auto& s) { return s->id() == id; });
  if (it == slots_.end()) {
    done();
    return;
  }
  stopping_.push_back(std::move(*it));
  slots_.erase(it);
  DeviceSlot* slot = stopping_.back().get();
  slot->stopping_ = true;
  slot->timeout_->cancel();
  // From now on nothing the driver reports reaches the hub: the id may
  // already belong to the device's successor.
  slot->handle_->detach();
  auto finished = std::make_shared<bool>(false);
  auto finish = [this, slot, finished, done = std::move(done)] {
    if (*finished) return;
    *finished = true;
    slot->handle_->detach();
    slot->timeout_->cancel();
    // Destroyed on a later turn: `finish` may be running inside the driver.
    auto alarm = clock_.make_alarm();
    Alarm* raw = alarm.get();
    raw->set(clock_.now(), [this, slot, alarm = std::shared_ptr<Alarm>(std::move(alarm)), done] {
      auto found = std::find_if(stopping_.begin(), stopping_.end(),
                                [slot](const auto& s) { return s.get() == slot; });
      if (found != stopping_.end()) {
        (*found)->device_.reset();
        std::unique_ptr<DeviceSlot> gone = std::move(*found);
        stopping_.erase(found);
        gone.reset();  // destroys the alarm that is running this: nothing after
      }
      done();
    });
  };
  slot->timeout_->set(clock_.now() + deadline, [this, slot, finish] {
    log_.warning("{} did not stop within its deadline; dropping it", slot->device_->name());
    finish();
  });
  slot->device_->stop(finish);
}

DeviceSlot* Devices::find(std::string_view id) {
  for (auto& s : slots_)
    if (s->id() == id) return s.get();
  return nullptr;
}

const DeviceSlot* Devices::find(std::string_view id) const {
  return const_cast<Devices*>(this)->find(id);
}

std::vector<DeviceSlot*> Devices::all() {
  std::vector<DeviceSlot*> out;
  for (auto& s : slots_) out.push_back(s.get());
  return out;
}

std::vector<const DeviceSlot*> Devices::all() const {
  std::vector<const DeviceSlot*> out;
  for (const auto& s : slots_) out.push_back(s.get());
  return out;
}

std::vector<DeviceSlot*> Devices::in_room(std::string_view room) {
  std::vector<DeviceSlot*> out;
  for (auto& s : slots_)
    if (s->room() == room) out.push_back(s.get());
  return out;
}

CommandId Devices::send(DeviceSlot& slot, DeviceCommand command, CommandSource source) {
  command.id = next_command_++;
  const TimePoint now = clock_.now();
  PendingCommand pending{command.id, command.values, {}, now, now + slot.device_->command_timeout(),
                         source};
  for_each_member([&](const Field&, auto member) {
    if (command.values.*member) pending.before.*member = slot.known_.*member;
  });
  slot.pending_.push_back(std::move(pending));
  slot.known_.merge(command.values);
  // A command sent again after one failed says so while it is on its way.
  std::string reason;
  if (slot.last_command_.state == CommandState::Failed ||
      slot.last_command_.state == CommandState::TimedOut)
    reason = fmt::format("the last command {}: {}", command_state_name(slot.last_command_.state),
                         slot.last_command_.reason);
  else if (slot.last_command_.state == CommandState::Pending)
    reason = slot.last_command_.reason;
  slot.last_command_ = CommandStatus{CommandState::Pending, source, std::move(reason), now};
  arm_timeout(slot);
  slot.device_->apply(command);
  return command.id;
}

void Devices::arm_timeout(DeviceSlot& slot) {
  if (slot.pending_.empty() || slot.stopping_) {
    slot.timeout_->cancel();
    return;
  }
  TimePoint first = slot.pending_.front().deadline;
  for (const auto& p : slot.pending_) first = std::min(first, p.deadline);
  DeviceSlot* s = &slot;
  slot.timeout_->set(first, [this, s] {
    const TimePoint now = clock_.now();
    std::vector<PendingCommand> expired;
    for (auto it = s->pending_.begin(); it != s->pending_.end();) {
      if (it->deadline <= now) {
        expired.push_back(std::move(*it));
        it = s->pending_.erase(it);
      } else {
        ++it;
      }
    }
    arm_timeout(*s);
    for (const auto& p : expired) {
      const auto reason = fmt::format(
          "no answer within {} s",
          std::chrono::duration_cast<std::chrono::seconds>(s->device_->command_timeout()).count());
      s->last_command_ = CommandStatus{CommandState::TimedOut, p.source, reason, now};
      listener_.device_command_ended(*s, p, CommandOutcome::TimedOut, reason);
    }
  });
}

DeviceValues Devices::overridden_fields(const DeviceSlot& slot, const DeviceReport& report) const {
  DeviceValues out;
  const DeviceValues seen = report.observed.only(slot.capabilities());
  // Which commands the report may stem from: the one it answers and those
  // after it, or, without an answer id, any still in flight.
  auto from = slot.pending_.begin();
  if (report.answers)
    from = std::find_if(slot.pending_.begin(), slot.pending_.end(),
                        [&](const PendingCommand& p) { return p.id == *report.answers; });
  if (from == slot.pending_.end()) from = slot.pending_.begin();
  for_each_member([&](const Field& field, auto member) {
    if (!(seen.*member)) return;
    const Capability cap = field.capability;
    if (field.kind != FieldKind::Switch) {
      // Levels of a capability that is off mean nothing; mid-fade they are
      // on their way to what the hub sent.
      if (seen.on(cap) == false || slot.known_.on(cap) == false || report.in_transition) return;
    }
    bool any = false, explained = false;
    auto consider = [&](const auto& candidate) {
      if (!candidate) return;
      any = true;
      explained = explained || matches(*(seen.*member), *candidate);
    };
    consider(slot.known_.*member);
    for (auto it = from; it != slot.pending_.end(); ++it) {
      consider(it->values.*member);
      consider(it->before.*member);
    }
    if (any && !explained) out.*member = seen.*member;
  });
  return out;
}

void Devices::on_report(DeviceSlot& slot, const DeviceReport& report) {
  const DeviceValues overridden = overridden_fields(slot, report);
  const DeviceValues seen = report.observed.only(slot.capabilities());
  // Levels mid-fade are on their way to what the hub sent, which stays what
  // the device is believed to end with: a bulb that reports the target at
  // once, then where it is on the way (Zigbee2MQTT), and then the target
  // again is not overridden by its own last report.
  DeviceValues believed = seen;
  if (report.in_transition)
    for_each_member([&](const Field& field, auto member) {
      if (field.kind != FieldKind::Switch && slot.known_.*member) (believed.*member).reset();
    });
  slot.known_.merge(believed);
  slot.observed_.merge(seen);
  listener_.device_reported(slot, report, overridden);
}

void Devices::on_result(DeviceSlot& slot, CommandId id, CommandOutcome outcome,
                        std::string reason) {
  auto it = std::find_if(slot.pending_.begin(), slot.pending_.end(),
                         [&](const PendingCommand& p) { return p.id == id; });
  if (it == slot.pending_.end()) {
    log_.debug("{}: result for command {} that is no longer waited for", slot.device_->name(), id);
    return;
  }
  PendingCommand command = std::move(*it);
  slot.pending_.erase(it);
  arm_timeout(slot);
  const CommandState state = outcome == CommandOutcome::Done     ? CommandState::Done
                             : outcome == CommandOutcome::Failed ? CommandState::Failed
                                                                 : CommandState::TimedOut;
  slot.last_command_ = CommandStatus{state, command.source, reason, clock_.now()};
  listener_.device_command_ended(slot, command, outcome, reason);
}

void Devices::on_availability(DeviceSlot& slot, Availability availability, std::string reason) {
  if (slot.availability_ == availability && slot.availability_reason_ == reason) return;
  const Availability before = slot.availability_;
  slot.availability_ = availability;
  slot.availability_reason_ = std::move(reason);
  listener_.device_availability(slot, before);
}

}  // namespace nursery
