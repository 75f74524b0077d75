#include "mqtt/outgoing_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nursery::mqtt {
namespace {

Outgoing message(std::uint64_t seq, PublishKind kind) {
  return Outgoing{seq, "t/" + std::to_string(seq), "p", 1, false, kind};
}

std::vector<std::uint64_t> drain(OutgoingQueue& q) {
  std::vector<std::uint64_t> out;
  while (auto m = q.pop()) out.push_back(m->seq);
  return out;
}

TEST(OutgoingQueue, SendsInPublishOrderAcrossKinds) {
  OutgoingQueue q(10);
  q.push(message(1, PublishKind::State));
  q.push(message(2, PublishKind::Command));
  q.push(message(3, PublishKind::State));
  q.push(message(4, PublishKind::Command));
  EXPECT_EQ(drain(q), (std::vector<std::uint64_t>{1, 2, 3, 4}));
}

TEST(OutgoingQueue, WhenFullDropsTheOldestStateNeverACommand) {
  OutgoingQueue q(3);
  EXPECT_EQ(q.push(message(1, PublishKind::Command)), 0u);
  EXPECT_EQ(q.push(message(2, PublishKind::State)), 0u);
  EXPECT_EQ(q.push(message(3, PublishKind::State)), 0u);
  EXPECT_EQ(q.push(message(4, PublishKind::State)), 1u);    // drops 2
  EXPECT_EQ(q.push(message(5, PublishKind::Command)), 1u);  // drops 3
  EXPECT_EQ(drain(q), (std::vector<std::uint64_t>{1, 4, 5}));
}

TEST(OutgoingQueue, FullOfCommandsRefusesANewStateButKeepsEveryCommand) {
  OutgoingQueue q(2);
  q.push(message(1, PublishKind::Command));
  q.push(message(2, PublishKind::Command));
  EXPECT_EQ(q.push(message(3, PublishKind::State)), 1u);
  EXPECT_EQ(q.push(message(4, PublishKind::Command)), 0u);
  EXPECT_EQ(drain(q), (std::vector<std::uint64_t>{1, 2, 4}));
}

TEST(OutgoingQueue, PutBackMessagesGoFirstAndAnOldStateGoesWhenFull) {
  OutgoingQueue q(2);
  q.push(message(5, PublishKind::State));
  q.push(message(6, PublishKind::State));
  EXPECT_EQ(q.push_front(message(4, PublishKind::Command)), 1u);  // drops 5
  EXPECT_EQ(q.push_front(message(3, PublishKind::State)), 1u);    // it is the oldest: dropped
  EXPECT_EQ(drain(q), (std::vector<std::uint64_t>{4, 6}));
  q.push(message(8, PublishKind::State));
  q.push_front(message(7, PublishKind::State));
  EXPECT_EQ(drain(q), (std::vector<std::uint64_t>{7, 8}));
}

}  // namespace
}  // namespace nursery::mqtt
