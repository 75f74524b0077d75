#include "test_drivers.hpp"

#include <fmt/format.h>

#include <string>
#include <variant>

namespace nursery::config::testing {

namespace {

constexpr DriverOptionSpec kSimulatedOptions[] = {
    {"kind", OptionType::String, true},
    {"native_transition", OptionType::Bool, false},
};

std::vector<Diagnostic> validate_simulated(const DeviceConfig& device) {
  std::vector<Diagnostic> found;
  const auto& option = device.options.at("kind");
  const auto& kind = std::get<std::string>(option.value);
  if (kind != "light" && kind != "sound" && kind != "massager")
    found.push_back({Diagnostic::Severity::Error, option.where,
                     fmt::format("kind must be light, sound or massager, got \"{}\"", kind)});
  return found;
}

Capabilities simulated_capabilities(const DeviceConfig& device) {
  const auto& kind = std::get<std::string>(device.options.at("kind").value);
  return static_cast<Capabilities>(parse_role(kind).value_or(Capability::Light));
}

constexpr DriverSpec kSimulated{"simulated", kSimulatedOptions, &validate_simulated,
                                &simulated_capabilities};

constexpr DriverOptionSpec kProbeOptions[] = {
    {"enabled", OptionType::Bool, false},     {"retries", OptionType::Integer, false},
    {"gain", OptionType::Number, false},      {"address", OptionType::String, false},
    {"timeout", OptionType::Duration, false},
};

constexpr DriverSpec kProbe{"probe", kProbeOptions, nullptr};

}  // namespace

DriverCatalog test_drivers() {
  return [](std::string_view name) -> const DriverSpec* {
    if (name == kSimulated.name) return &kSimulated;
    if (name == kProbe.name) return &kProbe;
    return nullptr;
  };
}

}  // namespace nursery::config::testing
