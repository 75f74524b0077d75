// The control API over its UNIX socket, against a fake hub: every answer a
// client can get, and that a refused request never reaches the hub.
#include "web/control_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <fstream>

#include "fake_hub.hpp"
#include "raw_connection.hpp"

namespace nursery::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::string error_code_of(const ControlResponse& response) {
  if (!response.body.is_object() || !response.body.contains("error")) return "<no error>";
  return response.body["error"].value("code", "<no code>");
}

using ControlServerTest = ServedHub;

TEST_F(ControlServerTest, AnswersStatusWithTheHubItsRoomsDevicesAndRoutines) {
  auto c = client();
  auto response = c.request("GET", "/api/v1/status");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers["content-type"], "application/json");
  const json& body = response->body;
  EXPECT_EQ(body["hub"]["name"], "Nursery Hub");
  EXPECT_EQ(body["hub"]["now"], "2024-05-01T19:30:00Z");
  ASSERT_EQ(body["rooms"].size(), 1u);
  EXPECT_EQ(body["rooms"][0]["id"], "nursery");
  EXPECT_EQ(body["rooms"][0]["devices"][0]["state"]["brightness"], 0.1);
  EXPECT_EQ(body["rooms"][0]["routine"]["state"], "running");
  EXPECT_EQ(body["rooms"][0]["routine"]["ends_at"], "2024-05-01T19:45:10Z");
}

TEST_F(ControlServerTest, StartsTheRoutineTheRequestNamesInTheRoomOfThePath) {
  auto c = client();
  auto response = c.request("POST", "/api/v1/rooms/nursery/routine",
                            json{{"action", "start"}, {"routine", "nap"}});
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body["routine"]["state"], "running");
  EXPECT_EQ(response->body["routine"]["routine"], "nap");
  auto calls = hub_.routine_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].room, "nursery");
  EXPECT_EQ(calls[0].request.action, RoutineAction::Start);
  EXPECT_EQ(calls[0].request.routine, "nap");
}

TEST_F(ControlServerTest, DecodesPercentEscapesInThePath) {
  auto c = client();
  auto response = c.request("POST", "/api/v1/rooms/nurs%65ry/routine", json{{"action", "stop"}});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  ASSERT_EQ(hub_.routine_calls().size(), 1u);
  EXPECT_EQ(hub_.routine_calls()[0].room, "nursery");
  EXPECT_EQ(hub_.routine_calls()[0].request.action, RoutineAction::Stop);
}

TEST_F(ControlServerTest, RefusesMalformedJsonWithoutCallingTheHub) {
  auto c = client();
  for (const char* body : {"{\"action\": ", "{action: start}", "", "   "}) {
    auto response = c.request_raw("POST", "/api/v1/rooms/nursery/routine", body);
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(response->status, 400) << body;
    EXPECT_EQ(error_code_of(*response), "invalid_json") << body;
  }
  auto response = c.request_raw("POST", "/api/v1/rooms/nursery/devices/night-light", "{\"on\":");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(error_code_of(*response), "invalid_json");
  EXPECT_EQ(hub_.changing_calls(), 0u);
}

TEST_F(ControlServerTest, RefusesOutOfRangeAndMistypedDeviceValuesWithoutCallingTheHub) {
  auto c = client();
  for (const json& body :
       {json{{"brightness", 1.5}}, json{{"volume", -3}}, json{{"brightness", "high"}},
        json{{"on", "yes"}}, json{{"color_temp", 50}}}) {
    auto response = c.request("POST", "/api/v1/rooms/nursery/devices/night-light", body);
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(response->status, 400) << body.dump();
    EXPECT_EQ(error_code_of(*response), "invalid_value") << body.dump();
  }
  for (const json& body : {json::object(), json{{"colour", 2200}}, json::array()}) {
    auto response = c.request("POST", "/api/v1/rooms/nursery/devices/night-light", body);
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response->status, 400) << body.dump();
    EXPECT_EQ(error_code_of(*response), "invalid_request") << body.dump();
  }
  EXPECT_EQ(hub_.changing_calls(), 0u);
}

