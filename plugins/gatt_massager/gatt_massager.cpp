#include "gatt_massager.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace nursery::plugins::gatt_massager {
namespace {

using ble_common::GattOp;
using ble_common::option;
using config::OptionType;

constexpr config::DriverOptionSpec kOptions[] = {
    ble_common::kAddressOption,
    ble_common::kAdapterOption,
    {"service_uuid", OptionType::String, false},
    {"command_uuid", OptionType::String, false},
    {"state_uuid", OptionType::String, false},
    {"power_opcode", OptionType::Integer, false},
    {"intensity_opcode", OptionType::Integer, false},
    {"pattern_opcode", OptionType::Integer, false},
    {"session_opcode", OptionType::Integer, false},
    {"intensity_max", OptionType::Integer, false},
    {"patterns", OptionType::String, false},
    {"state_layout", OptionType::String, false},
};

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto end = text.find(sep, start);
    out.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::optional<int> parse_byte(std::string_view text) {
  int v = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || v < 0 || v > 255)
    return std::nullopt;
  return v;
}

// The profile of a block, with an error per key that does not make sense.
Profile profile_of(const config::DeviceConfig& device, std::vector<config::Diagnostic>& out) {
  Profile p;
  auto uuid = [&](std::string_view key, std::string& into, bool may_be_empty) {
    const auto* v = option<std::string>(device, key);
    if (!v) return;
    if ((v->empty() && may_be_empty) || ble_common::valid_uuid(*v))
      into = *v;
    else
      ble_common::error_at(
          device, key,
          fmt::format("{} must be a UUID such as \"{}\"{}", key, kNusService,
                      may_be_empty ? " (or \"\" for a device that notifies nothing)" : ""),
          out);
  };
  uuid("service_uuid", p.service_uuid, false);
  uuid("command_uuid", p.command_uuid, false);
  uuid("state_uuid", p.state_uuid, true);
  auto byte = [&](std::string_view key, int& into, int min, int max) {
    const auto* v = option<std::int64_t>(device, key);
    if (!v) return;
    if (*v < min || *v > max)
      ble_common::error_at(device, key, fmt::format("{} must be from {} to {}", key, min, max),
                           out);
    else
      into = static_cast<int>(*v);
  };
  byte("power_opcode", p.power_opcode, 0, 255);
  byte("intensity_opcode", p.intensity_opcode, 0, 255);
  byte("pattern_opcode", p.pattern_opcode, 0, 255);
  byte("session_opcode", p.session_opcode, 0, 255);
  byte("intensity_max", p.intensity_max, 1, 255);
  if (const auto* v = option<std::string>(device, "patterns")) {
    p.patterns.clear();
    for (auto entry : split(*v, ',')) {
      const auto eq = entry.find('=');
      const auto name = entry.substr(0, eq);
      const auto number =
          parse_byte(eq == std::string_view::npos ? std::string_view{} : entry.substr(eq + 1));
      if (check_token("pattern", name) || !number) {
        ble_common::error_at(device, "patterns",
                             "patterns must list name=number pairs, such as "
                             "\"wave=1,pulse=2,steady=3\" (numbers 0 to 255)",
                             out);
        break;
      }
      p.patterns[std::string(name)] = *number;
    }
  }
  if (const auto* v = option<std::string>(device, "state_layout")) {
    p.state_layout.clear();
    bool on = false;
    for (auto entry : split(*v, ',')) {
      if (entry == "on") {
        p.state_layout.push_back(StateByte::On);
        on = true;
      } else if (entry == "intensity") {
        p.state_layout.push_back(StateByte::Intensity);
      } else if (entry == "pattern") {
        p.state_layout.push_back(StateByte::Pattern);
      } else if (entry == "-") {
        p.state_layout.push_back(StateByte::Skip);
      } else {
        on = false;
        break;
      }
    }
    if (!on)
      ble_common::error_at(device, "state_layout",
                           "state_layout must list the notification's bytes in order, each "
                           "\"on\", \"intensity\", \"pattern\" or \"-\", with \"on\" among them "
                           "(\"on,intensity,pattern\")",
                           out);
  }
  if (p.power_opcode == 0)
    ble_common::error_at(device, "power_opcode", "power_opcode must be from 1 to 255", out);
  return p;
}

std::vector<config::Diagnostic> validate(const config::DeviceConfig& device) {
  std::vector<config::Diagnostic> out;
  ble_common::validate_link(device, out);
  profile_of(device, out);
  return out;
}

Capabilities capabilities(const config::DeviceConfig&) { return bit(Capability::Massager); }

constexpr config::DriverSpec kSpec{"gatt-massager", kOptions, &validate, &capabilities};

