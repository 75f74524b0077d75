#pragma once
// The `simulated` driver: an in-process light, sound machine or massager.
// It is the demo's default and the tests' stand-in for hardware: it prints
// every change as a line a parent can read, reports its state back like a
// real device, can have a native transition or not, and a massager keeps its
// own session timer (so the massage ends even if the hub does not).

#include "plugins/registry.hpp"

namespace nursery::plugins::simulated {

extern const PluginDescriptor kDescriptor;

class SimulatedDevice final : public Device {
 public:
  SimulatedDevice(const config::DeviceConfig& config, Capability kind, bool native_transition,
                  DeviceHost& host);
  std::string_view driver() const override { return "simulated"; }
  Capabilities capabilities() const override { return static_cast<unsigned>(kind_); }
  bool native_transition() const override { return native_transition_; }
  void apply(const DeviceCommand& command) override;
  void start() override { host_.report_state(id(), state_); }

  // Test and demo hooks: what a wall switch or another app would do.
  void change_by_hand(const DeviceValues& values);
  void set_reachable(bool reachable);
  const DeviceValues& state() const { return state_; }
  std::size_t commands_received() const { return commands_; }

 private:
  void say(const DeviceValues& change, Duration transition, std::string_view how);
  Capability kind_;
  bool native_transition_;
  DeviceHost& host_;
  Logger log_;
  DeviceValues state_;
  std::unique_ptr<Alarm> session_timer_;
  std::size_t commands_ = 0;
  bool reachable_ = true;
};

}  // namespace nursery::plugins::simulated
