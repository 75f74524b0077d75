// nursery::mqtt::Client against a real mosquitto on a free loopback port.
// The test's own side talks to the broker through libmosquitto (TestClient),
// an implementation independent of the Paho client under test.
#include "mqtt/client.hpp"

#include <gtest/gtest.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "daemon/log.hpp"
#include "mosquitto_fixture.hpp"

extern char** environ;

namespace nursery::mqtt {
namespace {

using namespace std::chrono_literals;
using testing::Mosquitto;
using testing::TestClient;

struct Seen {
  std::string topic;
  std::string payload;
  bool retained = false;
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(broker_.start()); }

  Options options_for(const Mosquitto& broker) const {
    Options o;
    o.uri = broker.uri();
    o.client_id = "hub-under-test";
    o.keep_alive = 5s;
    // Short waits so that a reconnect test takes well under a second.
    o.reconnect_min = 50ms;
    o.reconnect_max = 400ms;
    o.connect_timeout = 5s;
    return o;
  }
  Options options() const { return options_for(broker_); }

  std::unique_ptr<Client> make_client(Options o) {
    return std::make_unique<Client>(io_, Logger(sink_, "mqtt"), std::move(o));
  }

  std::unique_ptr<TestClient> test_client(std::string id, const Mosquitto& broker) {
    testing::TestClientOptions o;
    o.client_id = std::move(id);
    auto c = std::make_unique<TestClient>(broker.port(), o);
    EXPECT_TRUE(c->connect());
    return c;
  }
  std::unique_ptr<TestClient> test_client(std::string id) {
    return test_client(std::move(id), broker_);
  }

  ::testing::AssertionResult wait_connected(Client& c,
                                            std::initializer_list<TestClient*> also = {}) {
    if (testing::run_until(
            io_, [&] { return c.connected(); }, 10s, also))
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "not connected within 10 s; last error: " << c.stats().last_error << "\nlog:\n"
           << logged() << "\nbroker:\n"
           << broker_.log();
  }

  bool run_until(const std::function<bool()>& done,
                 std::initializer_list<TestClient*> clients = {}) {
    return testing::run_until(io_, done, 10s, clients);
  }

  std::string logged() const {
    std::string out;
    for (const auto& line : sink_.lines) out += line.domain + ": " + line.message + "\n";
    return out;
  }
  bool logged_error_containing(std::string_view needle) const {
    for (const auto& line : sink_.lines)
      if (line.level == LogLevel::Error && line.message.find(needle) != std::string::npos)
        return true;
    return false;
  }

  boost::asio::io_context io_;
  MemorySink sink_;
  Mosquitto broker_;
};

// The local port of a connected socket, and whether TCP_NODELAY is on.
int local_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return -1;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}
bool has_nodelay(int fd) {
  int on = 0;
  socklen_t len = sizeof on;
  return ::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0 && on == 1;
}

TEST_F(ClientTest, PublishesAndReceivesThroughARealBroker) {
  auto peer = test_client("peer");
  ASSERT_TRUE(peer->subscribe("hub/out"));
  auto client = make_client(options());
  std::vector<Seen> seen;
  auto sub = client->subscribe("hub/in", [&](const PubSubMessage& m) {
    seen.push_back({m.topic, m.payload, m.retained});
  });
  client->start();
  ASSERT_TRUE(wait_connected(*client));

  ASSERT_TRUE(peer->publish("hub/in", "from the peer"));
  ASSERT_TRUE(run_until([&] { return !seen.empty(); }));
  EXPECT_EQ(seen[0].topic, "hub/in");
  EXPECT_EQ(seen[0].payload, "from the peer");
  EXPECT_FALSE(seen[0].retained);

  client->publish("hub/out", "from the hub", {1, false, PublishKind::State});
  ASSERT_TRUE(run_until([&] { return peer->count_on("hub/out") == 1; }, {peer.get()}));
  EXPECT_EQ(peer->received().back().payload, "from the hub");
  EXPECT_TRUE(run_until([&] { return client->stats().published == 1; }));
  EXPECT_EQ(client->stats().received, 1u);
  EXPECT_EQ(client->stats().connects, 1u);
}