TEST_F(ControlServerTest, RefusesABadRoutineRequestWithoutCallingTheHub) {
  auto c = client();
  for (const json& body : {json{{"action", "dance"}}, json{{"action", "stop"}, {"routine", "x"}},
                           json{{"routine", "bedtime"}}, json{{"action", "start"}, {"now", 1}}}) {
    auto response = c.request("POST", "/api/v1/rooms/nursery/routine", body);
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response->status, 400) << body.dump();
    EXPECT_EQ(error_code_of(*response), "invalid_request") << body.dump();
  }
  EXPECT_EQ(hub_.changing_calls(), 0u);
}

TEST_F(ControlServerTest, SendsAValidCommandToTheHubAndReportsWhatWasClamped) {
  auto c = client();
  auto response = c.request("POST", "/api/v1/rooms/nursery/devices/night-light",
                            json{{"on", true}, {"brightness", 0.8}, {"transition", 2}});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body["requested"]["brightness"], 0.8);
  EXPECT_EQ(response->body["applied"]["brightness"], 0.3);
  ASSERT_EQ(response->body["clamped"].size(), 1u);
  EXPECT_EQ(response->body["clamped"][0]["field"], "brightness");
  auto calls = hub_.device_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].room, "nursery");
  EXPECT_EQ(calls[0].device, "night-light");
  EXPECT_EQ(calls[0].command.on, true);
  EXPECT_EQ(calls[0].command.values.brightness, Level::permille(800));
  EXPECT_EQ(calls[0].command.transition, std::chrono::seconds(2));
}

TEST_F(ControlServerTest, AnswersWithTheHubsOwnErrorAndStatus) {
  auto c = client();
  auto response = c.request("POST", "/api/v1/rooms/attic/routine", json{{"action", "start"}});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(error_code_of(*response), "unknown_room");
  EXPECT_EQ(response->body["error"]["message"], "There is no room \"attic\".");

  response = c.request("POST", "/api/v1/rooms/nursery/devices/fan", json{{"on", true}});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(error_code_of(*response), "unknown_device");
}

TEST_F(ControlServerTest, AnswersAnUnknownPathWith404) {
  auto c = client();
  for (const char* target : {"/", "/api/v1/nothing", "/api/v1/rooms/nursery",
                             "/api/v1/status/extra", "/api/v2/status", "/api/v1/rooms//routine"}) {
    auto response = c.request("GET", target);
    ASSERT_TRUE(response.ok()) << target;
    EXPECT_EQ(response->status, 404) << target;
    EXPECT_EQ(error_code_of(*response), "not_found") << target;
  }
}

TEST_F(ControlServerTest, AnswersAWrongMethodWith405AndTheAllowedOne) {
  auto c = client();
  auto response = c.request("POST", "/api/v1/status", json{{"action", "start"}});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(error_code_of(*response), "method_not_allowed");
  EXPECT_EQ(response->headers["allow"], "GET");

  response = c.request("GET", "/api/v1/rooms/nursery/routine");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(response->headers["allow"], "POST");

  response = c.request("DELETE", "/api/v1/rooms/nursery/devices/night-light");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(hub_.changing_calls(), 0u);
}

TEST_F(ControlServerTest, RefusesABodyLargerThan16KiBWith413) {
  auto c = client();
  std::string huge = "{\"track\":\"" + std::string(20 * 1024, 'a') + "\"}";
  auto response = c.request_raw("POST", "/api/v1/rooms/nursery/devices/night-light", huge);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(error_code_of(*response), "body_too_large");
  EXPECT_EQ(hub_.changing_calls(), 0u);

  // The client reconnects by itself and the server still serves.
  response = c.request("GET", "/api/v1/status");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
}

TEST_F(ControlServerTest, ServesTwoRequestsOnOneKeptAliveConnection) {
  auto c = client();
  auto first = c.request("GET", "/api/v1/status");
  auto second = c.request("POST", "/api/v1/rooms/nursery/routine", json{{"action", "pause"}});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body["routine"]["state"], "paused");
  EXPECT_EQ(on_loop([this] { return server_->connections_accepted(); }), 1u);
}

