#include "simulated.hpp"

#include <fmt/format.h>

#include <cmath>

namespace nursery::plugins::simulated {
namespace {

constexpr config::DriverOptionSpec kOptions[] = {
    {"kind", config::OptionType::String, true},
    {"native_transition", config::OptionType::Bool, false},
};

std::vector<config::Diagnostic> validate(const config::DeviceConfig& device) {
  std::vector<config::Diagnostic> out;
  auto it = device.options.find("kind");
  if (it == device.options.end()) return out;
  const auto* kind = std::get_if<std::string>(&it->second.value);
  if (!kind || !parse_role(*kind))
    out.push_back({config::Diagnostic::Severity::Error, it->second.where,
                   "kind must be \"light\", \"sound\" or \"massager\""});
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

Expected<std::unique_ptr<Device>> create(const config::DeviceConfig& config, DeviceHost& host) {
  auto kind_it = config.options.find("kind");
  const std::string* kind_name =
      kind_it == config.options.end() ? nullptr : std::get_if<std::string>(&kind_it->second.value);
  auto kind = kind_name ? parse_role(*kind_name) : std::nullopt;
  if (!kind)
    return Error{"invalid_config",
                 fmt::format("{}: simulated device \"{}\" needs kind = light|sound|massager",
                             config.where.to_string(), config.id),
                 500};
  bool native = true;
  if (auto it = config.options.find("native_transition"); it != config.options.end())
    if (const bool* b = std::get_if<bool>(&it->second.value)) native = *b;
  return std::unique_ptr<Device>(std::make_unique<SimulatedDevice>(config, *kind, native, host));
}

std::string over(Duration d) {
  auto s = std::chrono::round<std::chrono::seconds>(d).count();
  if (s >= 60 && s % 60 == 0) return fmt::format(" over {} min", s / 60);
  if (s >= 90) return fmt::format(" over {} min {} s", s / 60, s % 60);
  return fmt::format(" over {} s", s);
}

}  // namespace

const PluginDescriptor kDescriptor{kSpec, &create};

SimulatedDevice::SimulatedDevice(const config::DeviceConfig& config, Capability kind,
                                 bool native_transition, DeviceHost& host)
    : Device(config.id, config.name, config.room),
      kind_(kind),
      native_transition_(native_transition),
      host_(host),
      log_(host.logger("device")),
      session_timer_(host.clock().make_alarm()) {
  state_.on = false;
}

void SimulatedDevice::say(const DeviceValues& v, Duration transition, std::string_view how) {
  log_.info("{}  {}: {}{}{}", host_.local_time(host_.clock().now()), name(), describe(v),
            transition > Duration{0} ? over(transition) : "", how);
}

void SimulatedDevice::apply(const DeviceCommand& command) {
  if (!reachable_) return;  // like a device out of range: the command is lost
  ++commands_;
  DeviceValues v = command.values;
  // Only what this kind of device has.
  if (kind_ != Capability::Light) v.brightness.reset(), v.color_temp.reset();
  if (kind_ != Capability::Sound) v.volume.reset(), v.track.reset();
  if (kind_ != Capability::Massager) v.intensity.reset(), v.pattern.reset();
  std::string how;
  if (kind_ == Capability::Massager) {
    if (v.on == false) {
      session_timer_->cancel();
    } else if (command.session && (v.on == true || state_.on == true)) {
      // The device's own timer: the massage ends even if the hub dies.
      session_timer_->set(host_.clock().now() + *command.session, [this] {
        state_.on = false;
        say(DeviceValues::off(), Duration{0}, " (its session timer ran out)");
        host_.report_state(id(), state_);
      });
      how = fmt::format(", session timer {} min",
                        std::chrono::round<std::chrono::minutes>(*command.session).count());
    }
  }
  state_.merge(v);
  say(v, native_transition_ ? command.transition : Duration{0}, how);
  host_.report_state(id(), state_);
}

void SimulatedDevice::change_by_hand(const DeviceValues& values) {
  state_.merge(values);
  say(values, Duration{0}, " (changed by hand)");
  host_.report_state(id(), state_);
}

void SimulatedDevice::set_reachable(bool reachable) {
  reachable_ = reachable;
  host_.report_availability(id(), reachable);
}

}  // namespace nursery::plugins::simulated
