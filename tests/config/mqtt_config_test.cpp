// The [mqtt] table: absent means MQTT off, every key has its documented
// default, and every bad value is an error at its own file:line:col.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "config/loader.hpp"
#include "test_drivers.hpp"

namespace nursery::config {
namespace {

constexpr std::string_view kRoom = R"([[rooms]]
id = "nursery"

[[routines]]
id = "bedtime"
  [[routines.steps]]
  at = "0s"
  role = "light"
  on = true

[[devices]]
id = "nursery-light"
room = "nursery"
driver = "simulated"
kind = "light"

)";

LoadResult load(std::string_view mqtt, std::string_view source = "test.toml") {
  return load_string(std::string(kRoom) + std::string(mqtt), source, testing::test_drivers());
}

std::string describe(const LoadResult& result) {
  std::string text;
  for (const auto& d : result.diagnostics) text += d.to_string() + "\n";
  return text;
}

// The one error of a load, as "LINE:COL: message" (the file name dropped).
std::string only_error(const LoadResult& result) {
  std::string found;
  int errors = 0;
  for (const auto& d : result.diagnostics)
    if (d.severity == Diagnostic::Severity::Error) {
      ++errors;
      found =
          std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + ": " + d.message;
    }
  EXPECT_EQ(errors, 1) << describe(result);
  EXPECT_FALSE(result.ok());
  return found;
}

// The line number in `load(mqtt)` of the mqtt text's line `n` (1-based).
int line_of(int n) {
  int lines = 0;
  for (char c : kRoom) lines += c == '\n';
  return lines + n;
}

TEST(MqttConfig, WithoutAnMqttTableMqttIsOff) {
  auto r = load("");
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_FALSE(r.config->mqtt.has_value());
}

TEST(MqttConfig, ATableWithoutUriLeavesMqttOffWithAWarning) {
  auto r = load("[mqtt]\nbase_topic = \"hall\"\n");
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_FALSE(r.config->mqtt.has_value());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_NE(r.diagnostics[0].message.find("no uri"), std::string::npos);
}

TEST(MqttConfig, OnlyAUriGivesTheDocumentedDefaults) {
  auto r = load("[mqtt]\nuri = \"tcp://127.0.0.1:1883\"\n");
  ASSERT_TRUE(r.ok()) << describe(r);
  ASSERT_TRUE(r.config->mqtt.has_value());
  const auto& m = *r.config->mqtt;
  EXPECT_EQ(m.uri, "tcp://127.0.0.1:1883");
  EXPECT_EQ(m.client_id, "");
  EXPECT_EQ(m.base_topic, "nursery");
  EXPECT_EQ(m.discovery_prefix, "homeassistant");
  EXPECT_EQ(m.keep_alive, std::chrono::seconds(30));
  EXPECT_EQ(m.qos, 1);
  EXPECT_EQ(m.max_payload, 64u * 1024u);
  EXPECT_TRUE(m.tls.verify);
  EXPECT_EQ(m.uri_where.line, line_of(2));
}

TEST(MqttConfig, EveryKeyIsRead) {
  auto r = load(R"([mqtt]
uri = "ssl://broker.local:8883"
client_id = "hub-hall"
username = "nurseryd"
password = "s3cret"
base_topic = "daycare/hall"
discovery_prefix = "ha"
keep_alive = "1m"
qos = 0
max_payload = 4096
[mqtt.tls]
verify = false
)");
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_TRUE(r.diagnostics.empty()) << describe(r);
  const auto& m = *r.config->mqtt;
  EXPECT_EQ(m.client_id, "hub-hall");
  EXPECT_EQ(m.username, "nurseryd");
  EXPECT_EQ(m.password, "s3cret");
  EXPECT_EQ(m.base_topic, "daycare/hall");
  EXPECT_EQ(m.discovery_prefix, "ha");
  EXPECT_EQ(m.keep_alive, std::chrono::seconds(60));
  EXPECT_EQ(m.qos, 0);
  EXPECT_EQ(m.max_payload, 4096u);
  EXPECT_FALSE(m.tls.verify);
}

struct BadValue {
  std::string line;     // the second line of [mqtt], after the uri
  std::string message;  // part of the error
};

class MqttBadValue : public ::testing::TestWithParam<BadValue> {};

TEST_P(MqttBadValue, IsAnErrorAtTheValue) {
  const auto& p = GetParam();
  auto r = load("[mqtt]\nuri = \"tcp://127.0.0.1:1883\"\n" + p.line + "\n");
  const auto error = only_error(r);
  const auto column = p.line.find('=') + 3;
  EXPECT_EQ(error.substr(0, error.find(": ")),
            std::to_string(line_of(3)) + ":" + std::to_string(column));
  EXPECT_NE(error.find(p.message), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Keys, MqttBadValue,
    ::testing::Values(BadValue{"client_id = 7", "client_id must be a string"},
                      BadValue{"username = \"a\\nb\"", "control characters"},
                      BadValue{"base_topic = \"a/+/b\"", "wildcards"},
                      BadValue{"base_topic = \"\"", "must not be empty"},
                      BadValue{"base_topic = \"/nursery\"", "empty level"},
                      BadValue{"base_topic = \"$SYS\"", "must not start with $"},
                      BadValue{"discovery_prefix = \"home#\"", "wildcards"},
                      BadValue{"keep_alive = 30", "duration string"},
                      BadValue{"keep_alive = \"0s\"", "from 1s to 65535s"},
                      BadValue{"qos = 3", "qos must be 0, 1 or 2"},
                      BadValue{"qos = \"1\"", "must be an integer"},
                      BadValue{"max_payload = 10", "max_payload must be from 256"},
                      BadValue{"max_payload = 1.5", "must be an integer"},
                      BadValue{"tls = 1", "must be a table"}));

TEST(MqttConfig, AnEmptyUriIsAnError) {
  auto r = load("[mqtt]\nuri = \"\"\n");
  EXPECT_EQ(only_error(r), std::to_string(line_of(2)) +
                               ":7: uri must not be empty (leave it out to turn MQTT off)");
}

TEST(MqttConfig, APasswordWithoutAUsernameIsAnError) {
  auto r = load("[mqtt]\nuri = \"tcp://127.0.0.1:1883\"\npassword = \"x\"\n");
  EXPECT_NE(only_error(r).find("needs a username"), std::string::npos);
}

TEST(MqttConfig, PasswordAndPasswordFileTogetherAreAnError) {
  auto r = load(
      "[mqtt]\nuri = \"tcp://127.0.0.1:1883\"\nusername = \"u\"\npassword = \"x\"\n"
      "password_file = \"pw\"\n");
  EXPECT_NE(only_error(r).find("not both"), std::string::npos);
}

class PasswordFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mqtt_config_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  LoadResult load_with(const std::string& file) {
    return load("[mqtt]\nuri = \"tcp://127.0.0.1:1883\"\nusername = \"u\"\npassword_file = \"" +
                    file + "\"\n",
                (dir_ / "nurseryd.toml").string());
  }
  std::filesystem::path dir_;
};

TEST_F(PasswordFile, IsReadRelativeToTheConfigWithoutItsFinalNewline) {
  write("pw", "s3cret\n");
  auto r = load_with("pw");
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r.config->mqtt->password, "s3cret");
}

