// A device handle against the BlueZ mock: connecting, GATT, notifications,
// and every way the link fails and comes back.

#include <optional>

#include "tests/ble/test_support.hpp"

namespace nursery::bletest {
namespace {

using State = BleLinkState;

class LinkTest : public BleTest {
 protected:
  // A handle on kAddress with a recorder and a notification log of kRx.
  std::unique_ptr<BleDevice> open_device(std::string address = kAddress) {
    auto dev = ble->device(std::move(address), "");
    recorder.attach(*dev);
    dev->notify(kRx, [this](const Bytes& b) { notified.push_back(b); });
    return dev;
  }
  ::testing::AssertionResult wait_connected(const BleDevice& dev, std::size_t after_event = 0) {
    bool ok = run_until([&] {
      return connected(dev) &&
             recorder.index_of(State::Connected, after_event) != LinkRecorder::npos;
    });
    if (ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "not connected; link events:\n"
                                         << recorder.describe() << diagnostics();
  }
  Status write_and_wait(BleDevice& dev, const std::string& uuid, Bytes value) {
    std::optional<Status> result;
    dev.write(uuid, std::move(value), true, [&](Status s) { result = std::move(s); });
    if (!run_until([&] { return result.has_value(); }))
      return Error{"test_timeout", "the write never completed", 0};
    return *result;
  }
  Expected<Bytes> read_and_wait(BleDevice& dev, const std::string& uuid) {
    std::optional<Expected<Bytes>> result;
    dev.read(uuid, [&](Expected<Bytes> r) { result = std::move(r); });
    if (!run_until([&] { return result.has_value(); }))
      return Error{"test_timeout", "the read never completed", 0};
    return *result;
  }

  LinkRecorder recorder;
  std::vector<Bytes> notified;
};

TEST_F(LinkTest, FindsConnectsWritesAndReceivesTheDevicesAnswer) {
  auto spec = massager();
  spec.known = false;  // BlueZ has never seen it: the handle must scan for it
  mock->add_device(spec);
  mock->on_write(kAddress, kTx, std::string("notify('") + kRx + "', b'OK' + value)");
  start_manager();

  auto dev = open_device("f3:53:11:aa:bb:01");
  ASSERT_TRUE(wait_connected(*dev));
  EXPECT_TRUE(recorder.saw(State::Searching)) << recorder.describe();

  ASSERT_TRUE(write_and_wait(*dev, kTx, {'S', 'I', 0x01}).ok()) << diagnostics();
  ASSERT_TRUE(run_until([&] { return !notified.empty(); })) << diagnostics();
  EXPECT_EQ(notified.front(), (Bytes{'O', 'K', 'S', 'I', 0x01}));

  // What BlueZ saw: a scan that found it, Connect only once the scan was
  // over, notifications started before the write, a Write Request.
  const auto stops = mock->calls("StopDiscovery");
  const auto connects = mock->calls("Connect", kAddress);
  ASSERT_FALSE(stops.empty());
  ASSERT_EQ(connects.size(), 1u);
  EXPECT_GE(connects[0].t, stops[0].replied);
  const auto writes = mock->calls("WriteValue", kAddress);
  const auto starts = mock->calls("StartNotify", kAddress);
  ASSERT_EQ(writes.size(), 1u);
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_LT(starts[0].replied, writes[0].t);
  EXPECT_NE(writes[0].args.find("\"request\""), std::string::npos) << writes[0].args;
}

TEST_F(LinkTest, ReadsACharacteristicWhateverTheFormOfItsUuid) {
  mock->add_device(massager());
  mock->set_value(kAddress, kRx, {7, 8, 9});
  start_manager();
  auto dev = open_device();
  ASSERT_TRUE(wait_connected(*dev));

  auto upper = read_and_wait(*dev, "0000FFF2-0000-1000-8000-00805F9B34FB");
  ASSERT_TRUE(upper.ok()) << upper.error().message;
  EXPECT_EQ(*upper, (Bytes{7, 8, 9}));
  auto short_form = read_and_wait(*dev, "fff2");
  ASSERT_TRUE(short_form.ok()) << short_form.error().message;
  EXPECT_EQ(*short_form, (Bytes{7, 8, 9}));

  auto missing = read_and_wait(*dev, "fff9");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "ble_no_characteristic");
  EXPECT_TRUE(connected(*dev));
}

TEST_F(LinkTest, RetriesAnAbortByLocalOnlyAfterTheDisconnectIsSeen) {
  mock->add_device(massager());
  mock->fail_connect(kAddress, "org.bluez.Error.Failed", "le-connection-abort-by-local", 1);
  start_manager();
  auto dev = open_device();
  ASSERT_TRUE(wait_connected(*dev));

  const auto connects = mock->calls("Connect", kAddress);
  ASSERT_EQ(connects.size(), 2u) << diagnostics();
  EXPECT_EQ(connects[0].outcome, "error:org.bluez.Error.Failed");
  EXPECT_EQ(connects[1].outcome, "ok");
  const auto aborted = mock->calls("Disconnected", kAddress);
  ASSERT_FALSE(aborted.empty());
  EXPECT_EQ(aborted[0].args, "\"aborted\"");
  // The mock reports the disconnection 250 ms after failing the call: a
  // retry before it would have found the device still "connected".
  EXPECT_GE(connects[1].t, aborted[0].t);
  EXPECT_FALSE(recorder.saw(State::Disconnected)) << recorder.describe();
}

TEST_F(LinkTest, BacksOffExponentiallyAfterOtherConnectFailures) {
  mock->add_device(massager());
  mock->fail_connect(kAddress, "org.bluez.Error.Failed", "le-connection-timeout", 3);
  auto options = fast_options();
  options.backoff_min = 150ms;
  options.backoff_max = 400ms;
  start_manager(options);
  auto dev = open_device();
  ASSERT_TRUE(wait_connected(*dev));

  const auto connects = mock->calls("Connect", kAddress);
  ASSERT_EQ(connects.size(), 4u) << diagnostics();
  // Each retry waits at least its backoff after the failure was answered:
  // 150, 300, then 400 ms (the bound), since the test's random gives no jitter.
  EXPECT_GE(connects[1].t - connects[0].replied, 0.150);
  EXPECT_GE(connects[2].t - connects[1].replied, 0.300);
  EXPECT_GE(connects[3].t - connects[2].replied, 0.400);
  // Each failed attempt is ended on BlueZ's side too.
  EXPECT_GE(mock->calls("Disconnect", kAddress).size(), 3u);

  const auto i = recorder.index_of(State::Disconnected, 0);
  ASSERT_NE(i, LinkRecorder::npos) << recorder.describe();
  EXPECT_NE(recorder.events[i].reason.find("le-connection-timeout"), std::string::npos);
  EXPECT_NE(recorder.events[i].reason.find("retrying in 150 ms"), std::string::npos)
      << recorder.events[i].reason;
}

TEST_F(LinkTest, GivesUpAConnectNeverAnsweredAndTriesAgain) {
  mock->add_device(massager());
  mock->set_connect_silent(kAddress, true);
  auto options = fast_options();
  options.connect_timeout = 300ms;
  start_manager(options);
  auto dev = open_device();
  ASSERT_TRUE(run_until([&] { return recorder.saw(State::Disconnected); })) << diagnostics();
  const auto failed = recorder.events[recorder.index_of(State::Disconnected, 0)].reason;
  EXPECT_EQ(failed.rfind("no answer to Connect within 300 ms", 0), 0u) << failed;
  // The attempt was ended on BlueZ's side (Disconnect cancels a pending Connect).
  ASSERT_TRUE(run_until([&] { return !mock->calls("Disconnect", kAddress).empty(); }));
  mock->set_connect_silent(kAddress, false);
  ASSERT_TRUE(wait_connected(*dev));
  EXPECT_GE(mock->calls("Connect", kAddress).size(), 2u);
}

TEST_F(LinkTest, ReconnectsWhenTheDeviceIsRemovedAndComesBack) {
  mock->add_device(massager());
  start_manager();
  auto dev = open_device();
  ASSERT_TRUE(wait_connected(*dev));

  mock->remove_device(kAddress);  // BlueZ disconnects and forgets it; it still advertises
  auto removed = [&] {
    for (std::size_t i = 0; i < recorder.events.size(); ++i)
      if (recorder.events[i].reason == "removed from BlueZ") return i;
    return LinkRecorder::npos;
  };
  ASSERT_TRUE(run_until([&] { return removed() != LinkRecorder::npos; }))
      << recorder.describe() << diagnostics();
  const auto gone = removed();
  EXPECT_EQ(recorder.events[gone].state, State::Disconnected);
  ASSERT_TRUE(wait_connected(*dev, gone)) << recorder.describe();
  EXPECT_NE(recorder.index_of(State::Searching, gone), LinkRecorder::npos) << recorder.describe();

  mock->notify(kAddress, kRx, {0x42});
  ASSERT_TRUE(run_until([&] { return !notified.empty(); })) << diagnostics();
  EXPECT_EQ(notified.back(), (Bytes{0x42}));
}

TEST_F(LinkTest, ComesBackByItselfWhenBluetoothdRestarts) {
  mock->add_device(massager());
  start_manager();
  auto dev = open_device();
  ASSERT_TRUE(wait_connected(*dev));

  mock->restart_bluez();
  ASSERT_TRUE(run_until([&] { return recorder.saw(State::Unavailable); })) << diagnostics();
  const auto down = recorder.index_of(State::Unavailable, 0);
  EXPECT_NE(recorder.events[down].reason.find("BlueZ stopped"), std::string::npos)
      << recorder.describe();
  ASSERT_TRUE(wait_connected(*dev, down));

  // The new bluetoothd has no notification session of ours: it was started again.
  mock->notify(kAddress, kRx, {0x07});
  ASSERT_TRUE(run_until([&] { return !notified.empty(); })) << diagnostics();
  EXPECT_EQ(notified.back(), (Bytes{0x07}));
}

TEST_F(LinkTest, ComesBackWhenBluetoothdRestartsWhileItConnects) {
  mock->add_device(massager());
  mock->set_connect_silent(kAddress, true);  // Connect hangs
  start_manager();
  auto dev = open_device();
  ASSERT_TRUE(run_until([&] { return !mock->calls("Connect", kAddress).empty(); }))
      << diagnostics();

  mock->restart_bluez();  // the new one answers Connect
  ASSERT_TRUE(run_until([&] { return recorder.saw(State::Unavailable); })) << diagnostics();
  ASSERT_TRUE(wait_connected(*dev, recorder.index_of(State::Unavailable, 0)));
}

TEST_F(LinkTest, DisconnectsAndReconnectsADeviceThatStopsAnswering) {
  mock->add_device(massager());
  auto options = fast_options();
  options.gatt_timeout = 400ms;
  start_manager(options);
  auto dev = ble->device(kAddress, "");
  recorder.attach(*dev);
  ASSERT_TRUE(wait_connected(*dev));

  mock->set_gatt_silent(kAddress, true);
  const auto sent = std::chrono::steady_clock::now();
  auto timed_out = write_and_wait(*dev, kTx, {1});
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().code, "ble_timeout") << timed_out.error().message;
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 400ms);
  mock->set_gatt_silent(kAddress, false);

