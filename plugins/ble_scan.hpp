#pragma once
// The hub's side of `nurseryctl ble scan`: one scan at a time through the
// Ble service, kept until the next one so that the control API can be
// asked for it while it runs and after (a scan takes seconds; the API
// answers at once). Each device seen is matched with the driver that would
// take it (PluginDescriptor::recognises).
// Thread: the loop thread. Nothing here throws.

#include <memory>

#include "daemon/clock.hpp"
#include "daemon/hub_api.hpp"
#include "daemon/services.hpp"

namespace nursery::plugins {

class BleScanner {
 public:
  // `ble` null: this nurseryd runs without Bluetooth.
  BleScanner(Ble* ble, Clock& clock);
  ~BleScanner();
  BleScanner(const BleScanner&) = delete;
  BleScanner& operator=(const BleScanner&) = delete;

  Expected<BleScanStatus> start(std::chrono::seconds duration);
  Expected<BleScanStatus> last() const;

 private:
  Ble* ble_;
  Clock& clock_;
  std::optional<BleScanStatus> last_;
  // Tells a scan's answer whether this scanner still exists.
  std::shared_ptr<BleScanner*> alive_;
};

}  // namespace nursery::plugins