TEST_F(ClientTest, DispatchesEachMessageToEveryMatchingSubscription) {
  auto client = make_client(options());
  std::vector<std::string> got;
  auto on = [&](std::string name) {
    return [&got, name](const PubSubMessage& m) { got.push_back(name + " " + m.topic); };
  };
  auto plus = client->subscribe("hub/+/set", on("plus"));
  auto hash = client->subscribe("hub/#", on("hash"));
  auto exact = client->subscribe("hub/room/set", on("exact"));
  auto exact_again = client->subscribe("hub/room/set", on("exact-again"));
  auto other = client->subscribe("other/#", on("other"));
  client->start();
  ASSERT_TRUE(wait_connected(*client));
  auto peer = test_client("peer");

  ASSERT_TRUE(peer->publish("hub/room/set", "1"));
  ASSERT_TRUE(peer->publish("hub/room/light/set", "2"));
  ASSERT_TRUE(run_until([&] { return got.size() == 5; }));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"exact hub/room/set", "exact-again hub/room/set",
                                           "hash hub/room/light/set", "hash hub/room/set",
                                           "plus hub/room/set"}));

  // Ending one of two subscriptions to a filter keeps the other one.
  exact_again.reset();
  plus.reset();
  got.clear();
  ASSERT_TRUE(peer->publish("hub/room/set", "3"));
  ASSERT_TRUE(peer->publish("other/x", "4"));
  ASSERT_TRUE(run_until([&] { return got.size() == 3; }));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got,
            (std::vector<std::string>{"exact hub/room/set", "hash hub/room/set", "other other/x"}));
}

TEST_F(ClientTest, AHandlerThatEndsItsOwnSubscriptionIsNotCalledAgain) {
  auto client = make_client(options());
  int calls = 0;
  std::unique_ptr<PubSub::Handle> sub;
  std::vector<std::string> witness;
  sub = client->subscribe("once/#", [&](const PubSubMessage&) {
    ++calls;
    sub.reset();
  });
  auto w =
      client->subscribe("witness", [&](const PubSubMessage& m) { witness.push_back(m.payload); });
  client->start();
  ASSERT_TRUE(wait_connected(*client));
  auto peer = test_client("peer");
  ASSERT_TRUE(peer->publish("once/a", "1"));
  ASSERT_TRUE(peer->publish("once/b", "2"));
  ASSERT_TRUE(peer->publish("witness", "after"));
  ASSERT_TRUE(run_until([&] { return !witness.empty(); }));
  EXPECT_EQ(calls, 1);
}

TEST_F(ClientTest, DeliversTheRetainedFlag) {
  auto peer = test_client("peer");
  ASSERT_TRUE(peer->publish("hub/room/routine/set", "START", 1, true));
  auto client = make_client(options());
  client->start();
  ASSERT_TRUE(wait_connected(*client));
  std::vector<Seen> seen;
  auto sub = client->subscribe("hub/+/routine/set", [&](const PubSubMessage& m) {
    seen.push_back({m.topic, m.payload, m.retained});
  });
  ASSERT_TRUE(run_until([&] { return seen.size() == 1; }));
  EXPECT_TRUE(seen[0].retained) << "a stale command from the broker's store must be recognisable";
  EXPECT_EQ(seen[0].payload, "START");

  ASSERT_TRUE(peer->publish("hub/room/routine/set", "STOP", 1, false));
  ASSERT_TRUE(run_until([&] { return seen.size() == 2; }));
  EXPECT_FALSE(seen[1].retained);
  EXPECT_EQ(seen[1].payload, "STOP");
}

