#pragma once
// The BLE manager: the top layer of ble/, and the only part of it that knows
// the hub's service interfaces (daemon/services.hpp). It owns one D-Bus
// connection (the system bus unless Options::bus_address says otherwise),
// the mirror of BlueZ's objects, the discovery sessions and one link per
// peripheral, and hands drivers BleDevice handles that find, connect and
// reconnect their device by themselves.
//
// No BlueZ (not running, no adapter, no permission, no bus at all) is not an
// error: it is one log line, handles that report Unavailable with the
// reason, and BlueZ (or the bus) appearing later is picked up by itself.
//
// Quirk a driver should know: BlueZ updates a characteristic's Value after a
// read as well, so a notification handler of that characteristic may also
// see the value just read.
//
// Thread: the loop thread, for every method; every callback is posted to the
// loop (see daemon/services.hpp). A handle may outlive the manager: it then
// reports Unavailable and fails every operation.
// Throws: nothing.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ble/options.hpp"
#include "daemon/log.hpp"
#include "daemon/services.hpp"

namespace nursery::ble {

struct ScanFilter {
  // Report only devices advertising one of these services (any form
  // normalize_uuid accepts); empty: every LE device.
  std::vector<std::string> service_uuids;
};

class BleManager final : public nursery::Ble {
 public:
  BleManager(boost::asio::io_context& io, Logger log, Options options = {});
  ~BleManager() override;
  BleManager(const BleManager&) = delete;
  BleManager& operator=(const BleManager&) = delete;

  // `address` "F3:53:11:AA:BB:CC" (any case); `adapter` "hci0", empty: any.
  // A malformed address or adapter gives a handle that stays Unavailable
  // and says why. Handles on the same device share one link.
  std::unique_ptr<BleDevice> device(std::string address, std::string adapter) override;

  // Every LE device seen advertising during `duration` (1 s to 5 min),
  // strongest first. Connects wait while it runs.
  void scan(std::chrono::seconds duration,
            std::function<void(Expected<std::vector<BleScanResult>>)> done) override;
  void scan(std::chrono::seconds duration, ScanFilter filter,
            std::function<void(Expected<std::vector<BleScanResult>>)> done);

  bool available() const override;
  std::string unavailable_reason() const override;

  struct Stats {
    std::uint64_t bus_wakeups = 0;  // loop wake-ups for the D-Bus connection
    std::size_t mirrored_objects = 0;
    std::size_t links = 0;
  };
  Stats stats() const;

  class Core;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace nursery::ble
