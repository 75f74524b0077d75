// The control API over its UNIX socket, against a fake hub: every answer a
// client can get, and that a refused request never reaches the hub.
#include "web/control_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <fstream>

#include "fake_hub.hpp"

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
  EXPECT_EQ(calls[0].command.values.on, true);
  EXPECT_EQ(calls[0].command.values.brightness, 0.8);
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