TEST_F(ClientTest, ResubscribesAfterTheBrokerRestartsBeforeSayingItIsConnected) {
  auto client = make_client(options());
  std::vector<std::string> got;
  auto sub =
      client->subscribe("hub/cmd/#", [&](const PubSubMessage& m) { got.push_back(m.payload); });
  std::vector<bool> transitions;
  std::unique_ptr<TestClient> peer;
  bool published_in_handler = false;
  auto watch = client->watch_connection([&](bool up) {
    transitions.push_back(up);
    if (up && transitions.size() == 3) {
      // Published from inside the handler: it can only arrive if the
      // subscription was renewed before the handler was told.
      peer = test_client("peer-after-restart");
      published_in_handler = peer->publish("hub/cmd/x", "after the restart");
    }
  });
  client->start();
  ASSERT_TRUE(wait_connected(*client));
  ASSERT_TRUE(broker_.stop());
  ASSERT_TRUE(run_until([&] { return !client->connected(); }));
  ASSERT_TRUE(broker_.start());
  ASSERT_TRUE(run_until([&] { return transitions.size() == 3; })) << logged();
  EXPECT_TRUE(published_in_handler);
  ASSERT_TRUE(run_until([&] { return !got.empty(); })) << logged();
  EXPECT_EQ(got, std::vector<std::string>{"after the restart"});
  EXPECT_EQ(transitions, (std::vector<bool>{true, false, true}));
  const Stats s = client->stats();
  EXPECT_EQ(s.connects, 2u);
  EXPECT_EQ(s.reconnects, 1u);
  EXPECT_NE(s.last_error.find("lost"), std::string::npos) << s.last_error;
}

TEST_F(ClientTest, SendsMessagesQueuedWhileTheBrokerWasAway) {
  auto client = make_client(options());
  client->start();
  ASSERT_TRUE(wait_connected(*client));
  ASSERT_TRUE(broker_.stop());
  ASSERT_TRUE(run_until([&] { return !client->connected(); }));
  // Retained, so that the peer sees them whenever it subscribes after the
  // broker is back: no race with the client's reconnect.
  for (int i = 1; i <= 3; ++i)
    client->publish("queued/" + std::to_string(i), "m" + std::to_string(i),
                    {1, true, PublishKind::State});
  client->publish("queued/cmd", "do it", {1, true, PublishKind::Command});
  EXPECT_EQ(client->stats().queued, 4u);
  ASSERT_TRUE(broker_.start());
  ASSERT_TRUE(wait_connected(*client));
  ASSERT_TRUE(
      run_until([&] { return client->stats().queued == 0 && client->stats().in_flight == 0; }));
  auto peer = test_client("peer");
  ASSERT_TRUE(peer->subscribe("queued/#"));
  ASSERT_TRUE(run_until([&] { return peer->received().size() == 4; }, {peer.get()}));
  for (const char* t : {"queued/1", "queued/2", "queued/3", "queued/cmd"})
    EXPECT_EQ(peer->count_on(t), 1u) << t;
  EXPECT_EQ(client->stats().dropped_state, 0u);
}

TEST_F(ClientTest, AFullQueueDropsTheOldestStateMessagesAndNeverACommand) {
  auto peer = test_client("peer");
  ASSERT_TRUE(peer->subscribe("q/#"));
  Options o = options();
  o.max_queued = 5;
  auto client = make_client(o);
  // Not started yet: everything waits in the queue, as while the broker is away.
  client->publish("q/cmd1", "c1", {1, false, PublishKind::Command});
  for (int i = 1; i <= 10; ++i)
    client->publish("q/state" + std::to_string(i), "s", {1, false, PublishKind::State});
  client->publish("q/cmd2", "c2", {1, false, PublishKind::Command});
  Stats s = client->stats();
  EXPECT_EQ(s.queued, 5u);
  EXPECT_EQ(s.dropped_state, 7u);

  client->start();
  ASSERT_TRUE(run_until([&] { return peer->received().size() >= 5; }, {peer.get()})) << logged();
  testing::run_for(io_, 200ms, {peer.get()});  // nothing more may come
  std::vector<std::string> topics;
  for (const auto& m : peer->received()) topics.push_back(m.topic);
  EXPECT_EQ(topics,
            (std::vector<std::string>{"q/cmd1", "q/state8", "q/state9", "q/state10", "q/cmd2"}));
  EXPECT_EQ(client->stats().dropped_state, 7u);
}

