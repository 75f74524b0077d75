// Scans: what they report, the filter they set, and connects waiting for them.

#include <optional>

#include "tests/ble/test_support.hpp"

namespace nursery::bletest {
namespace {

using ScanResult = Expected<std::vector<BleScanResult>>;

class ScanTest : public BleTest {
 protected:
  void add_neighbourhood() {
    auto rest = massager();
    rest.name = "Hatch Rest";
    rest.known = false;
    rest.rssi = -40;
    rest.manufacturer_data = {{1076, {0x72}}};
    mock->add_device(rest);
    DeviceSpec phone;
    phone.address = "C0:00:00:00:00:02";
    phone.name = "Phone";
    phone.known = false;
    phone.rssi = -70;
    phone.advertised_uuids = {"0000180d-0000-1000-8000-00805f9b34fb"};
    mock->add_device(phone);
    DeviceSpec quiet;  // BlueZ knows it, but it is not advertising
    quiet.address = "C0:00:00:00:00:03";
    quiet.advertising = false;
    mock->add_device(quiet);
  }

  ScanResult scan_and_wait(std::chrono::seconds duration, ble::ScanFilter filter = {}) {
    std::optional<ScanResult> result;
    ble->scan(duration, std::move(filter), [&](ScanResult r) { result = std::move(r); });
    if (!run_until([&] { return result.has_value(); }, duration + 15s))
      return Error{"test_timeout", "the scan never ended", 0};
    return *result;
  }
};

TEST_F(ScanTest, ReportsWhatAdvertisesAndHonoursTheServiceFilter) {
  add_neighbourhood();
  start_manager();
  ASSERT_TRUE(run_until([&] { return ble->available(); })) << diagnostics();

  auto filtered = scan_and_wait(1s, {{"FFF0"}});
  ASSERT_TRUE(filtered.ok()) << filtered.error().message;
  ASSERT_EQ(filtered->size(), 1u) << diagnostics();
  const auto& rest = filtered->front();
  EXPECT_EQ(rest.address, kAddress);
  EXPECT_EQ(rest.name, "Hatch Rest");
  EXPECT_EQ(rest.rssi, -40);
  EXPECT_EQ(rest.service_uuids, (std::vector<std::string>{kService}));
  EXPECT_EQ(rest.manufacturer_ids, (std::vector<std::uint16_t>{1076}));

  const auto filters = mock->calls("SetDiscoveryFilter");
  ASSERT_FALSE(filters.empty());
  EXPECT_NE(filters[0].args.find("\"Transport\": \"le\""), std::string::npos) << filters[0].args;
  EXPECT_NE(filters[0].args.find(kService), std::string::npos) << filters[0].args;

  auto everything = scan_and_wait(1s);
  ASSERT_TRUE(everything.ok()) << everything.error().message;
  ASSERT_EQ(everything->size(), 2u) << diagnostics();
  EXPECT_EQ((*everything)[0].address, kAddress);  // strongest first
  EXPECT_EQ((*everything)[1].address, "C0:00:00:00:00:02");

  // Discovery is stopped and our filter cleared once no scan is left.
  ASSERT_TRUE(run_until([&] {
    auto f = mock->calls("SetDiscoveryFilter");
    return mock->calls("StopDiscovery").size() == 2 && f.back().args == "{}";
  })) << diagnostics();
}

TEST_F(ScanTest, ConnectsOnlyOnceTheScanHasEnded) {
  mock->add_device(massager());
  start_manager();
  ASSERT_TRUE(run_until([&] { return ble->available(); })) << diagnostics();

  std::optional<ScanResult> scanned;
  ble->scan(2s, [&](ScanResult r) { scanned = std::move(r); });
  ASSERT_TRUE(run_until([&] { return !mock->calls("StartDiscovery").empty(); })) << diagnostics();
  auto dev = ble->device(kAddress, "");
  ASSERT_TRUE(run_until([&] { return connected(*dev); })) << diagnostics();
  ASSERT_TRUE(scanned.has_value());
  EXPECT_TRUE(scanned->ok());

  const auto stops = mock->calls("StopDiscovery");
  const auto connects = mock->calls("Connect", kAddress);
  ASSERT_EQ(stops.size(), 1u);
  ASSERT_EQ(connects.size(), 1u);
  EXPECT_GE(connects[0].t, stops[0].replied);
}

}  // namespace
}  // namespace nursery::bletest
