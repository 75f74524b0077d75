#pragma once
// The hub: rooms, their devices and routine engines, the safety choke point
// and the store, behind the one HubApi. It is the DeviceHost plugins talk to
// and the RoutineHost engines talk to. Every command, whatever its source,
// goes through Hub::dispatch, which asks Safety first.
// Thread: the loop thread. Never throws after construction.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "config/model.hpp"
#include "device.hpp"
#include "engine.hpp"
#include "hub_api.hpp"
#include "log.hpp"
#include "run_store.hpp"
#include "safety.hpp"

namespace date {
class time_zone;
}

namespace nursery {

// Creates a device from its config block (the plugin registry, in main).
using DeviceFactory =
    std::function<Expected<std::unique_ptr<Device>>(const config::DeviceConfig&, DeviceHost&)>;

enum class CommandSource { Routine, Api, Safety, Shutdown };
std::string_view command_source_name(CommandSource source);

class Hub final : public HubApi, public DeviceHost, public RoutineHost {
 public:
  // Creates every device. A device whose driver fails to create it is an
  // error here (config problems are caught by the loader before).
  static Expected<std::unique_ptr<Hub>> create(config::Config config, Clock& clock,
                                               RunStore& store, LogSink& sink,
                                               const DeviceFactory& factory);
  ~Hub() override;

  // Resumes the runs a previous process left open (recomputed from their
  // start and pauses) or closes them as interrupted if they would have ended.
  void recover();
  // Leaves every device safe (massagers off) and stops the engines without
  // ending their runs, so a restart resumes them.
  void shutdown();
  // For a reload: stops engines and timers without sending anything, and
  // returns the massagers that are on. The next hub takes over the devices
  // and calls settle_massagers() with that list.
  std::vector<std::string> release();
  // Switches off each of these massagers that this hub's recovered routines
  // do not keep on: a reload never leaves a massage running unowned, and
  // never interrupts one that goes on.
  void settle_massagers(const std::vector<std::string>& were_on);

  // Called after anything a status line or a live view would show changed.
  void on_change(std::function<void()> callback) { on_change_ = std::move(callback); }
  // A one-line summary for systemd's STATUS=.
  std::string summary() const;
  bool any_routine_active() const;
  const config::Config& config() const { return config_; }
  Device* device(std::string_view id);

  // HubApi
  HubStatus status() const override;
  Expected<RoutineStatus> routine(std::string_view room, const RoutineRequest& request) override;
  Expected<std::vector<RunRecord>> runs(const RunQuery& query) const override;
  Expected<CommandResult> set_device(std::string_view room, std::string_view device,
                                     const DeviceCommand& command) override;

  // DeviceHost
  Clock& clock() override { return clock_; }
  Logger logger(std::string domain) override { return log_.child(std::move(domain)); }
  std::string local_time(TimePoint t) const override;
  void report_state(std::string_view device_id, const DeviceValues& observed) override;
  void report_availability(std::string_view device_id, bool available) override;

  // RoutineHost
  void send_from_routine(Device& device, const DeviceCommand& command,
                         std::optional<TimePoint> session_started) override;
  void routine_step_began(std::string_view room, int step_index) override;
  void routine_ended(std::string_view room, Outcome outcome) override;

 private:
  struct Slot {
    std::unique_ptr<Device> device;
    DeviceValues observed;  // what the device last reported
    DeviceValues applied;   // what the hub last sent (after safety)
    bool available = true;
    std::optional<TimePoint> session_started;  // massager
    std::unique_ptr<Alarm> auto_off;
  };
  struct Room {
    const config::RoomConfig* config;
    std::unique_ptr<RoutineEngine> engine;
    std::optional<TimePoint> night_since;
  };

  Hub(config::Config config, Clock& clock, RunStore& store, LogSink& sink);
  SafetyDecision dispatch(Slot& slot, const DeviceCommand& command, CommandSource source,
                          std::optional<TimePoint> session_started = std::nullopt);
  void arm_auto_off(Slot& slot, TimePoint at, std::string reason);
  bool is_night(const Room& room) const;
  void update_night(Room& room, const config::RoutineConfig& routine, TimePoint started);
  void record(std::string_view room, std::string_view device, std::string_view kind,
              std::string detail);
  void changed();
  Room* find_room(std::string_view id);
  const Room* find_room(std::string_view id) const;
  Slot* find_slot(std::string_view device_id);
  const Slot* find_slot(std::string_view device_id) const;

  config::Config config_;
  Clock& clock_;
  RunStore& store_;
  Logger log_;
  Safety safety_;
  const date::time_zone* zone_ = nullptr;
  std::vector<Slot> slots_;
  std::vector<Room> rooms_;
  std::function<void()> on_change_;
};

}  // namespace nursery