TEST_F(ClientTest, AFloodGoesOutInOrderThroughASmallInFlightWindow) {
  auto peer = test_client("peer");
  ASSERT_TRUE(peer->subscribe("flood"));
  Options o = options();
  o.max_inflight = 3;
  auto client = make_client(o);
  client->start();
  ASSERT_TRUE(wait_connected(*client));
  for (int i = 0; i < 300; ++i)
    client->publish("flood", std::to_string(i), {1, false, PublishKind::State});
  EXPECT_LE(client->stats().in_flight, 3u);
  ASSERT_TRUE(run_until([&] { return peer->received().size() == 300; }, {peer.get()}));
  for (int i = 0; i < 300; ++i)
    ASSERT_EQ(peer->received()[static_cast<std::size_t>(i)].payload, std::to_string(i));
  EXPECT_EQ(client->stats().dropped_state, 0u);
  EXPECT_TRUE(run_until([&] { return client->stats().published == 300; }));
}

TEST_F(ClientTest, RefusesAnOversizeMessageAndReportsIt) {
  Options o = options();
  o.max_payload = 1024;
  auto client = make_client(o);
  std::vector<std::string> got;
  auto sub = client->subscribe("big/#", [&](const PubSubMessage& m) { got.push_back(m.topic); });
  std::vector<std::pair<std::string, std::size_t>> oversize;
  client->on_oversize([&](const std::string& topic, std::size_t size, bool retained) {
    EXPECT_FALSE(retained);
    oversize.emplace_back(topic, size);
  });
  client->start();
  ASSERT_TRUE(wait_connected(*client));
  auto peer = test_client("peer");
  ASSERT_TRUE(peer->publish("big/a", std::string(2000, 'x')));
  ASSERT_TRUE(peer->publish("big/b", std::string(1024, 'y')));  // exactly the limit: delivered
  ASSERT_TRUE(run_until([&] { return got.size() == 1 && oversize.size() == 1; }));
  EXPECT_EQ(got, std::vector<std::string>{"big/b"});
  EXPECT_EQ(oversize[0], (std::pair<std::string, std::size_t>{"big/a", 2000}));
  EXPECT_EQ(client->stats().oversize_refused, 1u);
  EXPECT_EQ(client->stats().received, 1u);
}

TEST_F(ClientTest, RefusedCredentialsAreReportedRetriedAndRecoverWhenFixed) {
  Mosquitto secure({{{"hub", "the-old-password"}}, false, {}});
  ASSERT_TRUE(secure.start());
  Options o = options_for(secure);
  o.username = "hub";
  o.password = "the-new-password";
  auto client = make_client(o);
  client->start();
  ASSERT_TRUE(run_until([&] { return client->stats().connect_failures >= 3; })) << logged();
  EXPECT_FALSE(client->connected());
  const std::string error = client->stats().last_error;
  EXPECT_NE(error.find("refused"), std::string::npos) << error;
  EXPECT_TRUE(error.find("not authorised") != std::string::npos ||
              error.find("bad user name or password") != std::string::npos)
      << error;
  EXPECT_TRUE(logged_error_containing("cannot connect to 127.0.0.1")) << logged();

  // The admin fixes the password file and restarts the broker.
  ASSERT_TRUE(secure.stop());
  secure.set_users({{"hub", "the-new-password"}});
  ASSERT_TRUE(secure.start());
  ASSERT_TRUE(run_until([&] { return client->connected(); })) << logged() << secure.log();
  EXPECT_EQ(client->stats().connects, 1u);
}

