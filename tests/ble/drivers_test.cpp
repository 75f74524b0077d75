// The gatt-massager and hatch-rest drivers against the BlueZ mock with the
// two devices emulated (device_emulators.hpp): what they write, in which
// order, when, and what they make of what the devices notify.

#include <optional>

#include "plugins/registry.hpp"
#include "tests/ble/device_emulators.hpp"
#include "tests/ble/driver_host.hpp"
#include "tests/ble/test_support.hpp"

namespace nursery::bletest {
namespace {

constexpr const char* kMassagerAddress = "F3:53:11:AA:BB:11";
constexpr const char* kRestAddress = "F3:53:11:AA:BB:22";

config::DeviceConfig device_config(std::string id, std::string driver, std::string address) {
  config::DeviceConfig c;
  c.id = id;
  c.name = id;
  c.room = "nursery";
  c.driver = std::move(driver);
  c.options["address"] = config::DriverOption{std::move(address), {}};
  return c;
}

class DriverTest : public BleTest {
 protected:
  void SetUp() override {
    BleTest::SetUp();
    define_emulators(*mock);
  }
  void TearDown() override {
    device.reset();
    host.reset();
    BleTest::TearDown();
  }

  // `local`: the hub's local time of day now, whatever time the test runs.
  Device& open(const config::DeviceConfig& config,
               std::optional<std::chrono::hours> local = std::nullopt) {
    host = std::make_unique<DriverHost>(io, sink, ble.get());
    if (local) {
      const auto now = host->clock().now();
      host->utc_offset = *local - (now - std::chrono::floor<date::days>(now));
    }
    auto made = plugins::create_device(config, *host, {});
    EXPECT_TRUE(made.ok()) << (made ? "" : made.error().message);
    device = std::move(made.value());
    device->start();
    return *device;
  }
  Device& open_massager() {
    start_manager();
    return open(device_config("massager", "gatt-massager", kMassagerAddress));
  }
  Device& open_rest(std::optional<std::chrono::hours> local = std::nullopt) {
    start_manager();
    return open(device_config("rest", "hatch-rest", kRestAddress), local);
  }

  ::testing::AssertionResult wait_available(std::size_t times = 1) {
    if (run_until([&] {
          return host->count(Availability::Available) >= times &&
                 host->now() == Availability::Available;
        }))
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "never available\n" << diagnostics();
  }
  // Sends a command and waits for its answer.
  std::optional<DriverHost::Result> command(DeviceValues values,
                                            std::optional<Duration> session = std::nullopt) {
    DeviceCommand c;
    c.id = ++last_id;
    c.values = std::move(values);
    c.massage_session = session;
    device->apply(c);
    run_until([&] { return host->result_of(c.id).has_value(); }, 20s);
    return host->result_of(c.id);
  }
  // The bytes written to `uuid`'s device, in order.
  std::vector<Bytes> writes(const std::string& address) const {
    std::vector<Bytes> out;
    for (const auto& r : mock->calls("WriteValue", address)) out.push_back(r.value);
    return out;
  }
  std::vector<std::string> texts(const std::string& address) const {
    std::vector<std::string> out;
    for (const auto& w : writes(address)) out.emplace_back(w.begin(), w.end());
    return out;
  }

