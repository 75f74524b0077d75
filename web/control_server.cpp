// The only translation unit of the server that includes Beast (it is slow to
// compile): the transport. What each request means is in control_routes.cpp.
//
// Each connection is two coroutines on the loop: serve() reads requests and
// writes answers; watch() holds the connection's one deadline and, when it
// passes, cancels whatever serve() is waiting for. serve() then decides what
// the client gets (a 408, or nothing) from which limit it was. Nothing waits
// on anything but the socket and the timer, so one stuck client costs only
// its own coroutines.
#include "control_server.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <array>
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
using Steady = std::chrono::steady_clock;
using boost::system::error_code;
using Response = http::response<http::string_body>;

constexpr std::uint32_t kMaxHeader = 8 * 1024;
constexpr auto kNever = Steady::time_point::max();

std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

auto redirect(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

Steady::time_point deadline_after(std::chrono::milliseconds d) {
  const auto now = Steady::now();
  if (d.count() <= 0) return now;
  if (d >= std::chrono::duration_cast<std::chrono::milliseconds>(kNever - now)) return kNever;
  return now + d;
}

std::string seconds_text(std::chrono::milliseconds d) {
  return fmt::format("{:g} s", std::chrono::duration<double>(d).count());
}

Error listen_error(const std::filesystem::path& path, std::string_view reason) {
  return Error{"listen_failed",
               fmt::format("cannot listen on control socket {}: {}", path.string(), reason), 500};
}

Response make_response(const ApiReply& reply, unsigned version, bool keep_alive) {
  Response res{static_cast<http::status>(reply.status), version};
  res.set(http::field::server, "nurseryd");
  const bool text = !reply.content_type.empty();
  res.set(http::field::content_type, text ? reply.content_type : "application/json");
  res.set(http::field::cache_control, "no-store");
  if (!reply.allow.empty()) res.set(http::field::allow, reply.allow);
  res.body() = text ? reply.text : dump_json(reply.body) + "\n";
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Where a connection is in its request.
enum class Phase { Idle, Header, Body, Handling, Writing, Closing };
// Which limit a connection's deadline is.
enum class Limit { None, Idle, Header, Body, Request, Write, Linger };

// One accepted connection, shared by its two coroutines and the registry.
struct Connection {
  Connection(Socket s, std::uint64_t i, bool r)
      : socket(std::move(s)), timer(socket.get_executor()), id(i), refusing(r) {}

  Socket socket;
  asio::steady_timer timer;  // watch() waits on it for `deadline`
  const std::uint64_t id;    // accept order
  const bool refusing;       // accepted only to be answered 503
  Phase phase = Phase::Idle;
  Steady::time_point idle_since = Steady::now();
  Steady::time_point deadline = kNever;
  Limit limit = Limit::None;    // what `deadline` is
  Limit expired = Limit::None;  // the limit that passed, until serve() has dealt with it
  bool stopped = false;         // closed by the server (eviction, close()): end at once
};

// Sets the connection's deadline. watch() re-arms itself when a later one
// comes; an earlier one must wake it.
void arm(Connection& c, Steady::time_point at, Limit limit) {
  c.deadline = at;
  c.limit = limit;
  if (at < c.timer.expiry()) c.timer.cancel();
}

// The earlier of a phase's own deadline and the whole request's.
void arm_phase(Connection& c, Steady::time_point phase_at, Limit phase,
               Steady::time_point request_at) {
  if (request_at < phase_at)
    arm(c, request_at, Limit::Request);
  else
    arm(c, phase_at, phase);
}

asio::awaitable<void> watch(std::shared_ptr<Connection> c) {
  while (!c->stopped) {
    if (Steady::now() >= c->deadline) {
      c->expired = c->limit;
      c->deadline = kNever;
      c->limit = Limit::None;
      error_code ignored;
      c->socket.cancel(ignored);  // serve() wakes, sees `expired`
      continue;
    }
    c->timer.expires_at(c->deadline);
    error_code ec;
    co_await c->timer.async_wait(redirect(ec));
  }
}

// The 408 for a request that did not arrive in time.
ApiReply timeout_reply(Limit limit, const ControlServerOptions& o) {
  std::string what;
  switch (limit) {
    case Limit::Header:
      what = fmt::format("the request header did not arrive within {}",
                         seconds_text(o.header_timeout));
      break;
    case Limit::Body:
      what = fmt::format("the request body did not arrive within {}", seconds_text(o.body_timeout));
      break;
    default:
      what = fmt::format("the request did not arrive within {}", seconds_text(o.request_timeout));
      break;
  }
  return api_error(408, "request_timeout", std::move(what));
}

// The final answer to a request that could not be read, if it deserves one:
// nullopt when the client has simply gone (or never started a request).
std::optional<ApiReply> unreadable_reply(const error_code& ec) {
  if (ec == http::error::body_limit)
    return api_error(413, "body_too_large",
                     fmt::format("the request body is larger than {} bytes", kMaxRequestBody));
  if (ec == http::error::header_limit)
    return api_error(431, "header_too_large",
                     fmt::format("the request header is larger than {} bytes", kMaxHeader));
  if (ec == http::error::end_of_stream) return std::nullopt;
  // The client closed its side mid-request; it may still be reading.
  if (ec == http::error::partial_message)
    return api_error(400, "bad_request", "the request ended before it was complete");
  if (ec.category() == http::make_error_code(http::error::bad_method).category())
    return api_error(400, "bad_request", fmt::format("malformed HTTP request: {}", ec.message()));
  return std::nullopt;  // the socket failed: nobody to answer
}

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

}  // namespace

namespace detail {

struct ControlServerState {
  ControlServerState(asio::io_context& io, HubApi& h, Logger l, ControlServerOptions o)
      : hub(&h), log(std::move(l)), options(o), acceptor(io), wakeup(io) {}

  HubApi* hub;  // null once closed: nothing may reach the hub after close()
  Logger log;
  const ControlServerOptions options;
  Acceptor acceptor;
  // The accept loop waits on it when there is no room for a newcomer, or
  // after a failed accept; connections that free room cancel it.
  asio::steady_timer wakeup;
  enum class Waiting { None, Room, Backoff } waiting = Waiting::None;
  std::filesystem::path path;  // the socket file we created, to unlink on close
  bool listening = false;
  bool closed = false;
  std::map<std::uint64_t, std::shared_ptr<Connection>> connections;  // by accept order
  std::uint64_t next_id = 0;
  ControlServerCounters totals;  // the cumulative counters
  std::size_t failed_accepts_in_spell = 0;
  std::size_t refused_in_spell = 0;
};

}  // namespace detail

namespace {

using State = detail::ControlServerState;

// A connection freed room (`freed_fd`: it closed) or may have (it is idle).
void wake_accept(State& st, bool freed_fd) {
  if (st.waiting == State::Waiting::Room || (st.waiting == State::Waiting::Backoff && freed_fd))
    st.wakeup.cancel();
}

void close_socket(Connection& c) {
  error_code ignored;
  c.socket.shutdown(Socket::shutdown_both, ignored);
  c.socket.close(ignored);
}

// Called once by the coroutine that owns the connection, as it ends.
void end_connection(State& st, Connection& c) {
  c.stopped = true;
  c.timer.cancel();
  close_socket(c);
  if (auto it = st.connections.find(c.id); it != st.connections.end() && it->second.get() == &c)
    st.connections.erase(it);
  wake_accept(st, true);
}

void become_idle(State& st, Connection& c) {
  c.phase = Phase::Idle;
  c.idle_since = Steady::now();
  c.expired = Limit::None;
  arm(c, deadline_after(st.options.idle_timeout), Limit::Idle);
  wake_accept(st, false);
}

std::size_t served_count(const State& st) {
  std::size_t n = 0;
  for (const auto& [id, c] : st.connections) n += c->refusing ? 0 : 1;
  return n;
}

// The connection idle the longest that has nothing unread: one whose next
// request has already arrived is not idle, whatever its phase says.
Connection* find_evictable(State& st) {
  Connection* oldest = nullptr;
  for (auto& [id, c] : st.connections) {
    if (c->refusing || c->stopped || c->phase != Phase::Idle) continue;
    error_code ec;
    if (c->socket.available(ec) > 0 || ec) continue;
    if (!oldest || c->idle_since < oldest->idle_since) oldest = c.get();
  }
  return oldest;
}

bool has_room(State& st) {
  if (served_count(st) < st.options.max_connections) return true;
  if (st.connections.size() - served_count(st) < st.options.max_refusing) return true;
  return find_evictable(st) != nullptr;
}

void evict(State& st, Connection& c) {
  ++st.totals.evicted;
  st.log.debug("closing idle control connection {} to make room", c.id);
  c.stopped = true;
  c.timer.cancel();
  close_socket(c);
  st.connections.erase(c.id);
}

// Shuts our side and reads what the client still sends until it closes or
// the connection's deadline passes, so that it reads the answer, not a reset.
asio::awaitable<void> drain(Connection& c) {
  error_code ec;
  c.socket.shutdown(Socket::shutdown_send, ec);
  std::array<char, 2048> scratch;
  while (!ec && !c.stopped && c.expired == Limit::None)
    co_await c.socket.async_read_some(asio::buffer(scratch), redirect(ec));
}

void start_closing(State& st, Connection& c) {
  c.phase = Phase::Closing;
  c.expired = Limit::None;
  arm(c, deadline_after(st.options.linger_timeout), Limit::Linger);
}

// Closes after an answer that said Connection: close.
asio::awaitable<void> linger(State& st, Connection& c) {
  start_closing(st, c);
  co_await drain(c);
}

// Writes a final answer (it says Connection: close) and drains, both within
// one linger_timeout.
asio::awaitable<void> answer_and_close(State& st, Connection& c, Response res) {
  start_closing(st, c);
  res.keep_alive(false);
  error_code ec;
  co_await http::async_write(c.socket, res, redirect(ec));
  if (ec || c.stopped || c.expired != Limit::None) co_return;
  co_await drain(c);
}

// After a read of a request: true when it may go on. Otherwise the
// connection ends, with `answer` as its final answer if the client gets one:
// a 408 when a deadline passed, a 4xx when the request cannot be read,
// nothing when the client has gone.
bool request_readable(State& st, Connection& c, const error_code& ec,
                      std::optional<ApiReply>& answer) {
  if (c.expired != Limit::None) {
    ++st.totals.timed_out;
    answer = timeout_reply(c.expired, st.options);
    st.log.debug("control connection {}: {}", c.id, answer->body["error"]["message"].dump());
    return false;
  }
  if (!ec) return true;
  answer = unreadable_reply(ec);
  return false;
}

// Serves one connection: requests in sequence (keep-alive) until the client
// closes, a deadline passes, an error, eviction or close().
asio::awaitable<void> serve(std::shared_ptr<State> st, std::shared_ptr<Connection> c) {
  const ControlServerOptions& o = st->options;
  try {
    boost::beast::flat_buffer buffer;
    for (;;) {
      error_code ec;
      if (buffer.size() == 0) {
        become_idle(*st, *c);
        co_await c->socket.async_wait(Socket::wait_read, redirect(ec));
        if (c->stopped) break;
        if (c->expired != Limit::None) {  // no request: nothing to answer
          ++st->totals.timed_out;
          st->log.debug("closing control connection {}: idle for {}", c->id,
                        seconds_text(o.idle_timeout));
          break;
        }
        if (ec) break;
      }

      // A request has begun: its first byte is here.
      const auto request_deadline = deadline_after(o.request_timeout);
      c->phase = Phase::Header;
      arm_phase(*c, deadline_after(o.header_timeout), Limit::Header, request_deadline);
      http::request_parser<http::string_body> parser;
      parser.header_limit(kMaxHeader);
      parser.body_limit(kMaxRequestBody);
      co_await http::async_read_header(c->socket, buffer, parser, redirect(ec));

      if (c->stopped) break;
      if (std::optional<ApiReply> answer; !request_readable(*st, *c, ec, answer)) {
        if (answer) co_await answer_and_close(*st, *c, make_response(*answer, 11, false));
        break;
      }

      if (!parser.is_done() && iequals(sv(parser.get()[http::field::expect]), "100-continue")) {
        arm_phase(*c, deadline_after(o.write_timeout), Limit::Write, request_deadline);
        http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
        co_await http::async_write(c->socket, go_on, redirect(ec));
        if (c->stopped || ec) break;
        if (c->expired != Limit::None) {
          ++st->totals.timed_out;
          break;
        }
      }
      if (!parser.is_done()) {
        c->phase = Phase::Body;
        arm_phase(*c, deadline_after(o.body_timeout), Limit::Body, request_deadline);
        co_await http::async_read(c->socket, buffer, parser, redirect(ec));
        if (c->stopped) break;
        if (std::optional<ApiReply> answer; !request_readable(*st, *c, ec, answer)) {
          if (answer)
            co_await answer_and_close(*st, *c,
                                      make_response(*answer, parser.get().version(), false));
          break;
        }
      }

      c->phase = Phase::Handling;
      const auto& req = parser.get();
      const std::string_view method = sv(req.method_string());
      const std::string_view target = sv(req.target());
      ApiReply reply = handle_api_request(*st->hub, method, target, req.body());
      st->log.debug("{} {} -> {}", method, target, reply.status);
      const bool keep_alive = req.keep_alive();

      c->phase = Phase::Writing;
      arm_phase(*c, deadline_after(o.write_timeout), Limit::Write, request_deadline);
      auto res = make_response(reply, req.version(), keep_alive);
      co_await http::async_write(c->socket, res, redirect(ec));
      if (c->stopped) break;
      if (c->expired != Limit::None) {  // the client does not take its answer
        ++st->totals.timed_out;
        st->log.debug(
            "closing control connection {}: its answer was not read within {}", c->id,
            seconds_text(c->expired == Limit::Write ? o.write_timeout : o.request_timeout));
        break;
      }
      if (ec) break;
      if (!keep_alive) {
        co_await linger(*st, *c);
        break;
      }
    }
  } catch (const std::exception& e) {
    st->log.error("control connection failed: {}", e.what());
  }
  end_connection(*st, *c);
}

// Answers a newcomer there is no room for.
asio::awaitable<void> refuse(std::shared_ptr<State> st, std::shared_ptr<Connection> c) {
  const ControlServerOptions& o = st->options;
  try {
    auto res = make_response(
        api_error(503, "too_many_connections",
                  fmt::format("nurseryd is serving {} connections, its limit, and none is idle; "
                              "try again in {} s",
                              o.max_connections, o.retry_after.count())),
        11, false);
    res.set(http::field::retry_after, std::to_string(o.retry_after.count()));
    co_await answer_and_close(*st, *c, std::move(res));
  } catch (const std::exception& e) {
    st->log.error("control connection failed: {}", e.what());
  }
  end_connection(*st, *c);
}

void admit(const std::shared_ptr<State>& st, Socket socket) {
  const ControlServerOptions& o = st->options;
  bool serve_it = served_count(*st) < o.max_connections;
  if (!serve_it) {
    if (Connection* victim = find_evictable(*st)) {
      evict(*st, *victim);
      serve_it = true;
    }
  }
  if (serve_it && st->refused_in_spell > 0) {
    st->log.notice("serving new control connections again, after answering {} with 503",
                   st->refused_in_spell);
    st->refused_in_spell = 0;
  }
  if (!serve_it) {
    ++st->totals.refused;
    if (st->refused_in_spell++ == 0)
      st->log.warning("{} control connections are busy, none idle: answering newcomers 503",
                      o.max_connections);
  }
  auto c = std::make_shared<Connection>(std::move(socket), st->next_id++, !serve_it);
  st->connections.emplace(c->id, c);
  auto executor = c->socket.get_executor();
  asio::co_spawn(executor, watch(c), [st](std::exception_ptr e) {
    log_unexpected(st->log, "control connection deadline", e);
  });
  auto done = [st](std::exception_ptr e) { log_unexpected(st->log, "control connection", e); };
  if (serve_it)
    asio::co_spawn(executor, serve(st, c), done);
  else
    asio::co_spawn(executor, refuse(st, c), done);
}

asio::awaitable<void> accept_loop(std::shared_ptr<State> st) {
  auto executor = co_await asio::this_coro::executor;
  while (!st->closed) {
    error_code ec;
    if (!has_room(*st)) {
      // Newcomers wait in the listen backlog until a connection goes idle or
      // closes: late, not dropped.
      st->waiting = State::Waiting::Room;
      st->wakeup.expires_at(kNever);
      co_await st->wakeup.async_wait(redirect(ec));
      st->waiting = State::Waiting::None;
      continue;
    }
    Socket socket(executor);
    co_await st->acceptor.async_accept(socket, redirect(ec));
    if (st->closed || ec == asio::error::operation_aborted) break;
    if (ec) {
      // EMFILE and the like: the connection stays in the backlog. Try again
      // soon, or when a connection closes and gives back a descriptor.
      ++st->totals.accept_failures;
      if (st->failed_accepts_in_spell++ == 0)
        st->log.warning("cannot accept control connections: {}; retrying every {} until it works",
                        ec.message(), seconds_text(st->options.accept_backoff));
      st->waiting = State::Waiting::Backoff;
      st->wakeup.expires_after(st->options.accept_backoff);
      co_await st->wakeup.async_wait(redirect(ec));
      st->waiting = State::Waiting::None;
      continue;
    }
    if (st->failed_accepts_in_spell > 0) {
      st->log.notice("accepting control connections again after {} failed attempts",
                     st->failed_accepts_in_spell);
      st->failed_accepts_in_spell = 0;
    }
    ++st->totals.accepted;
    admit(st, std::move(socket));
  }
}

}  // namespace

ControlServer::ControlServer(asio::io_context& io, HubApi& hub, Logger log,
                             ControlServerOptions options)
    : io_(io), state_(std::make_shared<State>(io, hub, std::move(log), options)) {}

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
  st.wakeup.cancel();
  for (auto& [id, c] : st.connections) {
    c->stopped = true;
    c->timer.cancel();
    close_socket(*c);
  }
  st.connections.clear();
  if (!st.path.empty()) {
    std::error_code fs_ec;
    std::filesystem::remove(st.path, fs_ec);
    st.path.clear();
  }
}

const ControlServerOptions& ControlServer::options() const { return state_->options; }

ControlServerCounters ControlServer::counters() const {
  ControlServerCounters out = state_->totals;
  for (const auto& [id, c] : state_->connections) {
    if (c->refusing) {
      ++out.refusing;
      continue;
    }
    ++out.open;
    if (c->phase == Phase::Idle) ++out.idle;
    if (c->phase == Phase::Writing) ++out.writing;
  }
  return out;
}

std::size_t ControlServer::connections_accepted() const { return state_->totals.accepted; }
std::size_t ControlServer::connections_open() const { return state_->connections.size(); }

}  // namespace nursery
