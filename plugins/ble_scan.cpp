#include "ble_scan.hpp"

#include <fmt/format.h>

#include "plugins/registry.hpp"

namespace nursery::plugins {

constexpr std::chrono::seconds kMinScan{1};
constexpr std::chrono::seconds kMaxScan{300};

BleScanner::BleScanner(Ble* ble, Clock& clock)
    : ble_(ble), clock_(clock), alive_(std::make_shared<BleScanner*>(this)) {}

BleScanner::~BleScanner() { *alive_ = nullptr; }

Expected<BleScanStatus> BleScanner::start(std::chrono::seconds duration) {
  if (duration < kMinScan || duration > kMaxScan)
    return Error{"invalid_request",
                 fmt::format("a scan lasts from {} to {} seconds, got {}", kMinScan.count(),
                             kMaxScan.count(), duration.count()),
                 400};
  if (!ble_) return Error{"ble_unavailable", "this nurseryd runs without Bluetooth", 503};
  if (!ble_->available())
    return Error{"ble_unavailable",
                 fmt::format("Bluetooth is unavailable: {}", ble_->unavailable_reason()), 503};
  if (last_ && last_->state == BleScanState::Running) return *last_;  // join it
  BleScanStatus s;
  s.duration = duration;
  s.started_at = clock_.now();
  s.ends_at = s.started_at + duration;
  last_ = s;
  std::weak_ptr<BleScanner*> alive = alive_;
  ble_->scan(duration, [alive](Expected<std::vector<BleScanResult>> result) {
    auto self = alive.lock();
    if (!self || !*self || !(*self)->last_) return;
    BleScanStatus& st = *(*self)->last_;
    if (!result) {
      st.state = BleScanState::Failed;
      st.error = result.error().message;
      return;
    }
    st.state = BleScanState::Done;
    for (auto& seen : *result) {
      std::string driver(driver_for(seen));
      st.devices.push_back(BleScanDevice{std::move(seen), std::move(driver)});
    }
  });
  return s;
}

Expected<BleScanStatus> BleScanner::last() const {
  if (!last_)
    return Error{"no_scan", "no scan has been started: POST /api/v1/ble/scan?seconds=N", 404};
  return *last_;
}

}  // namespace nursery::plugins
