// No BlueZ, no adapter, no bus; the loop at rest; bad input.

#include <cstdlib>
#include <optional>

#include "tests/ble/test_support.hpp"

namespace nursery::bletest {
namespace {

using State = BleLinkState;

class NoBluezTest : public BleTest {
 protected:
  BluezMock::Options mock_options() override {
    BluezMock::Options o;
    o.start_bluez = false;
    return o;
  }
};

TEST_F(NoBluezTest, SaysOnceWhyBleIsUnavailableAndConnectsWhenBluezAppears) {
  mock->add_device(massager());  // comes with bluetoothd, later
  start_manager();
  auto dev = ble->device(kAddress, "");
  LinkRecorder recorder;
  recorder.attach(*dev);
  ASSERT_TRUE(run_until([&] { return recorder.saw(State::Unavailable); })) << diagnostics();
  EXPECT_FALSE(ble->available());
  EXPECT_NE(ble->unavailable_reason().find("BlueZ is not running"), std::string::npos)
      << ble->unavailable_reason();
  EXPECT_EQ(recorder.events.back().reason, ble->unavailable_reason());

  std::optional<Expected<std::vector<BleScanResult>>> scanned;
  ble->scan(1s, [&](Expected<std::vector<BleScanResult>> r) { scanned = std::move(r); });
  ASSERT_TRUE(run_until([&] { return scanned.has_value(); }));
  ASSERT_FALSE(scanned->ok());
  EXPECT_EQ(scanned->error().code, "ble_unavailable");

  mock->start_bluez();  // the same manager, no restart
  ASSERT_TRUE(run_until([&] { return connected(*dev); })) << recorder.describe() << diagnostics();
  EXPECT_TRUE(ble->available());
  EXPECT_EQ(log_lines_containing("BLE unavailable"), 1u) << diagnostics();
  EXPECT_EQ(log_lines_containing("BLE ready"), 1u) << diagnostics();
}

class NoAdapterTest : public BleTest {
 protected:
  BluezMock::Options mock_options() override {
    BluezMock::Options o;
    o.adapters = {};
    return o;
  }
};

TEST_F(NoAdapterTest, IsUnavailableWithoutAnAdapterAndUsesOneThatAppears) {
  start_manager();
  auto dev = ble->device(kAddress, "hci0");
  ASSERT_TRUE(run_until([&] { return dev->link_state() == State::Unavailable; })) << diagnostics();
  EXPECT_EQ(ble->unavailable_reason(), "no Bluetooth adapter");

  mock->add_adapter("hci0");
  mock->add_device(massager());
  ASSERT_TRUE(run_until([&] { return connected(*dev); })) << diagnostics();
}

class NoBusTest : public BleTest {
 protected:
  BluezMock::Options mock_options() override {
    BluezMock::Options o;
    o.start_bus = false;
    return o;
  }
};

TEST_F(NoBusTest, StartsWithoutABusAndConnectsOnceTheBusAndBluezAppear) {
  const std::string socket = (mock->dir() / "system_bus_socket").string();
  auto options = fast_options();
  options.bus_address = "unix:path=" + socket;
  start_manager(options);
  auto dev = ble->device(kAddress, "");
  ASSERT_TRUE(run_until([&] { return dev->link_state() == State::Unavailable; })) << diagnostics();
  EXPECT_NE(ble->unavailable_reason().find("cannot connect to the D-Bus"), std::string::npos)
      << ble->unavailable_reason();

  mock->start_bus(socket);
  mock->add_device(massager());
  ASSERT_TRUE(run_until([&] { return connected(*dev); })) << diagnostics();
  EXPECT_TRUE(ble->available());
}

// Sets an environment variable for one test and puts it back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_F(BleTest, UsesTheSystemBusNamedByDbusSystemBusAddress) {
  mock->add_device(massager());
  ScopedEnv env("DBUS_SYSTEM_BUS_ADDRESS", mock->bus_address());
  auto options = fast_options();
  options.bus_address.clear();  // the default: the system bus
  start_manager(options);
  auto dev = ble->device(kAddress, "");
  ASSERT_TRUE(run_until([&] { return connected(*dev); })) << diagnostics();
}

TEST_F(BleTest, AnIdleConnectionDoesNotWakeTheLoop) {
  mock->add_device(massager());
  start_manager();
  auto dev = ble->device(kAddress, "");
  dev->notify(kRx, [](const Bytes&) {});
  ASSERT_TRUE(run_until([&] { return connected(*dev); })) << diagnostics();
  // Let the StartNotify round trip finish.
  ASSERT_TRUE(run_until([&] { return !mock->calls("StartNotify", kAddress).empty(); }));
  run_for(200ms);

  const auto before = ble->stats().bus_wakeups;
  std::size_t handlers = 0;
  const auto deadline = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < deadline) {
    io.restart();
    handlers += io.run_one_until(deadline);
  }
  // A loop spinning on sd-bus would count thousands here.
  EXPECT_LE(ble->stats().bus_wakeups - before, 3u);
  EXPECT_LE(handlers, 5u);
}

