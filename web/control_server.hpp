#pragma once
// The control API (HTTP/1.1 + JSON, see control_routes.hpp) on a UNIX stream
// socket in the runtime directory: what nurseryctl talks to.
// Thread: construct, listen, close, read the counters and destroy on the loop
// thread; every connection is served on that same io_context, calling the
// HubApi directly. Nothing here blocks: a client that is idle, slow or gone
// costs a file descriptor until one of its deadlines passes, never the loop.
// Nothing here throws; failures are returned (listen) or logged.
// Beast stays inside control_server.cpp: this header pulls in no Asio I/O
// objects beyond the io_context.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>

#include "daemon/hub_api.hpp"
#include "daemon/log.hpp"
#include "daemon/run_store.hpp"

namespace nursery {

// What one client may cost the server. The defaults suit nurseryctl and, later,
// a panel on the home network; tests pass short ones.
//
// A request's clock starts at its first byte. Until then the connection is
// idle: a new one that has sent nothing, or one kept alive between requests.
struct ControlServerOptions {
  // Connections served at once. When a client arrives and this many are open,
  // the connection idle the longest is closed (without an answer: it has no
  // request) to make room; when none is idle, the newcomer is answered
  // `503 too_many_connections` with Retry-After and closed.
  std::size_t max_connections = 64;
  // Newcomers being answered 503 at once (each for at most linger_timeout).
  // Beyond that, new clients wait in the listen backlog until there is room:
  // they are late, never dropped.
  std::size_t max_refusing = 64;
  // An idle connection is closed, silently, after this.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
  // From the first byte until the end of the header: `408 request_timeout`.
  std::chrono::milliseconds header_timeout = std::chrono::seconds(10);
  // From the end of the header until the end of the body: 408.
  std::chrono::milliseconds body_timeout = std::chrono::seconds(10);
  // From the first byte until the answer is written: 408 while the request is
  // still arriving; the connection is closed if the answer is not out by then.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(30);
  // Writing one answer: a client that does not read it is closed after this.
  std::chrono::milliseconds write_timeout = std::chrono::seconds(10);
  // A final error answer (400, 408, 413, 431, 503) has this long to be written
  // and the client's unread input drained before the close, so that the client
  // reads its answer rather than a reset.
  std::chrono::milliseconds linger_timeout = std::chrono::seconds(2);
  // The Retry-After of a 503, in whole seconds.
  std::chrono::seconds retry_after = std::chrono::seconds(1);
  // After accept() fails (EMFILE, ENFILE, ENOMEM ...), the next attempt waits
  // this long, or until a connection closes. The failure is logged once per
  // spell, not per attempt.
  std::chrono::milliseconds accept_backoff = std::chrono::milliseconds(100);
};

// What the server has done, for tests and diagnostics.
struct ControlServerCounters {
  std::size_t accepted = 0;         // connections accepted since construction
  std::size_t open = 0;             // connections being served now (not counting refusals)
  std::size_t idle = 0;             // of those, with no request in progress
  std::size_t writing = 0;          // of those, writing an answer the client has not taken
  std::size_t refusing = 0;         // newcomers being answered 503 now
  std::size_t refused = 0;          // answered 503 since construction
  std::size_t evicted = 0;          // idle connections closed to make room
  std::size_t timed_out = 0;        // connections closed because a deadline passed
  std::size_t accept_failures = 0;  // failed accept() calls
};

namespace detail {
struct ControlServerState;
}

class ControlServer {
 public:
  ControlServer(boost::asio::io_context& io, HubApi& hub, Logger log,
                ControlServerOptions options = {});
  ~ControlServer();  // closes
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds and starts accepting. A stale socket file left by a dead daemon is
  // removed first; a socket that still answers is left alone and reported
  // (another nurseryd is running). The socket is made mode 0660. Errors
  // ("listen_failed") name the path and the reason.
  Status listen(const std::filesystem::path& socket_path);

  // Stops accepting, closes every connection and removes the socket file.
  // The hub is not called again after this returns. Idempotent.
  void close();

  const ControlServerOptions& options() const;
  ControlServerCounters counters() const;
  // Connections accepted since construction.
  std::size_t connections_accepted() const;
  // Connections currently open, those being refused included.
  std::size_t connections_open() const;

 private:
  boost::asio::io_context& io_;
  // Shared with the connection coroutines, which may outlive this object
  // until the io_context runs them to their end.
  std::shared_ptr<detail::ControlServerState> state_;
};

}  // namespace nursery
