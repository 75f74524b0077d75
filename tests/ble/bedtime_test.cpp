// The Done-when test of the BLE drivers: the real nurseryd, pointed at the
// BlueZ mock as its system bus, runs a whole bedtime routine over a
// gatt-massager and a Hatch Rest (both emulated in the mock) and the
// simulated night light. In the middle the Rest disappears and the
// massager's link drops: the Rest is shown unavailable, the routine goes
// on, and both are caught up to where the routine is now when they return.
// Routine time runs ten times faster than real time (--time-scale 10);
// every wait polls the daemon's status or the mock's record with a
// generous deadline.

#include <fmt/format.h>

#include <functional>
#include <thread>

#include "tests/ble/device_emulators.hpp"
#include "tests/integration/daemon_process.hpp"

namespace nursery::bletest {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kMassager = "F3:53:11:AA:BB:31";
constexpr const char* kRest = "F3:53:11:AA:BB:32";

// A hub with one room, "nursery", whose default routine is "bedtime", and
// the massager on the mock; `rest` is added after it.
std::string hub_toml(std::string_view safety, std::string_view rest) {
  return fmt::format(R"(
[hub]
name = "BLE bedtime"
time_zone = "UTC"
{}
[[rooms]]
id = "nursery"
name = "Nursery"
default_routine = "bedtime"

[[devices]]
id = "massager"
name = "Massager"
room = "nursery"
driver = "gatt-massager"
address = "{}"
{})",
                     safety, kMassager, rest);
}

std::string bedtime_config() {
  return hub_toml("", fmt::format(R"(
[[devices]]
id = "night-light"
name = "Night light"
room = "nursery"
driver = "simulated"
kind = "light"

[[devices]]
id = "rest"
name = "Hatch Rest"
room = "nursery"
driver = "hatch-rest"
address = "{}"

[[routines]]
id = "bedtime"
kind = "bedtime"

  [[routines.steps]]
  at = "0s"
  role = "light"
  brightness = 0.1
  color_temp = 2200
  on = true

  [[routines.steps]]
  at = "0s"
  role = "sound"
  on = true
  track = "ocean"
  volume = 0.3

  [[routines.steps]]
  at = "0s"
  role = "massager"
  on = true
  intensity = 0.3
  pattern = "wave"

  [[routines.steps]]
  at = "40s"
  role = "light"
  brightness = 0.05

  [[routines.steps]]
  at = "200s"
  role = "massager"
  on = false

  [[routines.steps]]
  at = "240s"
  role = "light"
  on = false
)",
                                  kRest));
}

// A routine for hubs that only need one to start.
constexpr const char* kIdleRoutine = R"(
[[routines]]
id = "bedtime"

  [[routines.steps]]
  at = "0s"
  role = "massager"
  on = false
)";

// Polls until `done` holds; false after `timeout`.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::vector<std::string> texts_since(const BluezMock& mock, const std::string& address,
                                     double since) {
  std::vector<std::string> out;
  for (const auto& r : mock.calls("WriteValue", address))
    if (r.t >= since) out.emplace_back(r.value.begin(), r.value.end());
  return out;
}

std::vector<Bytes> writes_since(const BluezMock& mock, const std::string& address, double since) {
  std::vector<Bytes> out;
  for (const auto& r : mock.calls("WriteValue", address))
    if (r.t >= since) out.push_back(r.value);
  return out;
}

double mono_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