TEST_F(PasswordFile, ThatIsMissingIsAnErrorAtItsValue) {
  auto r = load_with("missing");
  const auto error = only_error(r);
  EXPECT_EQ(error.substr(0, error.find(": ")), std::to_string(line_of(4)) + ":17");
  EXPECT_NE(error.find("cannot be read"), std::string::npos) << error;
}

TEST_F(PasswordFile, ThatIsEmptyIsAnError) {
  write("pw", "\n");
  EXPECT_NE(only_error(load_with("pw")).find("is empty"), std::string::npos);
}

TEST_F(PasswordFile, WithASecondLineIsAnError) {
  write("pw", "one\ntwo\n");
  EXPECT_NE(only_error(load_with("pw")).find("control characters"), std::string::npos);
}

TEST(MqttConfig, AnUnreadableTlsFileIsAnErrorAtItsValue) {
  auto r = load(
      "[mqtt]\nuri = \"ssl://127.0.0.1:8883\"\n[mqtt.tls]\nca_file = \"/nonexistent/ca.pem\"\n");
  const auto error = only_error(r);
  EXPECT_EQ(error.substr(0, error.find(": ")), std::to_string(line_of(4)) + ":11");
}

TEST(MqttConfig, AnUnknownKeyIsAWarning) {
  auto r = load("[mqtt]\nuri = \"tcp://127.0.0.1:1883\"\nbase = \"x\"\n");
  ASSERT_TRUE(r.ok()) << describe(r);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_NE(r.diagnostics[0].message.find("unknown key \"base\" in [mqtt]"), std::string::npos);
}

// The example's commented [mqtt] section, with its settings uncommented,
// is a working config that ships the defaults.
TEST(MqttConfig, TheExamplesCommentedSectionLoadsWhenUncommented) {
  std::ifstream in(NURSERY_SOURCE_DIR "/config/nurseryd.toml");
  std::stringstream text;
  text << in.rdbuf();
  std::string example = text.str();
  ASSERT_NE(example.find("#[mqtt]"), std::string::npos);
  // The commented MQTT device blocks need the real plugins: tests/plugins
  // loads them (mqtt_drivers_tests).
  if (const auto from = example.find("# MQTT devices"), to = example.find("# Routines:");
      from != std::string::npos && to != std::string::npos && from < to)
    example.erase(from, to - from);
  const std::string uncommented =
      std::regex_replace(example, std::regex("^#([a-z\\[])", std::regex::multiline), "$1");
  auto r =
      load_string(uncommented, NURSERY_SOURCE_DIR "/config/nurseryd.toml", testing::test_drivers());
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_TRUE(r.diagnostics.empty()) << describe(r);
  ASSERT_TRUE(r.config->mqtt.has_value());
  const MqttConfig defaults;
  EXPECT_EQ(r.config->mqtt->base_topic, defaults.base_topic);
  EXPECT_EQ(r.config->mqtt->discovery_prefix, defaults.discovery_prefix);
  EXPECT_EQ(r.config->mqtt->keep_alive, defaults.keep_alive);
  EXPECT_EQ(r.config->mqtt->qos, defaults.qos);
  EXPECT_EQ(r.config->mqtt->max_payload, defaults.max_payload);
}

}  // namespace
}  // namespace nursery::config