// The query the hub got, as "room|routine|limit" ("*" for an unset filter).
std::string described(const RunQuery& q) {
  return fmt::format("{}|{}|{}", q.room.value_or("*"), q.routine.value_or("*"), q.limit);
}

TEST_F(ControlServerTest, PassesTheRunsFiltersAndLimitToTheHub) {
  auto c = client();
  auto response = c.request("GET", "/api/v1/runs");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  ASSERT_EQ(response->body["runs"].size(), 2u);
  EXPECT_EQ(response->body["runs"][0]["id"], 2);
  EXPECT_TRUE(response->body["runs"][0]["outcome"].is_null());
  EXPECT_EQ(response->body["runs"][1]["outcome"], "completed");

  response = c.request("GET", "/api/v1/runs?room=nursery&routine=nap&limit=5");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  ASSERT_EQ(response->body["runs"].size(), 1u);
  EXPECT_EQ(response->body["runs"][0]["routine"], "nap");

  response = c.request("GET", "/api/v1/runs?limit=1&routine=bedtime");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);

  std::vector<std::string> queries;
  for (const auto& q : hub_.runs_queries()) queries.push_back(described(q));
  EXPECT_EQ(queries, (std::vector<std::string>{"*|*|50", "nursery|nap|5", "*|bedtime|1"}));
}

TEST_F(ControlServerTest, PercentDecodesTheRunsQueryValues) {
  auto c = client();
  for (const char* target : {"/api/v1/runs?room=nurs%65ry", "/api/v1/runs?r%6Fom=nursery&",
                             "/api/v1/runs?routine=n%61p&&limit=%32"}) {
    auto response = c.request("GET", target);
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response->status, 200) << target << ": " << response->body.dump();
  }
  // '+' is a space in a query, as a browser's form sends it.
  auto response = c.request("GET", "/api/v1/runs?routine=bed+time");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body["error"]["message"], "There is no routine \"bed time\".");

  std::vector<std::string> queries;
  for (const auto& q : hub_.runs_queries()) queries.push_back(described(q));
  EXPECT_EQ(queries,
            (std::vector<std::string>{"nursery|*|50", "nursery|*|50", "*|nap|2", "*|bed time|50"}));
}

TEST_F(ControlServerTest, RefusesABadRunsQueryNamingWhatIsWrongWithoutCallingTheHub) {
  auto c = client();
  struct Bad {
    const char* query;
    const char* named;  // what the message must mention
  };
  for (auto [query, named] :
       {Bad{"limit=0", "limit"}, Bad{"limit=1001", "limit"}, Bad{"limit=abc", "abc"},
        Bad{"limit=5x", "5x"}, Bad{"limit=", "limit"}, Bad{"rooms=nursery", "rooms"},
        Bad{"room=nursery&sort=asc", "sort"}, Bad{"room=nursery&room=attic", "given twice"},
        Bad{"room=", "room"}, Bad{"routine", "routine"}, Bad{"room=%zz", "%zz"},
        Bad{"room=nursery&%", "%"}}) {
    auto response = c.request("GET", fmt::format("/api/v1/runs?{}", query));
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response->status, 400) << query;
    EXPECT_EQ(error_code_of(*response), "invalid_request") << query;
    EXPECT_THAT(response->body["error"]["message"].get<std::string>(), HasSubstr(named)) << query;
  }
  EXPECT_TRUE(hub_.runs_queries().empty());
}

TEST_F(ControlServerTest, AnswersAnUnknownRoomOrRoutineInTheRunsQueryWith404) {
  auto c = client();
  auto response = c.request("GET", "/api/v1/runs?room=attic");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(error_code_of(*response), "unknown_room");
  response = c.request("GET", "/api/v1/runs?routine=dance");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(error_code_of(*response), "unknown_routine");
}

