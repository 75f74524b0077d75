#pragma once
// A real mosquitto for tests and benchmarks, and a small MQTT client to talk
// to it from the test's side (libmosquitto, driven synchronously: no thread).
//
// Mosquitto: a private `mosquitto -c CONF` on a free loopback port, in a
// temporary directory of its own (config, password file, log). It can be
// stopped and started again on the same port (for reconnect tests), and only
// the pid it started is ever signalled. Every wait is bounded, and a wait that
// runs out says what it waited for, with the broker's log.
//
// TestClient: connect, subscribe, publish (waiting for the broker's
// acknowledgement) and collect messages, each with a deadline.
//
// Thread: the test's thread. Setup that cannot go on throws
// std::runtime_error; everything else returns a gtest AssertionResult.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace nursery::mqtt::testing {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

struct BrokerUser {
  std::string name;
  std::string password;
};

struct BrokerConfig {
  // Users for a password file; with none and allow_anonymous, anyone connects.
  std::vector<BrokerUser> users;
  bool allow_anonymous = true;
  // Lines added right after the `listener` line (so they apply to it), e.g.
  // "cafile ...", "certfile ...", "keyfile ..." for a TLS listener.
  std::vector<std::string> listener_lines;
};

class Mosquitto {
 public:
  explicit Mosquitto(BrokerConfig config = {});  // makes its directory; does not start
  ~Mosquitto();  // SIGKILL and reap its own pid, if running; removes the directory
  Mosquitto(const Mosquitto&) = delete;
  Mosquitto& operator=(const Mosquitto&) = delete;

  // Starts the broker and waits until it accepts TCP connections. The first
  // start picks a free loopback port; later ones reuse it.
  ::testing::AssertionResult start(Millis timeout = 10s);
  // SIGTERM, then SIGKILL if it has not exited within `timeout`; reaps it.
  ::testing::AssertionResult stop(Millis timeout = 5s);
  // SIGKILL and reap: a broker that crashed.
  ::testing::AssertionResult kill_hard();
  bool running();

  // Replaces the password file's users; takes effect at the next start().
  void set_users(std::vector<BrokerUser> users);

  int port() const { return port_; }
  std::string uri() const;  // "tcp://127.0.0.1:PORT" ("ssl://..." with a TLS listener)
  const std::filesystem::path& dir() const { return dir_; }
  std::string log() const;  // everything every start logged
  ::testing::AssertionResult wait_for_log(std::string_view needle, Millis timeout = 5s) const;
  pid_t pid() const { return pid_; }

 private:
  void write_config() const;
  ::testing::AssertionResult start_on(int port, Millis timeout);

  BrokerConfig config_;
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

struct ReceivedMessage {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retained = false;
};

struct TestClientOptions {
  std::string client_id;  // empty: a generated one
  std::string username;
  std::string password;
  bool tcp_nodelay = true;
  std::optional<ReceivedMessage> will;  // topic, payload, qos, retained
};

class TestClient {
 public:
  TestClient(int port, TestClientOptions options = {});
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  ::testing::AssertionResult connect(Millis timeout = 5s);
  ::testing::AssertionResult subscribe(const std::string& filter, int qos = 1, Millis timeout = 5s);
  // Returns once the broker has the message: PUBACK for QoS 1 and 2, or the
  // bytes written for QoS 0.
  ::testing::AssertionResult publish(const std::string& topic, std::string_view payload,
                                     int qos = 1, bool retain = false, Millis timeout = 5s);
  // Closes the socket without a DISCONNECT, as a crash would.
  void drop_connection();
  void disconnect();

  // Reads and writes what is pending, waiting up to `wait` for traffic.
  void pump(Millis wait = 0ms);
  bool connected() const { return connected_; }

  // Every message received so far, oldest first.
  const std::vector<ReceivedMessage>& received() const { return received_; }
  void clear() { received_.clear(); }
  std::size_t count_on(std::string_view topic) const;
  // Pumps until a message on `topic` has arrived (counting those already
  // received); returns the first such message.
  std::optional<ReceivedMessage> wait_for_topic(std::string_view topic, Millis timeout = 5s);

  struct mosquitto* handle() {
    return mosq_;
  }

 private:
  static void on_connect(struct mosquitto*, void* self, int rc);
  static void on_disconnect(struct mosquitto*, void* self, int rc);
  static void on_subscribe(struct mosquitto*, void* self, int mid, int count, const int* granted);
  static void on_publish(struct mosquitto*, void* self, int mid);
  static void on_message(struct mosquitto*, void* self, const struct mosquitto_message* m);
  ::testing::AssertionResult pump_until(const std::function<bool()>& done, Millis timeout,
                                        std::string_view what);

  int port_;
  TestClientOptions options_;
  struct mosquitto* mosq_ = nullptr;
  bool connected_ = false;
  int connack_ = -1;
  std::vector<int> acked_mids_;
  std::vector<ReceivedMessage> received_;
};

// Runs `io` (the code under test) and pumps `clients` (the test's side) in
// turns until `done()` holds or `timeout` passes; returns done().
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done, Millis timeout = 10s,
               std::initializer_list<TestClient*> clients = {});

// Runs `io` and pumps `clients` for `duration`: for checking that something
// does NOT happen (a message not delivered), after a positive check that
// traffic is flowing.
void run_for(boost::asio::io_context& io, Millis duration,
             std::initializer_list<TestClient*> clients = {});

// A program run to completion (bounded); output in `out`. Throws if it cannot
// be started. Returns its exit code, or -1 if it was killed or timed out.
int run_command(const std::vector<std::string>& argv, std::string* out = nullptr,
                Millis timeout = 20s);

}  // namespace nursery::mqtt::testing