  ASSERT_TRUE(run_until([&] { return recorder.saw(State::Disconnected); })) << recorder.describe();
  ASSERT_TRUE(wait_connected(*dev, recorder.index_of(State::Disconnected, 0)));
  EXPECT_FALSE(mock->calls("Disconnect", kAddress).empty());
  EXPECT_EQ(mock->calls("Connect", kAddress).size(), 2u);
  EXPECT_TRUE(write_and_wait(*dev, kTx, {2}).ok()) << diagnostics();
}

TEST_F(LinkTest, SendsOneGattOperationAtATime) {
  mock->add_device(massager());
  mock->set_reply_delay(kAddress, kTx, 300ms);
  start_manager();
  auto dev = ble->device(kAddress, "");
  ASSERT_TRUE(run_until([&] { return connected(*dev); })) << diagnostics();

  std::vector<std::string> finished;
  dev->write(kTx, {1}, true, [&](Status s) { finished.push_back(s ? "A" : "A failed"); });
  dev->write(kTx, {2}, true, [&](Status s) { finished.push_back(s ? "B" : "B failed"); });
  dev->read(kRx, [&](Expected<Bytes> r) { finished.push_back(r ? "C" : "C failed"); });
  ASSERT_TRUE(run_until([&] { return finished.size() == 3; })) << diagnostics();
  EXPECT_EQ(finished, (std::vector<std::string>{"A", "B", "C"}));

  const auto writes = mock->calls("WriteValue", kAddress);
  const auto reads = mock->calls("ReadValue", kAddress);
  ASSERT_EQ(writes.size(), 2u);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(writes[0].value, (Bytes{1}));
  EXPECT_EQ(writes[1].value, (Bytes{2}));
  // B reached the device only after A was answered (300 ms later), C after B.
  EXPECT_GE(writes[1].t, writes[0].replied);
  EXPECT_GE(writes[0].replied - writes[0].t, 0.3);
  EXPECT_GE(reads[0].t, writes[1].replied);
}

