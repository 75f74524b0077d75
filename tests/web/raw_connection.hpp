#pragma once
// A raw client connection to a UNIX stream socket, for tests that must behave
// as no well-mannered HTTP client would: stay silent, trickle a header, never
// read an answer. Plain POSIX (poll), no Asio, so that it compiles fast and
// works the same against the fake hub's server and the real nurseryd.
//
// Every wait is bounded by the timeout the caller gives; none sleeps for a
// fixed time. Thread: the test's thread. Setup failures (socket, connect)
// throw std::runtime_error; everything after is a return value.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nursery::testing {

// An HTTP response as read off the wire.
struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  std::string error_code() const {
    auto j = json();
    if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "<no error>";
    return j["error"].value("code", "<no code>");
  }
};

class RawConnection {
 public:
  using Millis = std::chrono::milliseconds;
  using Steady = std::chrono::steady_clock;

  // How a wait for the server ended.
  enum class End { Open, Closed, Reset, TimedOut };

  explicit RawConnection(const std::filesystem::path& socket) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      int e = errno;
      ::close(fd_);
      throw std::runtime_error("connect " + socket.string() + ": " + std::strerror(e));
    }
  }
  ~RawConnection() { close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }

  // Writes all of `bytes`, waiting at most `timeout`; false if the server
  // closed, reset, or did not take them in time.
  bool send(std::string_view bytes, Millis timeout = std::chrono::seconds(10)) {
    const auto deadline = Steady::now() + timeout;
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!wait_for(POLLOUT, deadline)) return false;
        continue;
      }
      return false;
    }
    return true;
  }

  // Writes as much of `bytes` as the socket takes without waiting.
  std::size_t send_without_waiting(std::string_view bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n =
          ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break;
      }
    }
    return sent;
  }

  // Waits up to `timeout` for the server to close the connection, keeping
  // whatever it sent before. End::Open is never returned.
  End read_until_closed(Millis timeout) {
    const auto deadline = Steady::now() + timeout;
    for (;;) {
      End end = read_available();
      if (end != End::Open) return end;
      if (!wait_for(POLLIN, deadline)) return End::TimedOut;
    }
  }

  // Reads what has arrived without waiting; End::Open while the connection
  // is still open, otherwise how it ended.
  End read_available() {
    char chunk[16384];
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n > 0) {
        received_.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) return End::Closed;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return End::Open;
      return End::Reset;
    }
  }

  // Reads until one whole response (its header and Content-Length bytes of
  // body) has arrived; nullopt if the connection ended first or the timeout
  // passed. Bytes after it stay for the next call.
  std::optional<RawResponse> read_response(Millis timeout = std::chrono::seconds(10)) {
    const auto deadline = Steady::now() + timeout;
    for (;;) {
      if (auto response = take_response()) return response;
      End end = read_available();
      if (auto response = take_response()) return response;
      if (end != End::Open) return std::nullopt;
      if (!wait_for(POLLIN, deadline)) return std::nullopt;
    }
  }

  // True when the server has closed its end (EOF or a reset is readable)
  // within `timeout`; data that arrives meanwhile is kept in received().
  bool closed_by_server(Millis timeout = Millis(0)) {
    const auto deadline = Steady::now() + timeout;
    for (;;) {
      if (read_available() != End::Open) return true;
      if (!wait_for(POLLIN, deadline)) return false;
    }
  }

  // True when the server has closed its end, without reading anything (so
  // that a server blocked writing to us stays blocked).
  bool hung_up_by_server() const {
    pollfd p{fd_, POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  }

  const std::string& received() const { return received_; }

  // Parses the first response in `text`; nullopt if it is not complete.
  static std::optional<RawResponse> parse(std::string_view text, std::size_t* used = nullptr) {
    auto end = text.find("\r\n\r\n");
    if (end == std::string_view::npos) return std::nullopt;
    RawResponse r;
    std::string_view head = text.substr(0, end);
    auto line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    auto space = status_line.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    r.status = std::atoi(std::string(status_line.substr(space + 1, 3)).c_str());
    std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      auto next = head.find("\r\n", pos);
      std::string_view field = head.substr(pos, next == std::string_view::npos ? next : next - pos);
      auto colon = field.find(':');
      if (colon != std::string_view::npos) {
        std::string name(field.substr(0, colon));
        for (auto& c : name)
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        std::string_view value = field.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        r.headers[name] = std::string(value);
      }
      if (next == std::string_view::npos) break;
      pos = next + 2;
    }
    std::size_t length = 0;
    if (auto it = r.headers.find("content-length"); it != r.headers.end())
      length = static_cast<std::size_t>(std::stoul(it->second));
    if (text.size() < end + 4 + length) return std::nullopt;
    r.body = std::string(text.substr(end + 4, length));
    if (used) *used = end + 4 + length;
    return r;
  }

 private:
  std::optional<RawResponse> take_response() {
    std::size_t used = 0;
    auto response = parse(received_, &used);
    if (response) received_.erase(0, used);
    return response;
  }

  // Polls for `events` until `deadline`; false when it passed first.
  bool wait_for(short events, Steady::time_point deadline) {
    for (;;) {
      auto left = std::chrono::duration_cast<Millis>(deadline - Steady::now()).count();
      if (left < 0) return false;
      pollfd p{fd_, events, 0};
      int r = ::poll(&p, 1, static_cast<int>(left));
      if (r > 0) return true;
      if (r == 0) return false;
      if (errno != EINTR) return true;  // let the caller's read report it
    }
  }

  int fd_ = -1;
  std::string received_;
};

}  // namespace nursery::testing