TEST_F(ControlServerTest, ASlowPartialRequestDoesNotHoldUpOtherClients) {
  boost::asio::io_context io;
  boost::asio::local::stream_protocol::socket slow(io);
  slow.connect(boost::asio::local::stream_protocol::endpoint(socket_.string()));
  std::string partial =
      "POST /api/v1/rooms/nursery/routine HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{\"ac";
  boost::asio::write(slow, boost::asio::buffer(partial));

  auto c = client();
  auto response = c.request("GET", "/api/v1/status");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(hub_.changing_calls(), 0u);
}

TEST_F(ControlServerTest, AnswersSomethingThatIsNotHttpWith400) {
  boost::asio::io_context io;
  boost::asio::local::stream_protocol::socket raw(io);
  raw.connect(boost::asio::local::stream_protocol::endpoint(socket_.string()));
  boost::asio::write(raw, boost::asio::buffer(std::string("HELLO THERE\r\n\r\n")));
  std::string reply;
  boost::system::error_code ec;
  boost::asio::read(raw, boost::asio::dynamic_buffer(reply), ec);  // until the server closes
  EXPECT_THAT(reply, ::testing::StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(reply, HasSubstr("bad_request"));
}

TEST_F(ControlServerTest, CloseDropsOpenConnectionsAndRemovesTheSocket) {
  boost::asio::io_context io;
  boost::asio::local::stream_protocol::socket idle(io);
  idle.connect(boost::asio::local::stream_protocol::endpoint(socket_.string()));
  auto c = client();
  ASSERT_TRUE(c.request("GET", "/api/v1/status").ok());

  on_loop([this] { server_->close(); });

  EXPECT_FALSE(std::filesystem::exists(socket_));
  char byte = 0;
  boost::system::error_code ec;
  idle.read_some(boost::asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, boost::asio::error::eof);
  auto after = c.request("GET", "/api/v1/status");
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, "connect_failed");
}

// ---- idle, slow and crowding clients ----------------------------------------

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

const std::string kStatusRequest = "GET /api/v1/status HTTP/1.1\r\nHost: hub\r\n\r\n";

using ControlServerLimits = ServedHub;

TEST_F(ControlServerLimits, ClosesTheConnectionIdleLongestToMakeRoomForANewClient) {
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (std::size_t i = 0; i < options_.max_connections; ++i)
    idle.push_back(std::make_unique<RawConnection>(socket_));
  ASSERT_TRUE(wait_for_counters([&](auto c) { return c.idle == options_.max_connections; },
                                "every connection to be accepted and idle"));

  auto c = client();
  auto response = c.request("GET", "/api/v1/status");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);

  EXPECT_TRUE(idle[0]->closed_by_server(10s)) << "the oldest idle connection made room";
  EXPECT_EQ(idle[0]->received(), "") << "a connection without a request gets no answer";
  for (std::size_t i = 1; i < idle.size(); ++i)
    EXPECT_FALSE(idle[i]->closed_by_server()) << "connection " << i << " was closed too";
  EXPECT_EQ(counters().evicted, 1u);
}

TEST_F(ControlServerLimits, AnswersANewcomer503WhenEveryConnectionIsMidRequest) {
  std::vector<std::unique_ptr<RawConnection>> busy;
  for (std::size_t i = 0; i < options_.max_connections; ++i) {
    busy.push_back(std::make_unique<RawConnection>(socket_));
    ASSERT_TRUE(busy.back()->send("GET /api/v1/status HTTP/1.1\r\nHost: hub\r\n"));
  }
  ASSERT_TRUE(
      wait_for_counters([&](auto c) { return c.open == options_.max_connections && c.idle == 0; },
                        "every connection to be mid-request"));

  for (int i = 0; i < 3; ++i) {
    auto response = client().request("GET", "/api/v1/status");
    ASSERT_TRUE(response.ok()) << "newcomer " << i << ": " << response.error().message;
    EXPECT_EQ(response->status, 503);
    EXPECT_EQ(error_code_of(*response), "too_many_connections");
    EXPECT_THAT(response->body["error"]["message"].get<std::string>(), HasSubstr("64"));
    EXPECT_EQ(response->headers["retry-after"], "1");
    EXPECT_EQ(response->headers["connection"], "close");
  }
  for (std::size_t i = 0; i < busy.size(); ++i)
    EXPECT_FALSE(busy[i]->closed_by_server()) << "busy connection " << i << " was closed";
  EXPECT_EQ(counters().evicted, 0u);
  EXPECT_EQ(counters().refused, 3u);

  // One busy client finishes its request: it is answered, and is then idle,
  // so the next newcomer is served in its place.
  ASSERT_TRUE(busy[0]->send("\r\n"));
  auto answer = busy[0]->read_response();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  ASSERT_TRUE(wait_for_counters([](auto c) { return c.idle == 1; }, "the answered one to be idle"));
  auto response = client().request("GET", "/api/v1/status");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(busy[0]->closed_by_server(10s));
}

