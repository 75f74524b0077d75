// The in-memory FakeConnection keeps Client's contract, so that code tested on
// it behaves the same on a broker.
#include "mqtt/fake_connection.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

namespace nursery::mqtt {
namespace {

class FakeConnectionTest : public ::testing::Test {
 protected:
  void run() {
    io_.restart();
    io_.run();
  }
  boost::asio::io_context io_;
  FakeConnection fake_{io_, 16};
};

TEST_F(FakeConnectionTest, QueuesWhileDisconnectedAndSendsAfterWatchersOnConnect) {
  std::vector<std::string> order;
  auto watch = fake_.watch_connection([&](bool up) {
    order.push_back(up ? "watcher up" : "watcher down");
    if (up) fake_.publish("hub/status", "online", {1, true, PublishKind::State});
  });
  fake_.publish("hub/state", "old", {1, false, PublishKind::State});
  run();
  EXPECT_TRUE(fake_.published().empty());
  EXPECT_EQ(fake_.stats().queued, 1u);
  fake_.set_connected(true);
  EXPECT_TRUE(order.empty()) << "handlers run from the loop, not inside set_connected";
  run();
  ASSERT_EQ(fake_.published().size(), 2u);
  EXPECT_EQ(fake_.published()[0].topic, "hub/state");
  EXPECT_EQ(fake_.published()[1].topic, "hub/status");
  EXPECT_EQ(fake_.retained().at("hub/status"), "online");
  fake_.set_connected(false);
  run();
  EXPECT_EQ(order, (std::vector<std::string>{"watcher up", "watcher down"}));
}

TEST_F(FakeConnectionTest, DeliversRetainedOnSubscribeAndOnEveryConnect) {
  fake_.retain("hub/room/routine/set", "START");
  std::vector<PubSubMessage> got;
  auto sub =
      fake_.subscribe("hub/+/routine/set", [&](const PubSubMessage& m) { got.push_back(m); });
  fake_.set_connected(true);
  run();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].retained);
  fake_.inject({"hub/room/routine/set", "STOP", false});
  fake_.inject({"hub/room/light/set", "{}", false});
  run();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[1].retained);
  EXPECT_EQ(got[1].payload, "STOP");
}

TEST_F(FakeConnectionTest, RefusesOversizeAndBadTopicsLikeTheClient) {
  std::vector<std::string> got;
  std::vector<std::size_t> oversize;
  auto sub = fake_.subscribe("#", [&](const PubSubMessage& m) { got.push_back(m.topic); });
  fake_.on_oversize([&](const std::string&, std::size_t size, bool) { oversize.push_back(size); });
  fake_.set_connected(true);
  fake_.inject({"big", std::string(17, 'x'), false});
  fake_.publish("a/+", "x", {});
  run();
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(oversize, std::vector<std::size_t>{17});
  EXPECT_EQ(fake_.stats().oversize_refused, 1u);
  EXPECT_EQ(fake_.stats().refused_publishes, 1u);
}

TEST_F(FakeConnectionTest, AnEndedSubscriptionHearsNothingMore) {
  int calls = 0;
  auto sub = fake_.subscribe("t", [&](const PubSubMessage&) { ++calls; });
  fake_.set_connected(true);
  fake_.inject({"t", "1", false});
  sub.reset();  // before the posted delivery runs
  run();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(fake_.subscription_count(), 0u);
}

}  // namespace
}  // namespace nursery::mqtt