TEST_F(BleTest, RefusesBadInputWithAClearErrorAndChangesNothing) {
  mock->add_device(massager());
  start_manager();

  auto bogus = ble->device("not-an-address", "");
  LinkRecorder bogus_events;
  bogus_events.attach(*bogus);
  EXPECT_EQ(bogus->link_state(), State::Unavailable);
  auto bad_adapter = ble->device(kAddress, "hci0/../x");
  EXPECT_EQ(bad_adapter->link_state(), State::Unavailable);

  auto dev = ble->device(kAddress, "");
  ASSERT_TRUE(run_until([&] { return connected(*dev) && !bogus_events.events.empty(); }))
      << diagnostics();
  EXPECT_NE(bogus_events.events[0].reason.find("not a Bluetooth address"), std::string::npos);

  std::vector<Error> errors;
  auto collect = [&](Status s) {
    if (!s) errors.push_back(s.error());
  };
  dev->write("not-a-uuid", {1}, true, collect);
  dev->write(kTx, Bytes(600, 0), true, collect);
  bogus->write(kTx, {1}, true, collect);
  ble->scan(0s, [&](Expected<std::vector<BleScanResult>> r) {
    if (!r) errors.push_back(r.error());
  });
  ble::ScanFilter filter{{"nonsense"}};
  ble->scan(1s, filter, [&](Expected<std::vector<BleScanResult>> r) {
    if (!r) errors.push_back(r.error());
  });
  ASSERT_TRUE(run_until([&] { return errors.size() == 5; })) << diagnostics();
  for (const auto& e : errors) EXPECT_EQ(e.code, "invalid_value") << e.message;

  EXPECT_TRUE(mock->calls("WriteValue").empty());
  EXPECT_TRUE(mock->calls("StartDiscovery").empty());
  EXPECT_TRUE(connected(*dev));
}

TEST_F(BleTest, IgnoresMalformedSignals) {
  mock->add_device(massager());
  start_manager();
  auto dev = ble->device(kAddress, "");
  std::vector<Bytes> notified;
  dev->notify(kRx, [&](const Bytes& b) { notified.push_back(b); });
  ASSERT_TRUE(run_until([&] { return connected(*dev); })) << diagnostics();
  ASSERT_TRUE(run_until([&] { return !mock->calls("StartNotify", kAddress).empty(); }));

  // Wrong types, wrong signatures, an object that does not exist.
  std::string code = R"py(
dev = mock.device('ADDRESS')
ch = dev.characteristic('UUID')
props = 'org.freedesktop.DBus.Properties'
mockobject.objects[dev.path].EmitSignal(props, 'PropertiesChanged', 'sa{sv}as',
    ['org.bluez.Device1', {'Connected': dbus.String('no', variant_level=1),
                           'ServicesResolved': dbus.Int32(0, variant_level=1)}, []])
mockobject.objects[ch.path].EmitSignal(props, 'PropertiesChanged', 'sa{sv}as',
    ['org.bluez.GattCharacteristic1', {'Value': dbus.String('garbage', variant_level=1)}, []])
mockobject.objects[ch.path].EmitSignal(props, 'PropertiesChanged', 'sas',
    ['org.bluez.GattCharacteristic1', ['Value']])
mockobject.objects['/'].EmitSignal('org.freedesktop.DBus.ObjectManager', 'InterfacesAdded',
    'os', ['/org/bluez/hci0/dev_00_00_00_00_00_00', 'garbage'])
mockobject.objects['/'].EmitSignal('org.freedesktop.DBus.ObjectManager', 'InterfacesRemoved',
    'oas', [dev.path + '/nothing', ['org.bluez.Device1']])
)py";
  code.replace(code.find("ADDRESS"), 7, kAddress);
  code.replace(code.find("UUID"), 4, kRx);
  mock->exec_python(code);
  // Signals from one sender arrive in order: once this one is seen, so were those.
  mock->notify(kAddress, kRx, {0x2a});
  ASSERT_TRUE(run_until([&] { return !notified.empty(); })) << diagnostics();
  EXPECT_EQ(notified, (std::vector<Bytes>{{0x2a}}));
  EXPECT_TRUE(connected(*dev));
  EXPECT_EQ(mock->calls("Connect", kAddress).size(), 1u);
}

}  // namespace
}  // namespace nursery::bletest
