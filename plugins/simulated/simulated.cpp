#include "simulated.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "config/loader.hpp"

namespace nursery::plugins::simulated {
namespace {

constexpr config::DriverOptionSpec kOptions[] = {
    {"kind", config::OptionType::String, true},
    {"native_transition", config::OptionType::Bool, false},
    {"latency", config::OptionType::Duration, false},
    {"fail_every", config::OptionType::Integer, false},
    {"report_steps", config::OptionType::Bool, false},
    {"battery", config::OptionType::Integer, false},
    {"own_timer", config::OptionType::Bool, false},
};

// "light", "sound", "massager", or several joined by '+': "light+sound".
std::optional<Capabilities> parse_kind(std::string_view text) {
  Capabilities caps = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto plus = text.find('+', start);
    const auto part = text.substr(start, plus == std::string_view::npos ? plus : plus - start);
    auto role = parse_role(part);
    if (!role || has(caps, *role)) return std::nullopt;
    caps |= bit(*role);
    if (plus == std::string_view::npos) break;
    start = plus + 1;
  }
  return caps;
}

template <typename T>
const T* option(const config::DeviceConfig& device, std::string_view key) {
  auto it = device.options.find(std::string(key));
  return it == device.options.end() ? nullptr : std::get_if<T>(&it->second.value);
}

std::vector<config::Diagnostic> validate(const config::DeviceConfig& device) {
  std::vector<config::Diagnostic> out;
  auto error = [&](std::string_view key, std::string message) {
    out.push_back({config::Diagnostic::Severity::Error, device.options.at(std::string(key)).where,
                   std::move(message)});
  };
  if (const auto* kind = option<std::string>(device, "kind"); kind && !parse_kind(*kind))
    error("kind",
          "kind must be \"light\", \"sound\" or \"massager\", or several joined by '+' "
          "(\"light+sound\")");
  if (const auto* n = option<std::int64_t>(device, "fail_every"); n && *n < 0)
    error("fail_every", "fail_every must be 0 (never) or more");
  if (const auto* b = option<std::int64_t>(device, "battery"); b && (*b < 0 || *b > 100))
    error("battery", "battery must be a percentage from 0 to 100");
  return out;
}

// A simulated device plays one role: its kind.
Capabilities capabilities(const config::DeviceConfig& device) {
  auto it = device.options.find("kind");
  const auto* kind =
      it == device.options.end() ? nullptr : std::get_if<std::string>(&it->second.value);
  const auto role = kind ? parse_role(*kind) : std::nullopt;
  return role ? static_cast<Capabilities>(*role) : Capabilities{0};
}

constexpr config::DriverSpec kSpec{"simulated", kOptions, &validate, &capabilities};

Expected<std::unique_ptr<Device>> create(const config::DeviceConfig& config, DeviceHost& host,
                                         const PluginEnvironment& environment) {
  const auto* kind_name = option<std::string>(config, "kind");
  auto kind = kind_name ? parse_kind(*kind_name) : std::nullopt;
  if (!kind)
    return Error{"invalid_config",
                 fmt::format("{}: simulated device \"{}\" needs kind = light|sound|massager",
                             config.where.to_string(), config.id),
                 500};
  Behaviour b;
  if (const auto* v = option<bool>(config, "native_transition")) b.native_transition = *v;
  if (const auto* v = option<std::string>(config, "latency"))
    b.latency = config::parse_duration(*v).value_or(std::chrono::seconds(0));
  if (const auto* v = option<std::int64_t>(config, "fail_every"))
    b.fail_every = static_cast<int>(*v);
  if (const auto* v = option<bool>(config, "report_steps")) b.report_steps = *v;
  if (const auto* v = option<std::int64_t>(config, "battery")) b.battery = static_cast<int>(*v);
  if (const auto* v = option<bool>(config, "own_timer")) b.own_timer = *v;
  return std::unique_ptr<Device>(
      std::make_unique<SimulatedDevice>(config, *kind, b, host, environment.simulated_world));
}

std::string over(Duration d) {
  auto s = std::chrono::round<std::chrono::seconds>(d).count();
  if (s >= 60 && s % 60 == 0) return fmt::format(" over {} min", s / 60);
  if (s >= 90) return fmt::format(" over {} min {} s", s / 60, s % 60);
  return fmt::format(" over {} s", s);
}

}  // namespace

const PluginDescriptor kDescriptor{kSpec, &create, nullptr};

World::Physical& World::device(const std::string& id, Capabilities capabilities) {
  auto [it, inserted] = devices_.try_emplace(id);
  if (inserted || it->second.capabilities != capabilities) {
    it->second.capabilities = capabilities;
    it->second.state = DeviceValues::off(capabilities);
    it->second.session_timer = clock_.make_alarm();
  }
  return it->second;
}

World::Physical* World::find(const std::string& id) {
  auto it = devices_.find(id);
  return it == devices_.end() ? nullptr : &it->second;
}

void World::change(const std::string& id, const DeviceValues& values, Cause cause) {
  Physical* p = find(id);
  if (!p) return;
  p->state.merge(values.only(p->capabilities));
  if (values.massager_on == false) p->session_timer->cancel();
  changes_.emit(id, p->state, cause);
}