  std::unique_ptr<DriverHost> host;
  std::unique_ptr<Device> device;
  CommandId last_id = 0;
};

DeviceValues massager_on(int intensity_permille, std::string pattern) {
  DeviceValues v;
  v.massager_on = true;
  v.intensity = Level::permille(intensity_permille);
  v.pattern = std::move(pattern);
  return v;
}

// --- gatt-massager -------------------------------------------------------------

TEST_F(DriverTest, MassagerIsFoundConnectedCommandedAndItsStateNotified) {
  add_massager(*mock, kMassagerAddress, /*known=*/false);  // only a scan finds it
  open_massager();
  ASSERT_TRUE(wait_available());

  auto r = command(massager_on(300, "pulse"), std::chrono::minutes(10));
  ASSERT_TRUE(r) << diagnostics();
  EXPECT_EQ(r->outcome, CommandOutcome::Done) << r->reason;
  // The device's own timer first, then the settings, then on.
  EXPECT_EQ(writes(kMassagerAddress),
            (std::vector<Bytes>{{4, 0x02, 0x58}, {2, 30}, {3, 2}, {1, 1}}));

  // A press on the device: it stops by itself, and says so.
  const auto before = host->unprompted().size();
  mock->exec_python(std::string("devices['") + kMassagerAddress + "']['on'] = 0\n" +
                    "mock.notify('" + kMassagerAddress + "', '" + kNusNotify +
                    "', massager_state(devices['" + kMassagerAddress + "']))");
  ASSERT_TRUE(run_until([&] {
    const auto u = host->unprompted();
    return u.size() > before && u.back().observed.massager_on == false;
  })) << diagnostics();
  const auto seen = host->unprompted().back().observed;
  EXPECT_EQ(seen.intensity, Level::permille(300));
  EXPECT_EQ(seen.pattern, "pulse");
}

TEST_F(DriverTest, MassagerSwitchesOffBeforeAnythingElse) {
  add_massager(*mock, kMassagerAddress);
  open_massager();
  ASSERT_TRUE(wait_available());
  DeviceValues off;
  off.massager_on = false;
  off.intensity = Level::permille(0);
  auto r = command(off);
  ASSERT_TRUE(r && r->outcome == CommandOutcome::Done) << diagnostics();
  EXPECT_EQ(writes(kMassagerAddress), (std::vector<Bytes>{{1, 0}, {2, 0}}));
}

TEST_F(DriverTest, MassagerIgnoresMalformedStateNotifications) {
  add_massager(*mock, kMassagerAddress);
  open_massager();
  ASSERT_TRUE(wait_available());
  // The state read at connect is reported; wait for it, then count.
  ASSERT_TRUE(run_until([&] { return !host->reports.empty(); })) << diagnostics();
  const auto reports = host->reports.size();
  mock->notify(kMassagerAddress, kNusNotify, {1, 30});        // short
  mock->notify(kMassagerAddress, kNusNotify, {1, 30, 2, 9});  // long
  mock->notify(kMassagerAddress, kNusNotify, {7, 30, 2});     // on is not 0/1
  mock->notify(kMassagerAddress, kNusNotify, {1, 200, 2});    // beyond intensity_max
  mock->notify(kMassagerAddress, kNusNotify, {0, 0, 1});      // a real one, to know the
  ASSERT_TRUE(run_until([&] { return host->reports.size() > reports; })) << diagnostics();
  ASSERT_EQ(host->reports.size(), reports + 1) << "malformed notifications were reported";
  EXPECT_EQ(host->reports.back().observed.massager_on, false);
}

TEST_F(DriverTest, MassagerThatNeverAnswersFailsTheCommandAndIsReconnected) {
  add_massager(*mock, kMassagerAddress);
  open_massager();
  ASSERT_TRUE(wait_available());
  // The state read at connect is answered before the device goes silent.
  ASSERT_TRUE(run_until([&] { return !host->reports.empty(); })) << diagnostics();
  mock->set_gatt_silent(kMassagerAddress, true);
  auto r = command(massager_on(300, "wave"), std::chrono::minutes(10));
  ASSERT_TRUE(r) << diagnostics();
  EXPECT_EQ(r->outcome, CommandOutcome::Failed);
  // Only the first write went out: nothing is sent before it is answered.
  EXPECT_EQ(writes(kMassagerAddress).size(), 1u);
  mock->set_gatt_silent(kMassagerAddress, false);
  ASSERT_TRUE(wait_available(2)) << "not reconnected after the silence";
  r = command(massager_on(300, "wave"), std::chrono::minutes(10));
  ASSERT_TRUE(r && r->outcome == CommandOutcome::Done) << diagnostics();
}

TEST_F(DriverTest, MassagerRetriesAnAbortedConnectAndThenWorks) {
  add_massager(*mock, kMassagerAddress);
  mock->fail_connect(kMassagerAddress, "org.bluez.Error.Failed", "le-connection-abort-by-local", 1);
  open_massager();
  ASSERT_TRUE(wait_available());
  EXPECT_GE(mock->calls("Connect", kMassagerAddress).size(), 2u);
  auto r = command(massager_on(200, "wave"), std::chrono::minutes(5));
  ASSERT_TRUE(r && r->outcome == CommandOutcome::Done) << diagnostics();
}

TEST_F(DriverTest, MassagerRemovedIsUnavailableAndReturnsWithItsOwnState) {
  add_massager(*mock, kMassagerAddress);
  open_massager();
  ASSERT_TRUE(wait_available());
  mock->remove_device(kMassagerAddress);
  ASSERT_TRUE(run_until([&] { return host->now() == Availability::Unavailable; })) << diagnostics();
  // Commands while it is away fail at once; the hub sends again on return.
  auto r = command(massager_on(200, "wave"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, CommandOutcome::Failed);
  mock->restore_device(kMassagerAddress);
  ASSERT_TRUE(wait_available(2));
  r = command(massager_on(200, "wave"), std::chrono::minutes(5));
  ASSERT_TRUE(r && r->outcome == CommandOutcome::Done) << diagnostics();
}

TEST_F(DriverTest, MassageEndsByTheDevicesOwnTimerWhenTheHubIsGone) {
  add_massager(*mock, kMassagerAddress);
  open_massager();
  ASSERT_TRUE(wait_available());
  auto r = command(massager_on(300, "wave"), std::chrono::seconds(2));
  ASSERT_TRUE(r && r->outcome == CommandOutcome::Done) << diagnostics();
  // The hub dies: nothing is connected to the massager any more. The timer
  // it set still ends the massage (its "off" notification finds nobody).
  device.reset();
  ASSERT_TRUE(
      run_until([&] { return !mock->calls("NotificationDropped", kMassagerAddress).empty(); }, 20s))
      << "the device's own timer never fired\n"
      << diagnostics();
  // A new hub finds it off.
  open(device_config("massager", "gatt-massager", kMassagerAddress));
  ASSERT_TRUE(wait_available());
  ASSERT_TRUE(run_until([&] { return !host->reports.empty(); })) << diagnostics();
  EXPECT_EQ(host->reports.back().observed.massager_on, false);
}

// --- hatch-rest ------------------------------------------------------------------

DeviceValues rest_on() {
  DeviceValues v;
  v.light_on = true;
  v.brightness = Level::permille(100);
  v.color_temp = 2200;
  v.sound_on = true;
  v.track = "ocean";
  v.volume = Level::permille(300);
  return v;
}

TEST_F(DriverTest, RestGetsColourTrackAndVolumeBeforePowerOnEachAfterTheLastWasAnswered) {
  add_hatch_rest(*mock, kRestAddress, /*known=*/false);
  open_rest();
  ASSERT_TRUE(wait_available());
  auto r = command(rest_on());
  ASSERT_TRUE(r) << diagnostics();
  ASSERT_EQ(r->outcome, CommandOutcome::Done) << r->reason << diagnostics();

  auto sent = texts(kRestAddress);
  // The clock at connect (unless the test runs between 00:00 and 02:30 UTC).
  if (!sent.empty() && sent.front().starts_with("ST")) sent.erase(sent.begin());
  ASSERT_EQ(sent.size(), 5u) << testing::PrintToString(sent);
  EXPECT_TRUE(sent[0].starts_with("SC")) << sent[0];
  EXPECT_EQ(sent[0].substr(8), "1a");  // 10 % of 255
  EXPECT_EQ(sent[1], "SN05");          // ocean
  EXPECT_EQ(sent[2], "SV4d");          // 30 % of 255
  EXPECT_EQ(sent[3], "SDA8C0");        // its own timer: 12 h
  EXPECT_EQ(sent[4], "SI01");

  // Each write went out only after the device's "OK" to the one before.
  const auto w = mock->calls("WriteValue", kRestAddress);
  std::vector<double> oks;
  for (const auto& rec : mock->calls("Notified", kRestAddress))
    if (rec.args == "[79, 75]") oks.push_back(rec.t);
  for (std::size_t i = 1; i < w.size(); ++i) {
    const bool answered = std::any_of(
        oks.begin(), oks.end(), [&](double t) { return t > w[i - 1].replied && t <= w[i].t; });
    EXPECT_TRUE(answered) << "write " << i << " went out before write " << i - 1
                          << " was acknowledged";
  }
}

TEST_F(DriverTest, RestStateNotificationIsParsedAndAPressOnTheDeviceIsReported) {
  add_hatch_rest(*mock, kRestAddress);
  open_rest();
  ASSERT_TRUE(wait_available());
  ASSERT_TRUE(command(rest_on()));
  const auto before = host->unprompted().size();
  // Someone switches it off on the device.
  mock->exec_python(std::string("s = rest('") + kRestAddress + "')\ns['power'] = False\n" +
                    "mock.notify('" + kRestAddress + "', '" + kRestFeedback + "', rest_state(s))");
  ASSERT_TRUE(run_until([&] {
    for (std::size_t i = before; i < host->unprompted().size(); ++i)
      if (host->unprompted()[i].observed.light_on == false) return true;
    return false;
  })) << diagnostics();
  const auto seen = host->unprompted().back().observed;  // a copy: unprompted() returns a new vector
  EXPECT_EQ(seen.light_on, false);
  EXPECT_EQ(seen.sound_on, false);
}

TEST_F(DriverTest, RestIgnoresMalformedStateNotifications) {
  add_hatch_rest(*mock, kRestAddress);
  open_rest();
  ASSERT_TRUE(wait_available());
  DeviceValues off;
  off.light_on = false;
  off.sound_on = false;
  ASSERT_TRUE(command(off));
  const auto baseline = host->reports.size();
  // Every real state below is "off" but the last; a malformed one taken
  // for a state would show as something else.
  const std::string emit =
      std::string("mock.notify('") + kRestAddress + "', '" + kRestFeedback + "', ";
  mock->exec_python(
      "playing = {'power': True, 'color': [255, 0, 0], 'brightness': 200, 'track': 9, "
      "'volume': 99, 'timer': 0}\n");
  mock->notify(kRestAddress, kRestFeedback, bytes("T\x01\x02"));             // short
  mock->exec_python(emit + "rest_state(playing) + b'xx')");                  // long
  mock->notify(kRestAddress, kRestFeedback, bytes("garbage-garbage-garb"));  // 20 bytes
  mock->exec_python(emit + "rest_state(playing)[:15] + b'?' + rest_state(playing)[16:])");
  mock->exec_python(emit + "rest_state(dict(playing, track=5))) ");  // a real one
  ASSERT_TRUE(run_until([&] {
    return host->reports.size() > baseline && host->reports.back().observed.track == "ocean";
  })) << diagnostics();
  for (std::size_t i = baseline; i + 1 < host->reports.size(); ++i) {
    const auto& seen = host->reports[i].observed;
    EXPECT_EQ(seen.light_on, false) << "report " << i << ": " << describe(seen);
    EXPECT_EQ(seen.sound_on, false) << "report " << i << ": " << describe(seen);
  }
}

TEST_F(DriverTest, RestAnsweringAnErrorFailsTheCommandAndSendsNothingAfter) {
  add_hatch_rest(*mock, kRestAddress);
  open_rest();
  ASSERT_TRUE(wait_available());
  mock->exec_python(
      "_orig_rest_write = rest_write\n"
      "def rest_write(address, value, notify):\n"
      "    if bytes(value).startswith(b'SN'):\n"
      "        notify('02240003-5efd-47eb-9c1a-de53f7a2b232', b'E01', 20)\n"
      "        return\n"
      "    _orig_rest_write(address, value, notify)\n");
  auto r = command(rest_on());
  ASSERT_TRUE(r) << diagnostics();
  EXPECT_EQ(r->outcome, CommandOutcome::Failed);
  auto sent = texts(kRestAddress);
  EXPECT_TRUE(sent.back().starts_with("SN")) << testing::PrintToString(sent);
}

TEST_F(DriverTest, RestClockIsNotSetBetweenMidnightAndHalfPastTwo) {
  add_hatch_rest(*mock, kRestAddress);
  open_rest(std::chrono::hours(1));
  ASSERT_TRUE(wait_available());
  ASSERT_TRUE(command(rest_on()));
  for (const auto& t : texts(kRestAddress)) EXPECT_FALSE(t.starts_with("ST")) << t;
}

TEST_F(DriverTest, RestClockIsSetAtConnectAsLocalTime) {
  add_hatch_rest(*mock, kRestAddress);
  open_rest(std::chrono::hours(15));
  ASSERT_TRUE(wait_available());
  ASSERT_TRUE(run_until([&] { return !writes(kRestAddress).empty(); })) << diagnostics();
  const auto first = texts(kRestAddress).front();
  ASSERT_EQ(first.size(), 17u) << first;
  EXPECT_TRUE(first.starts_with("ST")) << first;
  EXPECT_EQ(first.substr(10, 2), "15") << first;
  EXPECT_EQ(first.back(), 'U');
}

TEST_F(DriverTest, RestComesBackAfterTheWholeBluezRestartsAndWorks) {
  add_hatch_rest(*mock, kRestAddress);
  open_rest();
  ASSERT_TRUE(wait_available());
  ASSERT_TRUE(command(rest_on()));
  mock->restart_bluez();
  ASSERT_TRUE(run_until([&] { return host->now() != Availability::Available; }));
  ASSERT_TRUE(wait_available(2));
  auto v = rest_on();
  v.volume = Level::permille(200);
  auto r = command(v);
  ASSERT_TRUE(r && r->outcome == CommandOutcome::Done) << diagnostics();
}

}  // namespace
}  // namespace nursery::bletest
