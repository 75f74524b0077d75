// Alarms on the real loop (Asio) and in virtual time: a cancelled, re-set or
// destroyed alarm never runs its callback, even when its completion was
// already queued; clock jumps move "now" and leave alarms their real time.
#include "daemon/clock.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <thread>

namespace nursery {
namespace {

using namespace std::chrono_literals;

TEST(LoopClock, AnAlarmFiresOnTheLoop) {
  boost::asio::io_context io;
  LoopClock clock(io, 1.0);
  auto alarm = clock.make_alarm();
  bool fired = false;
  alarm->set(clock.now() + 10ms, [&] { fired = true; });
  EXPECT_TRUE(alarm->pending());
  io.run();
  EXPECT_TRUE(fired);
  EXPECT_FALSE(alarm->pending());
}

TEST(LoopClock, AnAlarmCancelledAfterItsTimeCameButBeforeItRanNeverRuns) {
  boost::asio::io_context io;
  LoopClock clock(io, 1.0);
  auto first = clock.make_alarm();
  auto second = clock.make_alarm();
  int ran = 0;
  // Both are due before the loop runs, so both completions are queued in
  // the same turn; whichever runs first cancels the other.
  first->set(clock.now(), [&] {
    ++ran;
    second->cancel();
  });
  second->set(clock.now(), [&] {
    ++ran;
    first->cancel();
  });
  std::this_thread::sleep_for(20ms);
  io.run();
  EXPECT_EQ(ran, 1);
}

TEST(LoopClock, AnAlarmDestroyedByAnotherCallbackIsNeverCalledBack) {
  boost::asio::io_context io;
  LoopClock clock(io, 1.0);
  auto first = clock.make_alarm();
  auto second = clock.make_alarm();
  int ran = 0;
  first->set(clock.now(), [&] {
    ++ran;
    second.reset();
  });
  second->set(clock.now(), [&] {
    ++ran;
    first.reset();
  });
  std::this_thread::sleep_for(20ms);
  io.run();
  EXPECT_EQ(ran, 1);
}

TEST(LoopClock, ReSettingReplacesTheEarlierWakeUp) {
  boost::asio::io_context io;
  LoopClock clock(io, 1.0);
  auto alarm = clock.make_alarm();
  std::vector<int> ran;
  alarm->set(clock.now(), [&] { ran.push_back(1); });
  alarm->set(clock.now() + 5ms, [&] { ran.push_back(2); });
  std::this_thread::sleep_for(20ms);
  io.run();
  EXPECT_EQ(ran, std::vector<int>{2});
}

TEST(LoopClock, ScaledTimeRunsFasterAndNeverStartsBeforeWhatWasStored) {
  boost::asio::io_context io;
  const TimePoint future =
      std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()) +
      std::chrono::hours(5);
  LoopClock clock(io, 1000.0, future);
  EXPECT_GE(clock.now(), future);
  auto alarm = clock.make_alarm();
  bool fired = false;
  const auto t0 = std::chrono::steady_clock::now();
  alarm->set(clock.now() + 20s, [&] { fired = true; });  // 20 ms of real time
  io.run();
  EXPECT_TRUE(fired);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s) << "far less than 20 s of real time";
}

TEST(ManualClock, AJumpMovesNowAndLeavesAlarmsTheirRealTime) {
  ManualClock clock(TimePoint(std::chrono::hours(1000)));
  auto alarm = clock.make_alarm();
  int fired = 0;
  alarm->set(clock.now() + 10min, [&] { ++fired; });
  Duration told{0};
  auto watch = clock.watch_jumps([&](Duration by) { told = by; });
  const TimePoint before = clock.now();
  clock.jump(3h);
  EXPECT_EQ(told, Duration(3h));
  EXPECT_EQ(clock.now(), before + 3h);
  clock.advance(9min);
  EXPECT_EQ(fired, 0) << "a jump does not make an alarm due";
  clock.advance(1min);
  EXPECT_EQ(fired, 1);
}

TEST(ManualClock, ACancelledAlarmDoesNotRunInTheSameAdvance) {
  ManualClock clock(TimePoint(std::chrono::hours(1000)));
  auto a = clock.make_alarm();
  auto b = clock.make_alarm();
  int ran = 0;
  a->set(clock.now() + 1s, [&] {
    ++ran;
    b->cancel();
  });
  b->set(clock.now() + 2s, [&] { ++ran; });
  clock.advance(5s);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(clock.pending(), 0u);
}

}  // namespace
}  // namespace nursery