TEST_F(ClientTest, TheBrokerPublishesTheRetainedWillWhenTheClientProcessDies) {
  auto peer = test_client("peer");
  ASSERT_TRUE(peer->subscribe("child/status"));
  std::vector<std::string> argv = {MQTT_CLIENT_CHILD_PATH, broker_.uri(), "child-hub",
                                   "child/status"};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t child = -1;
  ASSERT_EQ(::posix_spawn(&child, args[0], nullptr, nullptr, args.data(), environ), 0);
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } reaper{child};

  auto online = peer->wait_for_topic("child/status", 10s);
  ASSERT_TRUE(online.has_value()) << broker_.log();
  EXPECT_EQ(online->payload, "online");
  peer->clear();
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  auto will = peer->wait_for_topic("child/status", 10s);
  ASSERT_TRUE(will.has_value()) << broker_.log();
  EXPECT_EQ(will->payload, "offline");

  auto later = test_client("later");
  ASSERT_TRUE(later->subscribe("child/status"));
  auto kept = later->wait_for_topic("child/status");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->payload, "offline");
  EXPECT_TRUE(kept->retained);
}

TEST_F(ClientTest, ACleanStopPublishesTheFinalMessageAndNotTheWill) {
  auto peer = test_client("peer");
  ASSERT_TRUE(peer->subscribe("hub/status"));
  Options o = options();
  o.will = FixedMessage{"hub/status", "lost", true, 1};
  o.final_message = FixedMessage{"hub/status", "offline", true, 1};
  auto client = make_client(o);
  auto watch = client->watch_connection([&](bool up) {
    if (up) client->publish("hub/status", "online", {1, true, PublishKind::State});
  });
  client->start();
  ASSERT_TRUE(run_until([&] { return peer->count_on("hub/status") == 1; }, {peer.get()}));
  client->publish("hub/last-state", "queued before stop", {1, false, PublishKind::State});
  bool done = false;
  client->stop([&] { done = true; });
  client->publish("hub/too-late", "x", {1, false, PublishKind::State});
  ASSERT_TRUE(run_until([&] { return done; }, {peer.get()})) << logged();
  EXPECT_FALSE(client->connected());
  ASSERT_TRUE(broker_.wait_for_log("Client hub-under-test disconnected"));
  testing::run_for(io_, 300ms, {peer.get()});  // a will would come now

  std::vector<std::string> payloads;
  for (const auto& m : peer->received()) payloads.push_back(m.payload);
  EXPECT_EQ(payloads, (std::vector<std::string>{"online", "offline"}));
  EXPECT_EQ(client->stats().refused_publishes, 1u);

  auto later = test_client("later");
  ASSERT_TRUE(later->subscribe("hub/status"));
  auto kept = later->wait_for_topic("hub/status");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->payload, "offline");
}

TEST_F(ClientTest, SetsTcpNoDelayOnItsSocketAfterConnectAndAfterReconnect) {
  auto client = make_client(options());
  client->start();
  ASSERT_TRUE(wait_connected(*client));
  for (int round = 1; round <= 2; ++round) {
    SCOPED_TRACE(round == 1 ? "after connect" : "after reconnect");
    const int fd = client->socket_fd();
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(has_nodelay(fd));
    EXPECT_TRUE(client->stats().tcp_nodelay);
    // The socket is the client's own: the broker saw this client id come
    // from its local port.
    const int port = local_port(fd);
    EXPECT_TRUE(broker_.wait_for_log(
        fmt::format("New client connected from 127.0.0.1:{} as hub-under-test", port)));
    if (round == 2) break;
    ASSERT_TRUE(broker_.stop());
    ASSERT_TRUE(run_until([&] { return !client->connected(); }));
    ASSERT_TRUE(broker_.start());
    ASSERT_TRUE(wait_connected(*client));
  }
}