Expected<std::unique_ptr<Device>> create(const config::DeviceConfig& config, DeviceHost& host,
                                         const PluginEnvironment&) {
  std::vector<config::Diagnostic> problems;
  Profile profile = profile_of(config, problems);
  if (!problems.empty()) return Error{"invalid_config", problems.front().to_string(), 500};
  return std::unique_ptr<Device>(std::make_unique<GattMassager>(config, host, std::move(profile)));
}

std::uint8_t u8(int v) { return static_cast<std::uint8_t>(v); }

// A device advertising the default profile's service. (One with another
// profile is configured by its address; a scan cannot know its UUIDs.)
bool recognises(const BleScanResult& seen) {
  return std::any_of(seen.service_uuids.begin(), seen.service_uuids.end(),
                     [](const std::string& u) { return ble_common::same_uuid(u, kNusService); });
}

}  // namespace

const PluginDescriptor kDescriptor{kSpec, &create, &recognises};

GattMassager::GattMassager(const config::DeviceConfig& config, DeviceHost& host, Profile profile)
    : BleDriver(config, host, std::chrono::seconds(10)), profile_(std::move(profile)) {}

Expected<std::vector<GattOp>> GattMassager::plan(const DeviceCommand& command) {
  const DeviceValues& v = command.values;
  auto write = [&](int opcode, Bytes args, std::string what) {
    Bytes value{u8(opcode)};
    value.insert(value.end(), args.begin(), args.end());
    return GattOp{GattOp::Kind::Write, profile_.command_uuid, std::move(value), std::move(what)};
  };
  std::vector<GattOp> settings;
  if (command.massage_session && v.massager_on != false && profile_.session_opcode != 0) {
    const auto s = std::clamp<std::int64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(*command.massage_session).count(), 1,
        65535);
    settings.push_back(write(profile_.session_opcode, {u8(s >> 8), u8(s & 0xff)},
                             fmt::format("session timer {} s", s)));
  }
  if (v.intensity) {
    const int device_level =
        static_cast<int>(std::lround(v.intensity->permille() * profile_.intensity_max / 1000.0));
    settings.push_back(write(profile_.intensity_opcode, {u8(device_level)},
                             fmt::format("intensity {}", describe(*v.intensity))));
  }
  if (v.pattern) {
    std::optional<int> number;
    if (auto it = profile_.patterns.find(*v.pattern); it != profile_.patterns.end())
      number = it->second;
    else
      number = parse_byte(*v.pattern);
    if (!number)
      return Error{"invalid_value", fmt::format("{} has no pattern \"{}\"", name(), *v.pattern),
                   400};
    settings.push_back(
        write(profile_.pattern_opcode, {u8(*number)}, fmt::format("pattern {}", *v.pattern)));
  }
  std::vector<GattOp> ops;
  if (v.massager_on == false) ops.push_back(write(profile_.power_opcode, {0}, "off"));
  ops.insert(ops.end(), settings.begin(), settings.end());
  if (v.massager_on == true) ops.push_back(write(profile_.power_opcode, {1}, "on"));
  return ops;
}

void GattMassager::subscribe(BleDevice& link) {
  if (profile_.state_uuid.empty()) return;
  link.notify(profile_.state_uuid, [this](const Bytes& value) { on_state(value); });
}

void GattMassager::connected() {
  // What it is doing now: after a crash of the hub, or a massage that its
  // own timer ended while the link was down.
  if (!profile_.state_uuid.empty())
    enqueue({GattOp{GattOp::Kind::Read, profile_.state_uuid, {}, "read state"}});
}

void GattMassager::read_result(const std::string&, const Bytes& value) { on_state(value); }

void GattMassager::on_state(const Bytes& value) {
  auto parsed = parse_state(profile_, value);
  if (!parsed) {
    log_.debug("{}: ignored a state notification that does not fit the profile: {}", name(),
               ble_common::hex(value));
    return;
  }
  observed(*parsed);
}

std::optional<DeviceValues> GattMassager::parse_state(const Profile& profile, const Bytes& value) {
  if (value.size() != profile.state_layout.size()) return std::nullopt;
  DeviceValues out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const int b = value[i];
    switch (profile.state_layout[i]) {
      case StateByte::On:
        if (b > 1) return std::nullopt;
        out.massager_on = b == 1;
        break;
      case StateByte::Intensity:
        if (b > profile.intensity_max) return std::nullopt;
        out.intensity =
            Level::permille(static_cast<int>(std::lround(b * 1000.0 / profile.intensity_max)));
        break;
      case StateByte::Pattern: {
        auto it = std::find_if(profile.patterns.begin(), profile.patterns.end(),
                               [b](const auto& p) { return p.second == b; });
        out.pattern = it != profile.patterns.end() ? it->first : std::to_string(b);
        break;
      }
      case StateByte::Skip:
        break;
    }
  }
  return out;
}

}  // namespace nursery::plugins::gatt_massager
