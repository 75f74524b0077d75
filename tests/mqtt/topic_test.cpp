#include "mqtt/topic.hpp"

#include <gtest/gtest.h>

#include <string>

namespace nursery::mqtt {
namespace {

using namespace std::string_literals;

TEST(TopicMatching, ExactFilterMatchesOnlyTheSameTopic) {
  EXPECT_TRUE(topic_matches("nursery/status", "nursery/status"));
  EXPECT_FALSE(topic_matches("nursery/status", "nursery/status/x"));
  EXPECT_FALSE(topic_matches("nursery/status", "nursery"));
  EXPECT_FALSE(topic_matches("nursery/status", "Nursery/status"));
}

TEST(TopicMatching, PlusMatchesExactlyOneLevelIncludingAnEmptyOne) {
  EXPECT_TRUE(topic_matches("nursery/+/set", "nursery/room1/set"));
  EXPECT_TRUE(topic_matches("nursery/+/set", "nursery//set"));
  EXPECT_FALSE(topic_matches("nursery/+/set", "nursery/room1/light/set"));
  EXPECT_FALSE(topic_matches("nursery/+/set", "nursery/set"));
  EXPECT_TRUE(topic_matches("+", "a"));
  EXPECT_FALSE(topic_matches("+", "a/b"));
  EXPECT_TRUE(topic_matches("+/+", "/a"));
}

TEST(TopicMatching, HashMatchesTheParentAndEverythingBelow) {
  EXPECT_TRUE(topic_matches("zigbee2mqtt/#", "zigbee2mqtt"));
  EXPECT_TRUE(topic_matches("zigbee2mqtt/#", "zigbee2mqtt/lamp"));
  EXPECT_TRUE(topic_matches("zigbee2mqtt/#", "zigbee2mqtt/lamp/availability"));
  EXPECT_FALSE(topic_matches("zigbee2mqtt/#", "zigbee2mqttx/lamp"));
  EXPECT_TRUE(topic_matches("#", "anything/at/all"));
  EXPECT_TRUE(topic_matches("a/+/#", "a/b"));
  EXPECT_TRUE(topic_matches("a/+/#", "a/b/c/d"));
  EXPECT_FALSE(topic_matches("a/+/#", "a"));
}

TEST(TopicMatching, LeadingWildcardsDoNotMatchDollarTopics) {
  EXPECT_FALSE(topic_matches("#", "$SYS/broker/uptime"));
  EXPECT_FALSE(topic_matches("+/broker/uptime", "$SYS/broker/uptime"));
  EXPECT_TRUE(topic_matches("$SYS/#", "$SYS/broker/uptime"));
}

TEST(TopicMatching, AnInvalidFilterMatchesNothing) {
  EXPECT_FALSE(topic_matches("a/#/b", "a/x/b"));
  EXPECT_FALSE(topic_matches("a+", "a+"));
  EXPECT_FALSE(topic_matches("", ""));
}

TEST(TopicValidation, PublishedTopicsRejectWildcardsNulAndBadUtf8) {
  EXPECT_TRUE(validate_topic_name("nursery/room/light").ok());
  EXPECT_TRUE(validate_topic_name("nursery/chambre/lumière").ok());
  for (std::string bad : {""s, "a/+/b"s, "a/#"s, "a\0b"s, "a/\xff"s, "\xc0\xaf"s, "\xed\xa0\x80"s,
                          "abc\xe2\x82"s, std::string(65536, 'a')}) {
    auto s = validate_topic_name(bad);
    ASSERT_FALSE(s.ok()) << "accepted: " << bad.substr(0, 40);
    EXPECT_EQ(s.error().code, "invalid_topic");
    EXPECT_NE(s.error().message.find("topic"), std::string::npos);
  }
}

TEST(TopicValidation, ErrorsQuoteTheTopicReadably) {
  auto s = validate_topic_name("a\0b/+"s);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("a\\x00b/+"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("NUL"), std::string::npos) << s.error().message;
}

TEST(TopicValidation, FiltersAllowWholeLevelWildcardsOnly) {
  for (const char* good : {"a/+/b", "a/#", "#", "+", "+/+/#", "a//b"})
    EXPECT_TRUE(validate_topic_filter(good).ok()) << good;
  for (const char* bad : {"a/#/b", "a/b#", "a+/b", "a/+b", "##", ""})
    EXPECT_FALSE(validate_topic_filter(bad).ok()) << bad;
  EXPECT_EQ(validate_topic_filter("a/#/b").error().code, "invalid_topic_filter");
}

TEST(TopicValidation, SegmentsCannotAddLevelsOrWildcards) {
  EXPECT_TRUE(validate_topic_segment("night-light_2").ok());
  EXPECT_TRUE(validate_topic_segment("Küche").ok());
  for (std::string bad : {""s, "a/b"s, "+"s, "a#"s, "a\0"s, "\xfe"s}) {
    auto s = validate_topic_segment(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().code, "invalid_topic_segment");
  }
}

}  // namespace
}  // namespace nursery::mqtt