TEST_F(LinkTest, RetriesAnOperationAnsweredInProgress) {
  mock->add_device(massager());
  mock->fail_gatt(kAddress, kTx, "WriteValue", "org.bluez.Error.InProgress",
                  "Operation already in progress", 3);
  start_manager();
  auto dev = ble->device(kAddress, "");
  ASSERT_TRUE(run_until([&] { return connected(*dev); })) << diagnostics();

  ASSERT_TRUE(write_and_wait(*dev, kTx, {9}).ok()) << diagnostics();
  const auto writes = mock->calls("WriteValue", kAddress);
  ASSERT_EQ(writes.size(), 4u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(writes[i].outcome, "error:org.bluez.Error.InProgress");
  EXPECT_EQ(writes[3].outcome, "ok");
}

TEST_F(LinkTest, ReportsADeviceRefusalWithItsReasonAndStaysConnected) {
  mock->add_device(massager());
  mock->fail_gatt(kAddress, kTx, "WriteValue", "org.bluez.Error.NotPermitted",
                  "Write not permitted", 1);
  start_manager();
  auto dev = ble->device(kAddress, "");
  ASSERT_TRUE(run_until([&] { return connected(*dev); })) << diagnostics();

  auto refused = write_and_wait(*dev, kTx, {9});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "ble_not_permitted");
  EXPECT_NE(refused.error().message.find("Write not permitted"), std::string::npos);
  EXPECT_TRUE(connected(*dev));
  EXPECT_TRUE(write_and_wait(*dev, kTx, {9}).ok());
}