TEST(BleBedtime, WholeRoutineWithADroppedLinkCaughtUpOnReturn) {
  BluezMock mock;
  define_emulators(mock);
  add_massager(mock, kMassager);
  add_hatch_rest(mock, kRest);

  it::TestHome home;
  home.write_config(bedtime_config());
  it::DaemonProcess daemon(home);
  ASSERT_TRUE(daemon.start_and_wait(
      {{"--time-scale", "10"}, {{"DBUS_SYSTEM_BUS_ADDRESS", mock.bus_address()}}, false}));
  auto device = [&](const char* id) { return it::device_in(it::status_of(daemon), id); };
  auto available = [&](const char* id) { return device(id)["available"] == true; };
  ASSERT_TRUE(eventually([&] { return available("massager") && available("rest"); }))
      << it::status_of(daemon).dump(2) << "\n"
      << daemon.log() << mock.log();

  // Bedtime: all three on, the Rest given colour, track and volume first.
  ASSERT_EQ(it::routine_request(daemon, "start").status, 200);
  ASSERT_TRUE(eventually([&] {
    auto w = texts_since(mock, kRest, 0);
    return std::find(w.begin(), w.end(), "SI01") != w.end() &&
           !writes_since(mock, kMassager, 0).empty() &&
           writes_since(mock, kMassager, 0).back() == Bytes{1, 1};
  })) << daemon.log();
  {
    auto w = texts_since(mock, kRest, 0);
    auto on = std::find(w.begin(), w.end(), "SI01");
    EXPECT_NE(std::find(w.begin(), on, "SN05"), on) << "track not set before power on";
    EXPECT_NE(std::find(w.begin(), on, "SV4d"), on) << "volume not set before power on";
  }
  // The massager got its own session timer before it went on.
  const auto m = writes_since(mock, kMassager, 0);
  ASSERT_GE(m.size(), 2u);
  EXPECT_TRUE(std::any_of(m.begin(), m.end() - 1, [](const Bytes& b) { return b.at(0) == 4; }))
      << "no session timer before on";

  // The Rest goes out of range and the massager's link drops.
  mock.set_advertising(kRest, false);
  mock.remove_device(kRest);
  mock.drop_link(kMassager);
  ASSERT_TRUE(eventually([&] { return !available("rest"); })) << daemon.log();
  EXPECT_EQ(it::room_routine(it::status_of(daemon))["state"], "running");
  // The routine goes on without it: the night light dims at 40 s.
  ASSERT_TRUE(eventually([&] {
    auto s = device("night-light")["state"];
    return s.contains("brightness") && s["brightness"].get<double>() < 0.06;
  })) << it::status_of(daemon).dump(2);
  EXPECT_FALSE(available("rest"));

  // It comes back: caught up to now (5 % brightness), not replayed from 10 %.
  const double back = mono_now();
  mock.set_advertising(kRest, true);
  mock.restore_device(kRest);
  ASSERT_TRUE(eventually([&] {
    for (const auto& t : texts_since(mock, kRest, back))
      if (t.starts_with("SC") && t.substr(8) == "0d") return true;
    return false;
  })) << daemon.log();
  for (const auto& t : texts_since(mock, kRest, back))
    EXPECT_FALSE(t.starts_with("SC") && t.substr(8) == "1a") << "replayed the 10 % step: " << t;
  ASSERT_TRUE(eventually([&] { return available("rest") && available("massager"); }))
      << daemon.log();
  auto rest = device("rest");
  EXPECT_EQ(rest["state"]["sound"]["on"], true) << rest.dump(2);
  EXPECT_EQ(rest["state"]["sound"]["track"], "ocean") << rest.dump(2);

  // The rest of the routine: massager off at 200 s, lights off at 240 s.
  ASSERT_TRUE(
      eventually([&] { return it::room_routine(it::status_of(daemon))["state"] == "idle"; }, 60s))
      << daemon.log();
  // The last commands may still be on their way when the routine ends.
  ASSERT_TRUE(eventually([&] {
    return device("massager")["state"]["on"] == false &&
           device("night-light")["state"]["on"] == false &&
           device("rest")["state"]["light"]["on"] == false;
  })) << it::status_of(daemon).dump(2)
      << daemon.log();
  const auto last = writes_since(mock, kMassager, 0);
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(last.back(), (Bytes{1, 0})) << "the massager was not switched off last";
  // The Rest's light went off with its sound still playing: brightness 0.
  const auto rest_writes = texts_since(mock, kRest, back);
  ASSERT_FALSE(rest_writes.empty());
  EXPECT_EQ(rest_writes.back().substr(8), "00") << testing::PrintToString(rest_writes);
  EXPECT_EQ(device("rest")["state"]["sound"]["on"], true);
  auto runs = it::runs_of(daemon);
  ASSERT_FALSE(runs.empty());
  EXPECT_EQ(runs[0]["outcome"], "completed") << runs.dump(2);
}