TEST_F(ControlServerLimits, AnswersEachOfFiveHundredClientsAtOnceOrServesThemInTurn) {
  // Every client sends its request at once and keeps its connection open
  // until the test ends, as a browser keeps its connections alive.
  constexpr int kClients = 500;
  std::vector<std::unique_ptr<RawConnection>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawConnection>(socket_));
    ASSERT_TRUE(clients.back()->send(kStatusRequest)) << "client " << i;
  }
  int ok = 0;
  int busy = 0;
  for (int i = 0; i < kClients; ++i) {
    auto response = clients[i]->read_response(20s);
    ASSERT_TRUE(response) << "client " << i << " was closed without an answer (got \""
                          << clients[i]->received() << "\")";
    if (response->status == 200) {
      ++ok;
    } else {
      ++busy;
      EXPECT_EQ(response->status, 503);
      EXPECT_EQ(response->error_code(), "too_many_connections");
    }
  }
  EXPECT_EQ(ok + busy, kClients);
  EXPECT_GE(ok, 64);
  auto c = counters();
  EXPECT_EQ(c.accepted, static_cast<std::size_t>(kClients));
  EXPECT_EQ(c.refused, static_cast<std::size_t>(busy));
}

TEST_F(ControlServerLimits, ClosesAHeaderTrickledAByteAtATimeAtTheHeaderDeadline) {
  ControlServerOptions o;
  o.header_timeout = 500ms;
  ASSERT_TRUE(serve_with(o));
  const std::string header =
      "GET /api/v1/status HTTP/1.1\r\nHost: hub\r\nX-Slow: " + std::string(400, 'z') + "\r\n\r\n";

  RawConnection slow(socket_);
  const auto first_byte = Steady::now();
  std::size_t sent = 0;
  bool closed = false;
  // One byte, then up to 50 ms for the server to react, and again: at this
  // pace the header would take over 20 s.
  while (!closed && sent < header.size() && Steady::now() < first_byte + 15s) {
    if (!slow.send(header.substr(sent, 1))) break;
    ++sent;
    closed = slow.closed_by_server(50ms);
  }
  if (!closed) closed = slow.closed_by_server(10s);
  const auto took = Steady::now() - first_byte;

  ASSERT_TRUE(closed) << "the server never closed the trickling client";
  EXPECT_LT(sent, header.size()) << "the header was sent in full before the server closed";
  EXPECT_GE(took, o.header_timeout);
  auto response = RawConnection::parse(slow.received());
  ASSERT_TRUE(response) << slow.received();
  EXPECT_EQ(response->status, 408);
  EXPECT_EQ(response->error_code(), "request_timeout");
  EXPECT_THAT(response->body, HasSubstr("header did not arrive within 0.5 s"));
  EXPECT_EQ(counters().timed_out, 1u);
}