TEST_F(LinkTest, AdoptsADeviceLeftConnectedInsteadOfConnectingAgain) {
  auto spec = massager();
  spec.connected = true;  // as a crash of the daemon leaves it
  mock->add_device(spec);
  start_manager();
  auto dev = open_device();
  ASSERT_TRUE(wait_connected(*dev));

  EXPECT_TRUE(mock->calls("Connect", kAddress).empty()) << diagnostics();
  EXPECT_EQ(recorder.events.back().reason, "adopted an existing connection");
  mock->notify(kAddress, kRx, {0x11});
  ASSERT_TRUE(run_until([&] { return !notified.empty(); })) << diagnostics();
}

TEST_F(LinkTest, StartsNotificationsAgainAfterTheLinkDrops) {
  mock->add_device(massager());
  start_manager();
  auto dev = open_device();
  ASSERT_TRUE(wait_connected(*dev));

  mock->drop_link(kAddress);  // out of range; BlueZ ends the notification session
  ASSERT_TRUE(run_until([&] { return recorder.saw(State::Disconnected); })) << diagnostics();
  const auto lost = recorder.events[recorder.index_of(State::Disconnected, 0)].reason;
  EXPECT_EQ(lost.rfind("the link was lost", 0), 0u) << lost;
  ASSERT_TRUE(wait_connected(*dev, recorder.index_of(State::Disconnected, 0)));

  mock->notify(kAddress, kRx, {0x05});
  ASSERT_TRUE(run_until([&] { return !notified.empty(); })) << diagnostics();
  EXPECT_EQ(mock->calls("StartNotify", kAddress).size(), 2u);
}

