// The only translation unit of the server that includes Beast (it is slow to
// compile): the transport. What each request means is in control_routes.cpp.
#include "control_server.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <string_view>
#include <system_error>

#include "control_routes.hpp"
#include "daemon/api_json/api_json.hpp"

namespace nursery {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Socket = asio::local::stream_protocol::socket;
using Acceptor = asio::local::stream_protocol::acceptor;
using Endpoint = asio::local::stream_protocol::endpoint;
using boost::system::error_code;

// Every client is a trusted local admin tool; the cap only stops a runaway
// script from exhausting file descriptors.
constexpr std::size_t kMaxConnections = 64;
constexpr std::uint32_t kMaxHeader = 8 * 1024;
// After a failed accept (EMFILE, say), wait before trying again rather than spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(200);

std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

Error listen_error(const std::filesystem::path& path, std::string_view reason) {
  return Error{"listen_failed",
               fmt::format("cannot listen on control socket {}: {}", path.string(), reason), 500};
}

http::response<http::string_body> make_response(const ApiReply& reply, unsigned version,
                                                bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
  res.set(http::field::server, "nurseryd");
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  if (!reply.allow.empty()) res.set(http::field::allow, reply.allow);
  res.body() = dump_json(reply.body) + "\n";
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

// The answer to a request refused for its size while it was being read.
std::optional<ApiReply> oversize_reply(const boost::system::error_code& ec) {
  if (ec == http::error::body_limit)
    return api_error(413, "body_too_large",
                     fmt::format("the request body is larger than {} bytes", kMaxRequestBody));
  if (ec == http::error::header_limit)
    return api_error(431, "header_too_large",
                     fmt::format("the request header is larger than {} bytes", kMaxHeader));
  return std::nullopt;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

namespace detail {

struct ControlServerState {
  ControlServerState(asio::io_context& io, HubApi& h, Logger l)
      : hub(&h), log(std::move(l)), acceptor(io) {}

  HubApi* hub;  // null once closed: nothing may reach the hub after close()
  Logger log;
  Acceptor acceptor;
  std::filesystem::path path;  // the socket file we created, to unlink on close
  bool listening = false;
  bool closed = false;
  std::map<std::uint64_t, Socket*> sessions;  // each owned by its coroutine
  std::uint64_t next_session = 0;
  std::size_t accepted = 0;
};

}  // namespace detail

namespace {

using State = detail::ControlServerState;

void log_unexpected(const Logger& log, std::string_view what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log.error("{}: {}", what, ex.what());
  } catch (...) {
    log.error("{}: unknown exception", what);
  }
}

// Writes one reply; true when the connection may carry another request.
asio::awaitable<bool> write_reply(Socket& socket, ApiReply reply, unsigned version,
                                  bool keep_alive) {
  auto res = make_response(reply, version, keep_alive);
  error_code ec;
  co_await http::async_write(socket, res, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec && keep_alive;
}

// Serves one connection: requests in sequence (keep-alive) until the client
// closes, an error, or close(). The frame owns the socket; the state's
// registry only points at it so that close() can cancel it.
asio::awaitable<void> serve(std::shared_ptr<State> st, Socket socket) {
  const std::uint64_t id = st->next_session++;
  st->sessions.emplace(id, &socket);
  struct Unregister {
    State& st;
    std::uint64_t id;
    ~Unregister() { st.sessions.erase(id); }
  } unregister{*st, id};

  try {
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(kMaxHeader);
      parser.body_limit(kMaxRequestBody);
      error_code ec;
      co_await http::async_read_header(socket, buffer, parser,
                                       asio::redirect_error(asio::use_awaitable, ec));
      if (st->closed) break;
      if (auto refusal = oversize_reply(ec)) {
        co_await write_reply(socket, *refusal, 11, false);
        break;
      }
      if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
          ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
          ec == asio::error::eof)
        break;
      if (ec) {
        co_await write_reply(
            socket,
            api_error(400, "bad_request", fmt::format("not an HTTP request: {}", ec.message())), 11,
            false);
        break;
      }

      if (auto expect = sv(parser.get()[http::field::expect]); iequals(expect, "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
        co_await http::async_write(socket, go_on, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      }
      if (!parser.is_done()) {
        co_await http::async_read(socket, buffer, parser,
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (st->closed) break;
        if (auto refusal = oversize_reply(ec)) {
          co_await write_reply(socket, *refusal, parser.get().version(), false);
          break;
        }
        if (ec) break;  // the client went away mid-body
      }

      const auto& req = parser.get();
      std::string_view method = sv(req.method_string());
      std::string_view target = sv(req.target());
      ApiReply reply = handle_api_request(*st->hub, method, target, req.body());
      st->log.debug("{} {} -> {}", method, target, reply.status);
      if (!co_await write_reply(socket, reply, req.version(), req.keep_alive())) break;
      if (st->closed) break;
    }
  } catch (const std::exception& e) {
    st->log.error("control connection failed: {}", e.what());
  }
  error_code ignored;
  socket.shutdown(Socket::shutdown_both, ignored);
  socket.close(ignored);
}

asio::awaitable<void> accept_loop(std::shared_ptr<State> st) {
  auto executor = co_await asio::this_coro::executor;
  while (!st->closed) {
    Socket socket(executor);
    error_code ec;
    co_await st->acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (st->closed || ec == asio::error::operation_aborted) break;
    if (ec) {
      st->log.warning("cannot accept a control connection: {}", ec.message());
      asio::steady_timer pause(executor, kAcceptRetryDelay);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    ++st->accepted;
    if (st->sessions.size() >= kMaxConnections) {
      st->log.warning("refusing a control connection: {} already open", kMaxConnections);
      socket.close(ec);
      continue;
    }
    asio::co_spawn(executor, serve(st, std::move(socket)), [st](std::exception_ptr e) {
      log_unexpected(st->log, "control connection", e);
    });
  }
}

}  // namespace

ControlServer::ControlServer(asio::io_context& io, HubApi& hub, Logger log)
    : io_(io), state_(std::make_shared<State>(io, hub, std::move(log))) {}

ControlServer::~ControlServer() { close(); }

Status ControlServer::listen(const std::filesystem::path& socket_path) {
  auto& st = *state_;
  if (st.closed) return listen_error(socket_path, "the control server has been closed");
  if (st.listening) return listen_error(socket_path, "already listening");
  if (socket_path.native().size() >= sizeof(sockaddr_un::sun_path))
    return listen_error(socket_path, fmt::format("the path is longer than the {} bytes a UNIX "
                                                 "socket path may have",
                                                 sizeof(sockaddr_un::sun_path) - 1));
  const Endpoint endpoint(socket_path.native());

  namespace fs = std::filesystem;
  std::error_code fs_ec;
  auto existing = fs::symlink_status(socket_path, fs_ec);
  if (fs::exists(existing)) {
    if (!fs::is_socket(existing))
      return listen_error(socket_path, "the path exists and is not a socket");
    // A socket file outlives a killed daemon; one that still accepts is alive.
    Socket probe(io_);
    error_code ec;
    probe.open(asio::local::stream_protocol(), ec);
    if (!ec) probe.non_blocking(true, ec);
    if (!ec) probe.connect(endpoint, ec);
    if (!ec || ec == asio::error::would_block || ec == asio::error::try_again)
      return listen_error(socket_path, "another process (nurseryd?) is already listening on it");
    if (!fs::remove(socket_path, fs_ec) && fs_ec)
      return listen_error(socket_path,
                          fmt::format("cannot remove the stale socket: {}", fs_ec.message()));
    st.log.info("removed stale control socket {}", socket_path.string());
  }

  error_code ec;
  st.acceptor.open(asio::local::stream_protocol(), ec);
  if (!ec) st.acceptor.bind(endpoint, ec);
  if (ec) {
    error_code ignored;
    st.acceptor.close(ignored);
    return listen_error(socket_path, ec.message());
  }
  st.path = socket_path;
  fs::permissions(socket_path,
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                      fs::perms::group_write,
                  fs::perm_options::replace, fs_ec);
  if (!fs_ec) st.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (fs_ec || ec) {
    std::string reason =
        fs_ec ? fmt::format("cannot set its mode to 0660: {}", fs_ec.message()) : ec.message();
    error_code ignored;
    st.acceptor.close(ignored);
    fs::remove(socket_path, fs_ec);
    st.path.clear();
    return listen_error(socket_path, reason);
  }
  st.listening = true;
  asio::co_spawn(io_, accept_loop(state_), [st = state_](std::exception_ptr e) {
    log_unexpected(st->log, "control accept", e);
  });
  st.log.info("control API listening on {}", socket_path.string());
  return Ok{};
}

void ControlServer::close() {
  auto& st = *state_;
  if (st.closed) return;
  st.closed = true;
  st.hub = nullptr;
  error_code ignored;
  st.acceptor.close(ignored);
  for (auto& [id, socket] : st.sessions) {
    socket->shutdown(Socket::shutdown_both, ignored);
    socket->close(ignored);
  }
  if (!st.path.empty()) {
    std::error_code fs_ec;
    std::filesystem::remove(st.path, fs_ec);
    st.path.clear();
  }
}

std::size_t ControlServer::connections_accepted() const { return state_->accepted; }
std::size_t ControlServer::connections_open() const { return state_->sessions.size(); }

}  // namespace nursery
