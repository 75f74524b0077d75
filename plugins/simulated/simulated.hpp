#pragma once
// The `simulated` driver: an in-process light, sound machine, massager, or
// a device with several of these (kind = "light+sound", like a Hatch Rest).
// It is the demo's default and the tests' stand-in for hardware: it prints
// every change as a line a parent can read and behaves like a real device
// where the hub must cope — configured per device, it answers late
// (`latency`), fails every Nth command (`fail_every`), reports values on
// the way during a fade (`report_steps`), reports a battery (`battery`),
// and tests can make it lose its link or change it "by hand". A massager
// keeps its own session timer (unless `own_timer = false`), so the massage
// ends even if the hub does not.
//
// The physical state lives in a World, which outlives the driver objects:
// the hub may be restarted (a test makes a new one on the same store) and
// finds each device as real hardware would be.
// Thread: the loop thread. Nothing here throws.

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "daemon/signal.hpp"
#include "plugins/registry.hpp"

namespace nursery::plugins::simulated {

extern const PluginDescriptor kDescriptor;

// What happened to a physical device, for observers.
enum class Cause { Command, ByHand, OwnTimer };

class World {
 public:
  explicit World(Clock& clock) : clock_(clock) {}

  struct Physical {
    Capabilities capabilities = 0;
    DeviceValues state;
    bool reachable = true;
    std::unique_ptr<Alarm> session_timer;  // the massager's own timer
    std::function<void()> on_own_change;   // the attached driver reports it
    const void* attached = nullptr;        // which driver set on_own_change
  };
  // The physical device of this id, created (everything off) the first time.
  Physical& device(const std::string& id, Capabilities capabilities);
  Physical* find(const std::string& id);
  // Changes the device's state and tells observers.
  void change(const std::string& id, const DeviceValues& values, Cause cause);

  // Every change that reaches any simulated device: (id, state after, cause).
  [[nodiscard]] Subscription watch(
      std::function<void(const std::string&, const DeviceValues&, Cause)> observer) {
    return changes_.subscribe(std::move(observer));
  }
  Clock& clock() { return clock_; }

 private:
  Clock& clock_;
  std::map<std::string, Physical> devices_;
  Signal<const std::string&, const DeviceValues&, Cause> changes_;
};

struct Behaviour {
  bool native_transition = true;
  Duration latency{0};
  int fail_every = 0;  // every Nth command fails; 0: none do
  bool report_steps = false;
  std::optional<int> battery;
  bool own_timer = true;  // a massager keeps its own session timer
};

class SimulatedDevice final : public Device {
 public:
  SimulatedDevice(const config::DeviceConfig& config, Capabilities kind, Behaviour behaviour,
                  DeviceHost& host, World* world);
  ~SimulatedDevice() override;
  std::string_view driver() const override { return "simulated"; }
  Capabilities capabilities() const override { return kind_; }
  bool native_transition(Capability) const override { return behaviour_.native_transition; }
  void start() override;
  void apply(const DeviceCommand& command) override;
  // An orderly stop: commands still on their way (a slow device's last
  // "off" as it leaves the hub) land first, then `done` is called.
  void stop(std::function<void()> done) override;

  // Test and demo hooks: what a wall switch or another app would do, and a
  // link that comes and goes.
  void change_by_hand(const DeviceValues& values);
  void set_reachable(bool reachable);
  void set_battery(int percent);
  const DeviceValues& state() const;
  std::size_t commands_received() const { return commands_; }

 private:
  void act(const DeviceCommand& command);
  void say(const DeviceValues& change, Duration transition, std::string_view how);
  World::Physical& physical();

  Capabilities kind_;
  Behaviour behaviour_;
  DeviceHost& host_;
  Logger log_;
  std::unique_ptr<World> own_world_;  // when the daemon gives none
  World* world_;
  void stopped_if_idle();

  std::deque<std::unique_ptr<Alarm>> in_flight_;
  std::function<void()> on_stopped_;
  std::size_t commands_ = 0;
};

}  // namespace nursery::plugins::simulated