TEST_F(LinkTest, FailsOperationsAtOnceWhileNotConnected) {
  auto spec = massager();
  spec.known = false;
  spec.advertising = false;  // nowhere to be found
  mock->add_device(spec);
  start_manager();
  auto dev = open_device();
  ASSERT_TRUE(run_until([&] { return dev->link_state() == State::Searching; })) << diagnostics();

  std::optional<Status> result;
  dev->write(kTx, {1}, true, [&](Status s) { result = std::move(s); });
  EXPECT_FALSE(result.has_value());  // never from inside the call
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until([&] { return result.has_value(); }, 2s));
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 1s);  // not after the 3 s search
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error().code, "ble_not_connected");
  EXPECT_NE(result->error().message.find(kAddress), std::string::npos);
  EXPECT_TRUE(mock->calls("WriteValue").empty());
}

TEST_F(LinkTest, DestroyingTheHandleDisconnectsAndSilencesIt) {
  mock->add_device(massager());
  mock->set_reply_delay(kAddress, kTx, 300ms);
  start_manager();
  auto dev = ble->device(kAddress, "");
  ASSERT_TRUE(run_until([&] { return connected(*dev); })) << diagnostics();

  bool called = false;
  dev->write(kTx, {1}, true, [&](Status) { called = true; });
  ASSERT_TRUE(run_until([&] { return !mock->calls("WriteValue", kAddress).empty(); }));
  dev.reset();
  ASSERT_TRUE(run_until([&] { return !mock->calls("Disconnect", kAddress).empty(); }))
      << diagnostics();
  // Well past the write's answer: its callback must not run.
  ASSERT_TRUE(run_until([&] { return mock->calls("WriteValue", kAddress)[0].outcome == "ok"; }));
  run_for(200ms);
  EXPECT_FALSE(called);
}

TEST_F(LinkTest, HandlesOnOneDeviceShareItsLink) {
  mock->add_device(massager());
  start_manager();
  auto first = ble->device(kAddress, "");
  auto second = ble->device(kAddress, "");
  ASSERT_TRUE(run_until([&] { return connected(*first) && connected(*second); })) << diagnostics();
  EXPECT_EQ(ble->stats().links, 1u);
  EXPECT_EQ(mock->calls("Connect", kAddress).size(), 1u);

  first.reset();
  EXPECT_TRUE(write_and_wait(*second, kTx, {3}).ok());
  EXPECT_TRUE(mock->calls("Disconnect", kAddress).empty());
}

TEST_F(LinkTest, ReportsBatteryAndSignalStrength) {
  auto spec = massager();
  spec.known = false;  // seen by a scan, so BlueZ knows its RSSI
  spec.rssi = -42;
  spec.battery = 80;
  mock->add_device(spec);
  start_manager();
  auto dev = ble->device(kAddress, "");
  std::vector<int> levels;
  dev->on_battery([&](int percent) { levels.push_back(percent); });
  ASSERT_TRUE(run_until([&] { return connected(*dev); })) << diagnostics();
  EXPECT_EQ(dev->battery_percent(), 80);
  EXPECT_EQ(dev->rssi(), -42);

  mock->set_battery(kAddress, 55);
  ASSERT_TRUE(run_until([&] { return !levels.empty(); })) << diagnostics();
  EXPECT_EQ(levels.back(), 55);
  EXPECT_EQ(dev->battery_percent(), 55);
}

}  // namespace
}  // namespace nursery::bletest