// Safety across a lost link: the massager goes out of range mid-session and
// comes back, still running (its own timer is in real seconds, the hub's
// window in routine time), after its session window has passed. The hub
// switches it off and does not restart it, though the routine still wants
// it on.
TEST(BleBedtime, MassagerBackAfterItsSessionWindowIsSwitchedOffNotRestarted) {
  BluezMock mock;
  define_emulators(mock);
  add_massager(mock, kMassager);
  it::TestHome home;
  home.write_config(hub_toml("\n[safety.massage]\nsession_under_6_weeks = \"1m\"\n", R"(
[[routines]]
id = "bedtime"
kind = "bedtime"

  [[routines.steps]]
  at = "0s"
  role = "massager"
  on = true
  intensity = 0.3

  [[routines.steps]]
  at = "20m"
  role = "massager"
  on = false
)"));
  it::DaemonProcess daemon(home);
  ASSERT_TRUE(daemon.start_and_wait(
      {{"--time-scale", "20"}, {{"DBUS_SYSTEM_BUS_ADDRESS", mock.bus_address()}}, false}));
  auto massager = [&] { return it::device_in(it::status_of(daemon), "massager"); };
  ASSERT_TRUE(eventually([&] { return massager()["available"] == true; })) << daemon.log();
  ASSERT_EQ(it::routine_request(daemon, "start").status, 200);
  ASSERT_TRUE(eventually([&] {
    const auto w = writes_since(mock, kMassager, 0);
    return !w.empty() && w.back() == Bytes{1, 1};
  })) << daemon.log();
  auto hub_now = [&] {
    return *it::parse_utc(it::status_of(daemon)["hub"]["now"].get<std::string>());
  };
  const auto on_at = hub_now();

  mock.set_advertising(kMassager, false);
  mock.remove_device(kMassager);
  ASSERT_TRUE(eventually([&] { return massager()["available"] == false; })) << daemon.log();
  // The session window (1 min of hub time) passes while it is away.
  ASSERT_TRUE(eventually([&] { return hub_now() > on_at + std::chrono::seconds(75); }))
      << daemon.log();
  const double back = mono_now();
  mock.set_advertising(kMassager, true);
  mock.restore_device(kMassager);
  ASSERT_TRUE(eventually([&] {
    const auto w = writes_since(mock, kMassager, back);
    return std::find(w.begin(), w.end(), Bytes{1, 0}) != w.end();
  })) << "the massager that came back running was not switched off\n"
      << daemon.log();
  ASSERT_TRUE(eventually([&] { return massager()["state"]["on"] == false; })) << daemon.log();
  // Some routine time later it is still off: nothing restarted it.
  const auto checked = hub_now();
  ASSERT_TRUE(eventually([&] { return hub_now() > checked + std::chrono::seconds(60); }));
  for (const auto& w : writes_since(mock, kMassager, back))
    EXPECT_NE(w, (Bytes{1, 1})) << "restarted after its window\n" << daemon.log();
  EXPECT_EQ(massager()["state"]["on"], false);
}

// `nurseryctl ble scan` lists what advertises nearby with the driver that
// would take it, so a parent can copy the address into the config.
TEST(BleScan, NurseryctlListsNearbyDevicesWithTheDriverThatWouldTakeThem) {
  BluezMock mock;
  const std::string rest = "F3:53:11:AA:BB:41", massager = "F3:53:11:AA:BB:42",
                    other = "F3:53:11:AA:BB:43";
  auto r = hatch_rest_spec(rest);
  r.known = false;  // found by the scan
  mock.add_device(r);
  auto m = massager_spec(massager);
  m.known = false;
  mock.add_device(m);
  DeviceSpec o;
  o.address = other;
  o.name = "Kitchen scale";
  o.advertised_uuids = {"0000181d-0000-1000-8000-00805f9b34fb"};
  o.known = false;
  mock.add_device(o);

  it::TestHome home;
  home.write_config(hub_toml("", kIdleRoutine));
  it::DaemonProcess daemon(home);
  ASSERT_TRUE(
      daemon.start_and_wait({{}, {{"DBUS_SYSTEM_BUS_ADDRESS", mock.bus_address()}}, false}));
  ASSERT_TRUE(daemon.wait_for_log("BLE ready", 20s));

  // Bad durations are refused with a JSON error, and start nothing.
  for (const char* bad : {"0", "301", "ten", "-5", ""}) {
    auto reply = it::api(daemon, "POST", std::string("/api/v1/ble/scan?seconds=") + bad);
    EXPECT_EQ(reply.status, 400) << bad;
    EXPECT_EQ(reply.body["error"]["code"], "invalid_request") << reply.body.dump();
  }
  EXPECT_EQ(it::api(daemon, "POST", "/api/v1/ble/scan?minutes=1").status, 400);
  EXPECT_EQ(it::api(daemon, "GET", "/api/v1/ble/scan").status, 404);
  EXPECT_EQ(it::api(daemon, "DELETE", "/api/v1/ble/scan").status, 405);

  auto result = it::run_program({it::nurseryctl_path().string(), "--socket", home.socket().string(),
                                 "ble", "scan", "--seconds", "3"},
                                home.dir(), {}, 40s);
  ASSERT_EQ(result.code(), 0) << result.describe() << daemon.log();
  auto line_of = [&](const std::string& address) {
    auto at = result.out.find(address);
    if (at == std::string::npos) return std::string();
    return result.out.substr(at, result.out.find('\n', at) - at);
  };
  EXPECT_NE(line_of(rest).find("hatch-rest"), std::string::npos) << result.out;
  EXPECT_NE(line_of(rest).find("Hatch Rest"), std::string::npos) << result.out;
  EXPECT_NE(line_of(massager).find("gatt-massager"), std::string::npos) << result.out;
  EXPECT_NE(line_of(other).find("Kitchen scale"), std::string::npos) << result.out;
  EXPECT_EQ(line_of(other).find("gatt-massager"), std::string::npos) << result.out;
  EXPECT_NE(line_of(rest).find("-60"), std::string::npos) << "no RSSI\n" << result.out;
}

TEST(BleScan, WithoutBluezTheScanIsRefusedWithTheReason) {
  BluezMock::Options no_bluez;
  no_bluez.start_bluez = false;
  BluezMock mock(no_bluez);
  it::TestHome home;
  home.write_config(hub_toml("", kIdleRoutine));
  it::DaemonProcess daemon(home);
  ASSERT_TRUE(
      daemon.start_and_wait({{}, {{"DBUS_SYSTEM_BUS_ADDRESS", mock.bus_address()}}, false}));
  ASSERT_TRUE(daemon.wait_for_log("BLE unavailable", 20s));
  auto reply = it::api(daemon, "POST", "/api/v1/ble/scan?seconds=2");
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body["error"]["code"], "ble_unavailable") << reply.body.dump();
  auto result = it::run_program(
      {it::nurseryctl_path().string(), "--socket", home.socket().string(), "ble", "scan"},
      home.dir(), {}, 20s);
  EXPECT_EQ(result.code(), 1) << result.describe();
  EXPECT_NE(result.err.find("BlueZ"), std::string::npos) << result.describe();
  // Everything else works: the massager is shown unavailable with why.
  auto massager = it::device_in(it::status_of(daemon), "massager");
  EXPECT_EQ(massager["available"], false);
  EXPECT_NE(massager["availability_reason"].get<std::string>().find("BlueZ"), std::string::npos)
      << massager.dump(2);
  // BlueZ appearing later is picked up without a restart.
  mock.start_bluez();
  mock.add_device(massager_spec(kMassager));
  ASSERT_TRUE(eventually([&] {
    return it::device_in(it::status_of(daemon), "massager")["available"] == true;
  })) << daemon.log();
}

}  // namespace
}  // namespace nursery::bletest