TEST_F(ControlServerLimits, ClosesAKeptAliveConnectionSilentlyAtTheIdleDeadline) {
  ControlServerOptions o;
  o.idle_timeout = 300ms;
  ASSERT_TRUE(serve_with(o));

  RawConnection kept(socket_);
  // Taken before the request: the server's idle clock cannot start earlier,
  // so the close comes no sooner than the deadline after this.
  const auto asked = Steady::now();
  ASSERT_TRUE(kept.send(kStatusRequest));
  auto response = kept.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->headers["connection"], "close");

  const auto connected = Steady::now();  // likewise, before the connection exists
  RawConnection silent(socket_);  // a new connection that never sends a byte

  EXPECT_TRUE(kept.closed_by_server(10s));
  EXPECT_GE(Steady::now() - asked, o.idle_timeout);
  EXPECT_EQ(kept.received(), "") << "an idle connection is closed without an answer";
  EXPECT_TRUE(silent.closed_by_server(10s));
  EXPECT_GE(Steady::now() - connected, o.idle_timeout);
  EXPECT_EQ(silent.received(), "");
  EXPECT_EQ(counters().timed_out, 2u);
}

TEST_F(ControlServerLimits, Answers408ToABodyThatStopsArriving) {
  ControlServerOptions o;
  o.body_timeout = 300ms;
  ASSERT_TRUE(serve_with(o));
  RawConnection c(socket_);
  ASSERT_TRUE(
      c.send("POST /api/v1/rooms/nursery/routine HTTP/1.1\r\nHost: hub\r\n"
             "Content-Length: 40\r\n\r\n{\"action\""));
  EXPECT_NE(c.read_until_closed(10s), RawConnection::End::TimedOut);
  auto response = RawConnection::parse(c.received());
  ASSERT_TRUE(response) << c.received();
  EXPECT_EQ(response->status, 408);
  EXPECT_THAT(response->body, HasSubstr("body did not arrive within 0.3 s"));
  EXPECT_EQ(hub_.changing_calls(), 0u);
}

TEST_F(ControlServerLimits, AWholeRequestHasADeadlineOfItsOwn) {
  // Each part on its own would be in time; the request as a whole is not.
  ControlServerOptions o;
  o.header_timeout = 10s;
  o.body_timeout = 10s;
  o.request_timeout = 400ms;
  ASSERT_TRUE(serve_with(o));
  RawConnection c(socket_);
  const std::string request =
      "POST /api/v1/rooms/nursery/routine HTTP/1.1\r\nHost: hub\r\nContent-Length: 400\r\n\r\n" +
      std::string(400, ' ');
  std::size_t sent = 0;
  bool closed = false;
  const auto start = Steady::now();
  while (!closed && sent < request.size() && Steady::now() < start + 15s) {
    if (!c.send(request.substr(sent, 1))) break;
    ++sent;
    closed = c.closed_by_server(20ms);
  }
  if (!closed) closed = c.closed_by_server(10s);
  ASSERT_TRUE(closed);
  EXPECT_LT(sent, request.size());
  auto response = RawConnection::parse(c.received());
  ASSERT_TRUE(response) << c.received();
  EXPECT_EQ(response->status, 408);
  EXPECT_THAT(response->body, HasSubstr("the request did not arrive within 0.4 s"));
  EXPECT_EQ(hub_.changing_calls(), 0u);
}

TEST_F(ControlServerLimits,
       AClientThatNeverReadsItsAnswersDelaysNoOneAndIsClosedAtTheWriteDeadline) {
  ControlServerOptions o;
  o.write_timeout = 3s;
  ASSERT_TRUE(serve_with(o));

  // A status larger than a socket's buffer, asked for and never read: the
  // server's write of it cannot complete.
  for (int i = 0; i < 3000; ++i)
    hub_.add_room(fmt::format("room-{}", i), fmt::format("Room {}", i));
  RawConnection hog(socket_);
  ASSERT_TRUE(hog.send(kStatusRequest));
  ASSERT_TRUE(wait_for_counters([](auto c) { return c.writing == 1; },
                                "the server to be stuck writing to the client that never reads"));

  // Another client is answered while the hog is still held open.
  auto other = client();
  auto response = other.request("GET", "/api/v1/runs");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  // The server is done with the other client (it is idle, kept alive) and
  // still stuck on the hog, which is still open.
  ASSERT_TRUE(wait_for_counters([](auto c) { return c.idle == 1; }, "the other client to be idle"));
  auto during = counters();
  EXPECT_EQ(during.writing, 1u) << "the hog was closed before the other client was answered";
  EXPECT_EQ(during.timed_out, 0u);
  EXPECT_FALSE(hog.hung_up_by_server());

  // Then the hog's write deadline passes and it is closed.
  EXPECT_TRUE(wait_for_counters([](auto c) { return c.timed_out == 1 && c.writing == 0; },
                                "the hog to be closed at its write deadline", 15s));
  EXPECT_TRUE(hog.closed_by_server(10s));
}

