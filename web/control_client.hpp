#pragma once
// A small blocking client of the control API over its UNIX socket, for
// nurseryctl and for tests. One connection, kept alive across requests and
// re-opened once if the server has dropped it.
// Thread: any one thread, but never the daemon's loop thread (it blocks until
// the server answers). Never throws: failures are Errors with code
// "connect_failed" (nothing answers on the socket), "timeout", or
// "transport_failed" (the connection broke or the answer was not JSON).

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/expected.hpp"

namespace nursery {

struct ControlResponse {
  int status = 0;
  nlohmann::json body;                         // null when the body was empty
  std::map<std::string, std::string> headers;  // names in lower case
  std::string text;  // the body as sent (what a text/csv answer is read from)
};

class ControlClient {
 public:
  explicit ControlClient(std::filesystem::path socket,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  const std::filesystem::path& socket_path() const;

  // Sends one request and waits for the answer; each step (connect, write,
  // read) may take at most the timeout. Any HTTP status is a ControlResponse:
  // a 4xx is the server refusing, not a failure of the client.
  Expected<ControlResponse> request(std::string_view method, std::string_view target,
                                    std::optional<nlohmann::json> body = std::nullopt);

  // Sends `raw` bytes as the body unparsed (tests send malformed JSON with it).
  Expected<ControlResponse> request_raw(std::string_view method, std::string_view target,
                                        std::string body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nursery
