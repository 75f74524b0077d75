// The pure parts: backoff, and the names a driver hands the library.

#include <gtest/gtest.h>

#include "ble/backoff.hpp"
#include "ble/bluez.hpp"
#include "ble/dbus_value.hpp"

namespace nursery::ble {
namespace {

using namespace std::chrono_literals;

TEST(Backoff, DoublesFromTheMinimumUpToTheMaximum) {
  BackoffPolicy p{100ms, 1'000ms, 0.0};
  EXPECT_EQ(backoff_delay(p, 0, 0.0), 100ms);
  EXPECT_EQ(backoff_delay(p, 1, 0.0), 200ms);
  EXPECT_EQ(backoff_delay(p, 2, 0.0), 400ms);
  EXPECT_EQ(backoff_delay(p, 3, 0.0), 800ms);
  EXPECT_EQ(backoff_delay(p, 4, 0.0), 1'000ms);
  EXPECT_EQ(backoff_delay(p, 1'000, 0.0), 1'000ms);  // no overflow after many failures
}

TEST(Backoff, JitterOnlyShortensTheWaitAndStaysWithinItsShare) {
  BackoffPolicy p{1'000ms, 60'000ms, 0.5};
  for (int attempt = 0; attempt < 10; ++attempt) {
    const auto base = backoff_delay({1'000ms, 60'000ms, 0.0}, attempt, 0.0);
    for (double r : {0.0, 0.25, 0.5, 0.999}) {
      const auto d = backoff_delay(p, attempt, r);
      EXPECT_LE(d, base);
      EXPECT_GE(d, base / 2);
    }
  }
  EXPECT_LT(backoff_delay(p, 3, 0.9), backoff_delay(p, 3, 0.1));  // random matters
}

TEST(Names, AddressesAreAcceptedInAnyCaseAndRejectedWhenMalformed) {
  EXPECT_EQ(bluez::normalize_address("f3:53:11:aa:bb:cc"), "F3:53:11:AA:BB:CC");
  EXPECT_EQ(bluez::normalize_address("F3:53:11:AA:BB:CC"), "F3:53:11:AA:BB:CC");
  for (const char* bad : {"", "F3:53:11:AA:BB", "F3-53-11-AA-BB-CC", "G3:53:11:AA:BB:CC",
                          "F3:53:11:AA:BB:CC:", "F353:11:AA:BB:CCx"})
    EXPECT_FALSE(bluez::normalize_address(bad)) << bad;
}

TEST(Names, UuidsAreLowerCasedAndShortFormsExpanded) {
  EXPECT_EQ(bluez::normalize_uuid("0000FFF1-0000-1000-8000-00805F9B34FB"),
            "0000fff1-0000-1000-8000-00805f9b34fb");
  EXPECT_EQ(bluez::normalize_uuid("2A19"), "00002a19-0000-1000-8000-00805f9b34fb");
  EXPECT_EQ(bluez::normalize_uuid("0x2a19"), "00002a19-0000-1000-8000-00805f9b34fb");
  EXPECT_EQ(bluez::normalize_uuid("12345678"), "12345678-0000-1000-8000-00805f9b34fb");
  for (const char* bad : {"", "fff", "xyzw", "0000fff1-0000-1000-8000-00805f9b34f",
                          "0000fff1_0000-1000-8000-00805f9b34fb"})
    EXPECT_FALSE(bluez::normalize_uuid(bad)) << bad;
}

TEST(Names, PropertiesOfTheWrongTypeAreNotMirrored) {
  bluez::Properties p;
  p.emplace("Connected", Value::string("yes"));
  p.emplace("RSSI", Value::int16(-50));
  p.emplace("Address", Value::string("F3:53:11:AA:BB:CC"));
  p.emplace("Icon", Value::string("phone"));  // not used by the library
  auto kept = bluez::keep_used(bluez::Device1::kInterface, p);
  EXPECT_EQ(kept.count("Connected"), 0u);
  EXPECT_EQ(kept.count("Icon"), 0u);
  EXPECT_EQ(kept.count("RSSI"), 1u);
  EXPECT_EQ(kept.count("Address"), 1u);
}

TEST(Values, SignaturesDescribeWhatIsSent) {
  EXPECT_EQ(Value::options({{"type", Value::string("request")}}).signature(), "a{sv}");
  EXPECT_EQ(Value::strings({}).signature(), "as");
  EXPECT_EQ(Value::bytes({1, 2}).signature(), "ay");
  EXPECT_EQ(Value::int16(-3).as_int(), -3);
  EXPECT_FALSE(Value::string("1").as_int());
}

}  // namespace
}  // namespace nursery::ble