TEST_F(ControlServerLimits, AnswersAMalformedRequestWith400AndTheReason) {
  struct Bad {
    const char* what;
    std::string request;
    const char* reason;
  };
  const std::string post = "POST /api/v1/rooms/nursery/routine HTTP/1.1\r\nHost: hub\r\n";
  for (const auto& bad : std::vector<Bad>{
           {"a chunk size that is not hex",
            post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{\"action\":\"stop\"}\r\n0\r\n\r\n",
            "bad chunk"},
           {"a version that is not HTTP/1.x", "GET /api/v1/status HTTP/x.1\r\nHost: hub\r\n\r\n",
            "bad version"},
           {"a header line without a colon", "GET /api/v1/status HTTP/1.1\r\nHost hub\r\n\r\n",
            "malformed HTTP request"},
           {"a content length that is not a number",
            post + "Content-Length: forty\r\n\r\n{\"action\":\"stop\"}", "bad Content-Length"},
           {"two different content lengths",
            post + "Content-Length: 17\r\nContent-Length: 3\r\n\r\n{\"action\":\"stop\"}",
            "Content-Length"},
           {"a body cut short by the client closing its side",
            post + "Content-Length: 40\r\n\r\n{\"action\"", "ended before it was complete"},
       }) {
    SCOPED_TRACE(bad.what);
    RawConnection c(socket_);
    ASSERT_TRUE(c.send(bad.request));
    if (std::string_view(bad.what).find("closing its side") != std::string_view::npos)
      ::shutdown(c.fd(), SHUT_WR);
    EXPECT_EQ(c.read_until_closed(10s), RawConnection::End::Closed);
    auto response = RawConnection::parse(c.received());
    ASSERT_TRUE(response) << "no answer: \"" << c.received() << "\"";
    EXPECT_EQ(response->status, 400) << response->body;
    EXPECT_EQ(response->error_code(), "bad_request") << response->body;
    EXPECT_THAT(response->body, HasSubstr(bad.reason));
    EXPECT_EQ(response->headers["content-type"], "application/json");
  }
  EXPECT_EQ(hub_.changing_calls(), 0u);
}

// Lowers this process's descriptor limit so that no new descriptor can be
// made, and restores it however the test ends.
class DescriptorLimit {
 public:
  DescriptorLimit() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    int lowest_free = ::dup(0);  // descriptors are handed out lowest first
    ::close(lowest_free);
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(lowest_free);
    ok_ = ::setrlimit(RLIMIT_NOFILE, &lowered) == 0;
  }
  ~DescriptorLimit() { restore(); }
  void restore() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

// The sanitizers' runtime checks each virtual call's object by writing it to
// a pipe(): with no descriptor left, it reports every such call as a bad
// vptr. A sanitized build cannot run code with virtual calls (Beast's parser)
// while descriptors are exhausted, so it skips the step that does.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitizerNeedsDescriptors = true;
#else
constexpr bool kSanitizerNeedsDescriptors = false;
#endif

TEST_F(ControlServerLimits, KeepsServingAndRetriesAcceptWhenOutOfDescriptorsLoggingItOnce) {
  ControlServerOptions o;
  o.accept_backoff = 20ms;
  ASSERT_TRUE(serve_with(o));
  RawConnection served(socket_);
  ASSERT_TRUE(wait_for_counters([](auto c) { return c.accepted == 1; }, "the first accept"));
  // Made now, connected once no descriptor is left for the server to accept it.
  int late = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(late, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_.c_str(), sizeof(addr.sun_path) - 1);

  DescriptorLimit limit;
  ASSERT_TRUE(limit.ok());
  ASSERT_EQ(::connect(late, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::send(late, kStatusRequest.data(), kStatusRequest.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(kStatusRequest.size()));
  ASSERT_TRUE(wait_for_counters([](auto c) { return c.accept_failures >= 3; },
                                "accept to fail a few times"));

  // The connection already accepted is served meanwhile.
  if (!kSanitizerNeedsDescriptors) {
    ASSERT_TRUE(served.send(kStatusRequest));
    auto response = served.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }

  limit.restore();
  ASSERT_TRUE(wait_for_counters([](auto c) { return c.accepted == 2; }, "accept to work again"));
  std::string answer;
  char chunk[4096];
  for (ssize_t n; answer.find("\r\n\r\n") == std::string::npos &&
                  (n = ::recv(late, chunk, sizeof chunk, 0)) > 0;)
    answer.append(chunk, static_cast<std::size_t>(n));
  ::close(late);
  EXPECT_THAT(answer, ::testing::StartsWith("HTTP/1.1 200"));

  EXPECT_EQ(logged("cannot accept control connections").size(), 1u)
      << "logged once however often it failed";
  EXPECT_THAT(logged("cannot accept control connections").at(0), HasSubstr("Too many open files"));
  EXPECT_EQ(logged("accepting control connections again").size(), 1u);
}

// ---- listening -------------------------------------------------------------

class ControlServerListen : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir_); }
  FakeHub hub_;
  MemorySink sink_;
  boost::asio::io_context io_;
  std::filesystem::path dir_ = make_temp_dir();
};