SimulatedDevice::SimulatedDevice(const config::DeviceConfig& config, Capabilities kind,
                                 Behaviour behaviour, DeviceHost& host, World* world)
    : Device(config),
      kind_(kind),
      behaviour_(behaviour),
      host_(host),
      log_(host.logger()),
      own_world_(world ? nullptr : std::make_unique<World>(host.clock())),
      world_(world ? world : own_world_.get()) {
  World::Physical& p = world_->device(id(), kind_);
  p.on_own_change = [this] {
    if (physical().reachable) host_.report(DeviceReport{physical().state, false, std::nullopt});
  };
  p.attached = this;
}

SimulatedDevice::~SimulatedDevice() {
  // A successor for the same id (a reload re-created it) may have attached
  // itself already: only our own hook is taken away.
  if (World::Physical* p = world_->find(id()); p && p->attached == this) {
    p->on_own_change = nullptr;
    p->attached = nullptr;
  }
}

void SimulatedDevice::stop(std::function<void()> done) {
  on_stopped_ = std::move(done);
  stopped_if_idle();
}

void SimulatedDevice::stopped_if_idle() {
  if (in_flight_.empty() && on_stopped_) std::exchange(on_stopped_, nullptr)();
}

World::Physical& SimulatedDevice::physical() { return world_->device(id(), kind_); }

const DeviceValues& SimulatedDevice::state() const {
  return const_cast<SimulatedDevice*>(this)->physical().state;
}

void SimulatedDevice::start() {
  if (!physical().reachable) {
    host_.availability(Availability::Unavailable, "out of range (simulated)");
    return;
  }
  host_.availability(Availability::Available);
  if (behaviour_.battery) host_.battery(*behaviour_.battery);
  host_.report(DeviceReport{physical().state, false, std::nullopt});
}

void SimulatedDevice::say(const DeviceValues& v, Duration transition, std::string_view how) {
  log_.info("{}  {}: {}{}{}", host_.local_time(host_.clock().now()), name(), describe(v),
            transition > Duration{0} ? over(transition) : "", how);
}

void SimulatedDevice::apply(const DeviceCommand& command) {
  // Like a device out of range: the command is lost, and never answered.
  if (!physical().reachable) return;
  if (behaviour_.latency <= Duration{0}) {
    act(command);
    return;
  }
  auto alarm = host_.clock().make_alarm();
  Alarm* raw = alarm.get();
  in_flight_.push_back(std::move(alarm));
  raw->set(host_.clock().now() + behaviour_.latency, [this, raw, command] {
    std::erase_if(in_flight_, [raw](const auto& a) { return a.get() == raw; });  // destroys raw
    if (physical().reachable) act(command);
    stopped_if_idle();
  });
}

void SimulatedDevice::act(const DeviceCommand& command) {
  ++commands_;
  if (behaviour_.fail_every > 0 &&
      commands_ % static_cast<std::size_t>(behaviour_.fail_every) == 0) {
    host_.command_result(command.id, CommandOutcome::Failed, "simulated failure");
    return;
  }
  World::Physical& p = physical();
  const DeviceValues before = p.state;
  const DeviceValues v = command.values.only(kind_);
  std::string how;
  if (has(kind_, Capability::Massager)) {
    const bool on_after = v.massager_on.value_or(p.state.is_on(Capability::Massager));
    if (on_after && command.massage_session && behaviour_.own_timer) {
      // Its own timer: the massage ends even if the hub dies.
      const std::string device_id = id();
      World* world = world_;
      p.session_timer->set(host_.clock().now() + *command.massage_session, [world, device_id] {
        world->change(device_id, DeviceValues::off(bit(Capability::Massager)), Cause::OwnTimer);
        if (auto* q = world->find(device_id); q && q->on_own_change) q->on_own_change();
      });
      how = fmt::format(", session timer {} min",
                        std::chrono::round<std::chrono::minutes>(*command.massage_session).count());
    }
  }
  world_->change(id(), v, Cause::Command);
  const Duration transition = behaviour_.native_transition ? command.transition : Duration{0};
  say(v, transition, how);
  if (behaviour_.report_steps && transition > Duration{0}) {
    // Halfway there, as a real bulb reports while it fades.
    DeviceValues halfway = p.state;
    for_each_member([&](const Field&, auto member) {
      using T = typename std::remove_cvref_t<decltype(halfway.*member)>::value_type;
      if constexpr (std::is_same_v<T, Level>) {
        if (v.*member && before.*member)
          halfway.*member =
              Level::permille(((before.*member)->permille() + (v.*member)->permille()) / 2);
      }
    });
    host_.report(DeviceReport{halfway, true, command.id});
  }
  host_.report(DeviceReport{p.state, false, command.id});
  host_.command_result(command.id, CommandOutcome::Done);
}

void SimulatedDevice::change_by_hand(const DeviceValues& values) {
  world_->change(id(), values, Cause::ByHand);
  say(values, Duration{0}, " (changed by hand)");
  if (physical().reachable) host_.report(DeviceReport{physical().state, false, std::nullopt});
}

void SimulatedDevice::set_reachable(bool reachable) {
  physical().reachable = reachable;
  if (reachable) {
    host_.availability(Availability::Available);
    host_.report(DeviceReport{physical().state, false, std::nullopt});
  } else {
    in_flight_.clear();
    host_.availability(Availability::Unavailable, "out of range (simulated)");
    stopped_if_idle();
  }
}

void SimulatedDevice::set_battery(int percent) { host_.battery(percent); }

}  // namespace nursery::plugins::simulated
