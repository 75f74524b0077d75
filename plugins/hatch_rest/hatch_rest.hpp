#pragma once
// The `hatch-rest` driver: a Hatch Rest (1st generation, BLE) as a light and
// a sound machine in one device. The protocol (field-notes.md, section 1):
// ASCII commands written with response to 02240002-…, each answered "OK" (or
// "E01") by a notification on 02240003-…; the state notified on 02260002-…
// as 20 bytes  T c c c c  C r g b l  S n v  P p  e x x x x.
//
//   address      "F3:53:11:AA:BB:CC"  (required)
//   adapter      "hci0"               (default: any)
//   sleep_timer  "12h"  the device's own off timer, set with every power on
//                       (SD, at most 18 h 12 min); "0s" for none. So sound
//                       ends even if the hub dies; the hub's auto-off
//                       (safety) still applies first.
//
// The device has one power switch: it is on while the light or the sound
// is. The light off with the sound on is brightness 0; the sound off with
// the light on is track 0 (none). The Rest forgets colour, track and volume
// while off, so all three are written before power on, and every write
// waits for the device's "OK" before the next. Its clock (ST, local wall
// time) is set at every connect, except between 00:00 and 02:30 local (the
// DST-ambiguous hours): then at 02:30. A state notification that is not
// exactly that layout changes nothing; one that differs from what the hub
// asked is a press on the device: a manual override.
// Thread: the loop thread. Nothing here throws.

#include "plugins/ble_common/ble_driver.hpp"
#include "plugins/registry.hpp"

namespace nursery::plugins::hatch_rest {

extern const PluginDescriptor kDescriptor;

inline constexpr std::string_view kRestService = "02240001-5efd-47eb-9c1a-de53f7a2b232";
inline constexpr std::string_view kTx = "02240002-5efd-47eb-9c1a-de53f7a2b232";
inline constexpr std::string_view kRx = "02240003-5efd-47eb-9c1a-de53f7a2b232";
inline constexpr std::string_view kAdvertisingService = "02260001-5efd-47eb-9c1a-de53f7a2b232";
inline constexpr std::string_view kFeedback = "02260002-5efd-47eb-9c1a-de53f7a2b232";
inline constexpr std::uint16_t kManufacturerId = 1076;

struct Rgb {
  int r = 0, g = 0, b = 0;
};
// A colour temperature as the RGB the Rest shows.
Rgb rgb_of_kelvin(int kelvin);
// The track number of a track name ("white-noise" -> 3), nullopt if unknown.
std::optional<int> track_number(std::string_view name);

struct Feedback {
  Rgb color;
  int brightness = 0;  // 0..255
  int track = 0;
  int volume = 0;  // 0..255
  bool power = false;
};
// The state notification, or nullopt when it is not one.
std::optional<Feedback> parse_feedback(const Bytes& value);

class HatchRest final : public ble_common::BleDriver {
 public:
  HatchRest(const config::DeviceConfig& config, DeviceHost& host, Duration sleep_timer);
  std::string_view driver() const override { return "hatch-rest"; }
  Capabilities capabilities() const override { return Capability::Light | Capability::Sound; }
  bool native_transition(Capability) const override { return false; }
  // Several writes, each waiting for "OK".
  Duration command_timeout() const override { return std::chrono::seconds(30); }

 private:
  Expected<std::vector<ble_common::GattOp>> plan(const DeviceCommand& command) override;
  void subscribe(BleDevice& link) override;
  void connected() override;
  void read_result(const std::string& uuid, const Bytes& value) override;
  DeviceValues result_of(const DeviceCommand& command) override;
  void on_feedback(const Bytes& value);
  void set_clock();
  // What it shows and plays, from what the hub last asked.
  bool power() const;

  Duration sleep_timer_;
  DeviceValues wanted_;     // every field the hub has asked for, merged
  bool device_on_ = false;  // as last known (commanded or notified)
  std::unique_ptr<Alarm> clock_alarm_;
};

}  // namespace nursery::plugins::hatch_rest