TEST_F(ControlServerListen, FailsNamingThePathAndTheReasonWhenTheDirectoryIsMissing) {
  ControlServer server(io_, hub_, Logger(sink_, "control"));
  auto path = dir_ / "missing" / "control.sock";
  auto result = server.listen(path);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "listen_failed");
  EXPECT_THAT(result.error().message, HasSubstr(path.string()));
  EXPECT_THAT(result.error().message, HasSubstr("No such file or directory"));
}

TEST_F(ControlServerListen, MakesTheSocketReadableAndWritableByOwnerAndGroupOnly) {
  ControlServer server(io_, hub_, Logger(sink_, "control"));
  auto path = dir_ / "control.sock";
  ASSERT_TRUE(server.listen(path).ok());
  auto perms = std::filesystem::status(path).permissions();
  using std::filesystem::perms;
  EXPECT_EQ(perms & perms::all,
            perms::owner_read | perms::owner_write | perms::group_read | perms::group_write);
  EXPECT_TRUE(std::filesystem::is_socket(path));
}

TEST_F(ControlServerListen, ReplacesAStaleSocketLeftByADeadDaemon) {
  auto path = dir_ / "control.sock";
  {  // a socket bound and closed without unlinking, as after kill -9
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);
  }
  ASSERT_TRUE(std::filesystem::is_socket(path));
  ControlServer server(io_, hub_, Logger(sink_, "control"));
  auto result = server.listen(path);
  EXPECT_TRUE(result.ok()) << result.error().message;
}

TEST_F(ControlServerListen, LeavesASocketAnotherServerListensOnAlone) {
  auto path = dir_ / "control.sock";
  ControlServer first(io_, hub_, Logger(sink_, "control"));
  ASSERT_TRUE(first.listen(path).ok());
  ControlServer second(io_, hub_, Logger(sink_, "control"));
  auto result = second.listen(path);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("already listening"));
  EXPECT_TRUE(std::filesystem::is_socket(path));
}

TEST_F(ControlServerListen, RefusesToReplaceAFileThatIsNotASocket) {
  auto path = dir_ / "control.sock";
  { std::ofstream(path) << "precious"; }
  ControlServer server(io_, hub_, Logger(sink_, "control"));
  auto result = server.listen(path);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("not a socket"));
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
}

TEST_F(ControlServerListen, DestroyingTheServerRemovesTheSocket) {
  auto path = dir_ / "control.sock";
  {
    ControlServer server(io_, hub_, Logger(sink_, "control"));
    ASSERT_TRUE(server.listen(path).ok());
    ASSERT_TRUE(std::filesystem::exists(path));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace nursery::testing
