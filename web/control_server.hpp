#pragma once
// The control API (HTTP/1.1 + JSON, see control_routes.hpp) on a UNIX stream
// socket in the runtime directory: what nurseryctl talks to.
// Thread: construct, listen, close and destroy on the loop thread; every
// connection is served on that same io_context, calling the HubApi directly.
// Nothing here throws; failures are returned (listen) or logged.
// Beast stays inside control_server.cpp: this header pulls in no Asio I/O
// objects beyond the io_context.

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <filesystem>
#include <memory>

#include "daemon/hub_api.hpp"
#include "daemon/log.hpp"
#include "daemon/run_store.hpp"

namespace nursery {

namespace detail {
struct ControlServerState;
}

class ControlServer {
 public:
  ControlServer(boost::asio::io_context& io, HubApi& hub, Logger log);
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

  // Connections accepted since construction (for tests and diagnostics).
  std::size_t connections_accepted() const;
  // Connections currently open.
  std::size_t connections_open() const;

 private:
  boost::asio::io_context& io_;
  // Shared with the connection coroutines, which may outlive this object
  // until the io_context runs them to their end.
  std::shared_ptr<detail::ControlServerState> state_;
};

}  // namespace nursery