TEST_F(ClientTest, InvokesEveryHandlerOnTheLoopThread) {
  const auto loop = std::this_thread::get_id();
  std::vector<std::thread::id> threads;
  Options o = options();
  o.max_payload = 10;
  auto client = make_client(o);
  auto sub = client->subscribe(
      "t/#", [&](const PubSubMessage&) { threads.push_back(std::this_thread::get_id()); });
  auto watch =
      client->watch_connection([&](bool) { threads.push_back(std::this_thread::get_id()); });
  client->on_oversize([&](const std::string&, std::size_t, bool) {
    threads.push_back(std::this_thread::get_id());
  });
  client->start();
  ASSERT_TRUE(wait_connected(*client));
  auto peer = test_client("peer");
  ASSERT_TRUE(peer->publish("t/small", "1"));
  ASSERT_TRUE(peer->publish("t/large", "more than ten bytes"));
  bool stopped = false;
  ASSERT_TRUE(run_until([&] { return threads.size() == 3; }));
  client->stop([&] {
    threads.push_back(std::this_thread::get_id());
    stopped = true;
  });
  ASSERT_TRUE(run_until([&] { return stopped; }));
  ASSERT_EQ(threads.size(), 5u);  // connected, message, oversize, disconnected, stop done
  for (auto id : threads) EXPECT_EQ(id, loop);
}

TEST_F(ClientTest, BadTopicsAreRefusedWithoutHarm) {
  auto client = make_client(options());
  auto bad_sub = client->subscribe("a/#/b", [](const PubSubMessage&) { FAIL() << "never called"; });
  EXPECT_NE(client->stats().last_error.find("a/#/b"), std::string::npos);
  client->start();
  ASSERT_TRUE(wait_connected(*client));
  client->publish("hub/+/state", "x", {1, false, PublishKind::State});
  client->publish(std::string("hub/\0/x", 7), "x", {1, false, PublishKind::State});
  client->publish("hub/ok", "x", {7, false, PublishKind::State});
  EXPECT_EQ(client->stats().refused_publishes, 3u);
  EXPECT_TRUE(logged_error_containing("hub/+/state")) << logged();
  auto peer = test_client("peer");
  ASSERT_TRUE(peer->subscribe("hub/#"));
  client->publish("hub/ok", "still works", {1, false, PublishKind::State});
  ASSERT_TRUE(run_until([&] { return peer->received().size() == 1; }, {peer.get()}));
  EXPECT_EQ(peer->received()[0].topic, "hub/ok");
  EXPECT_TRUE(client->connected());
}

TEST_F(ClientTest, DestroyingTheClientMidTrafficCallsNoHandlerAfterwards) {
  auto client = make_client(options());
  int calls_after = 0;
  bool destroyed = false;
  auto sub = client->subscribe("busy/#", [&](const PubSubMessage&) {
    if (destroyed) ++calls_after;
  });
  auto watch = client->watch_connection([&](bool) {
    if (destroyed) ++calls_after;
  });
  client->start();
  ASSERT_TRUE(wait_connected(*client));
  auto peer = test_client("peer");
  for (int i = 0; i < 200; ++i) {
    const std::string n = std::to_string(i);
    ASSERT_EQ(::mosquitto_publish(peer->handle(), nullptr, "busy/in", static_cast<int>(n.size()),
                                  n.data(), 0, false),
              0);
    client->publish("busy/out", n, {1, false, PublishKind::State});
  }
  peer->pump(0ms);
  testing::run_for(io_, 5ms, {peer.get()});  // some of it in flight, some posted, some not yet
  client.reset();
  destroyed = true;
  testing::run_for(io_, 200ms, {peer.get()});  // whatever Paho had posted runs now
  EXPECT_EQ(calls_after, 0);
}

TEST_F(ClientTest, StopWithoutABrokerEndsAtOnceAndStopsRetrying) {
  ASSERT_TRUE(broker_.stop());
  auto client = make_client(options());
  client->publish("x", "y", {1, false, PublishKind::Command});
  client->start();
  ASSERT_TRUE(run_until([&] { return client->stats().connect_failures >= 1; }));
  bool done = false;
  client->stop([&] { done = true; });
  ASSERT_TRUE(run_until([&] { return done; }));
  const auto failures = client->stats().connect_failures;
  testing::run_for(io_, 600ms);  // longer than reconnect_max
  EXPECT_EQ(client->stats().connect_failures, failures);
  EXPECT_EQ(client->stats().queued, 0u);
}

}  // namespace
}  // namespace nursery::mqtt
