#pragma once
// The `gatt-massager` driver: a BLE massager whose GATT profile is given in
// its [[devices]] block. Every key but `address` has a default, the
// "default profile" (Nordic UART UUIDs):
//
//   address          "F3:53:11:AA:BB:CC"  (required)
//   adapter          "hci0"               (default: any)
//   service_uuid     6e400001-b5a3-f393-e0a9-e50e24dcca9e  (what a scan recognises)
//   command_uuid     6e400002-b5a3-f393-e0a9-e50e24dcca9e  (written, with response)
//   state_uuid       6e400003-b5a3-f393-e0a9-e50e24dcca9e  (notified; "" for none)
//   power_opcode     1   command [1, 0|1]
//   intensity_opcode 2   command [2, 0..intensity_max]
//   pattern_opcode   3   command [3, n]
//   session_opcode   4   command [4, seconds >> 8, seconds & 0xff] (0: no own timer)
//   intensity_max    100 the device's top intensity
//   patterns         "wave=1,pulse=2,steady=3" (a pattern may also be its number)
//   state_layout     "on,intensity,pattern": the notification, one byte per
//                    name in order ("-" for a byte to skip)
//
// Switching on writes the session timer first (the hub's remaining session
// seconds, from Safety), then intensity and pattern, then on, so the device
// ends the massage by itself even if the hub dies. Switching off writes off
// first. A notification that does not fit the layout exactly (length,
// on not 0/1, intensity beyond the max) changes nothing.
// Thread: the loop thread. Nothing here throws.

#include <map>

#include "plugins/ble_common/ble_driver.hpp"
#include "plugins/registry.hpp"

namespace nursery::plugins::gatt_massager {

extern const PluginDescriptor kDescriptor;

inline constexpr std::string_view kNusService = "6e400001-b5a3-f393-e0a9-e50e24dcca9e";
inline constexpr std::string_view kNusWrite = "6e400002-b5a3-f393-e0a9-e50e24dcca9e";
inline constexpr std::string_view kNusNotify = "6e400003-b5a3-f393-e0a9-e50e24dcca9e";

enum class StateByte { On, Intensity, Pattern, Skip };

struct Profile {
  std::string service_uuid{kNusService};
  std::string command_uuid{kNusWrite};
  std::string state_uuid{kNusNotify};
  int power_opcode = 1;
  int intensity_opcode = 2;
  int pattern_opcode = 3;
  int session_opcode = 4;  // 0: the device has no timer of its own
  int intensity_max = 100;
  std::map<std::string, int> patterns{{"wave", 1}, {"pulse", 2}, {"steady", 3}};
  std::vector<StateByte> state_layout{StateByte::On, StateByte::Intensity, StateByte::Pattern};
};

class GattMassager final : public ble_common::BleDriver {
 public:
  GattMassager(const config::DeviceConfig& config, DeviceHost& host, Profile profile);
  std::string_view driver() const override { return "gatt-massager"; }
  Capabilities capabilities() const override { return bit(Capability::Massager); }
  bool native_transition(Capability) const override { return false; }

  // The notification parsed, or nullopt when it does not fit the layout.
  static std::optional<DeviceValues> parse_state(const Profile& profile, const Bytes& value);

 private:
  Expected<std::vector<ble_common::GattOp>> plan(const DeviceCommand& command) override;
  void subscribe(BleDevice& link) override;
  void connected() override;
  void read_result(const std::string& uuid, const Bytes& value) override;
  void on_state(const Bytes& value);

  Profile profile_;
};

}  // namespace nursery::plugins::gatt_massager
