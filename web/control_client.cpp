#include "control_client.hpp"

#include <fmt/format.h>
#include <sys/un.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "daemon/api_json/api_json.hpp"

namespace nursery {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Socket = asio::local::stream_protocol::socket;
using boost::system::error_code;

// The status of a big hub is a few KiB; this only bounds a broken server.
constexpr std::uint64_t kMaxResponseBody = 8 * 1024 * 1024;

bool is_disconnect(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted;
}

}  // namespace

struct ControlClient::Impl {
  std::filesystem::path path;
  std::chrono::milliseconds timeout;
  asio::io_context io;
  Socket socket{io};
  boost::beast::flat_buffer buffer;

  // Starts one asynchronous operation and runs the private io_context until
  // it completes or the timeout passes (then the socket is closed).
  template <typename Start>
  error_code run(Start start) {
    std::optional<error_code> result;
    start([&result](const error_code& ec, auto&&...) { result = ec; });
    io.restart();
    io.run_for(timeout);
    if (result) return *result;
    close();
    io.restart();
    io.run();  // lets the cancelled operation finish before `result` goes away
    return asio::error::timed_out;
  }

  void close() {
    error_code ignored;
    socket.close(ignored);
    buffer.clear();
  }

  Error timeout_error() const {
    return Error{"timeout",
                 fmt::format("no answer from nurseryd on {} within {} s", path.string(),
                             std::chrono::duration<double>(timeout).count()),
                 0};
  }

  std::optional<Error> connect() {
    if (path.native().size() >= sizeof(sockaddr_un::sun_path))
      return Error{"connect_failed",
                   fmt::format("cannot connect to {}: the path is too long for a UNIX socket",
                               path.string()),
                   0};
    const asio::local::stream_protocol::endpoint endpoint(path.native());
    auto ec = run([&](auto handler) { socket.async_connect(endpoint, std::move(handler)); });
    if (ec == asio::error::timed_out) return timeout_error();
    if (ec) {
      close();
      return Error{"connect_failed",
                   fmt::format("cannot connect to {}: {}", path.string(), ec.message()), 0};
    }
    return std::nullopt;
  }

  Expected<ControlResponse> exchange(http::request<http::string_body>& req) {
    for (int attempt = 0;; ++attempt) {
      const bool reused = socket.is_open();
      if (!reused)
        if (auto problem = connect()) return *problem;

      auto write_ec =
          run([&](auto handler) { http::async_write(socket, req, std::move(handler)); });
      if (write_ec == asio::error::timed_out) return timeout_error();
      // Even when the write failed, read: a server refusing a body too large
      // answers and closes before it has read everything we sent.
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxResponseBody);
      auto read_ec =
          run([&](auto handler) { http::async_read(socket, buffer, parser, std::move(handler)); });
      if (read_ec == asio::error::timed_out) return timeout_error();
      if (!read_ec) {
        const auto& res = parser.get();
        if (!res.keep_alive()) close();
        ControlResponse out;
        out.status = static_cast<int>(res.result_int());
        for (const auto& f : res) {
          std::string name(f.name_string().data(), f.name_string().size());
          for (auto& c : name)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
          out.headers[name] = std::string(f.value().data(), f.value().size());
        }
        out.text = res.body();
        const auto type = out.headers.find("content-type");
        const bool json_body =
            type == out.headers.end() || type->second.starts_with("application/json");
        if (!res.body().empty() && json_body) {
          out.body = nlohmann::json::parse(res.body(), nullptr, /*allow_exceptions=*/false);
          if (out.body.is_discarded())
            return Error{
                "transport_failed",
                fmt::format("the answer on {} is not JSON (HTTP {})", path.string(), out.status),
                0};
        }
        return out;
      }
      close();
      // A kept-alive connection the server has since dropped: reconnect once.
      if (reused && attempt == 0 && is_disconnect(read_ec)) continue;
      auto ec = write_ec && !is_disconnect(write_ec) ? write_ec : read_ec;
      return Error{"transport_failed",
                   fmt::format("the connection to {} failed: {}", path.string(), ec.message()), 0};
    }
  }
};

ControlClient::ControlClient(std::filesystem::path socket, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = std::move(socket);
  impl_->timeout = timeout;
}

ControlClient::~ControlClient() = default;

const std::filesystem::path& ControlClient::socket_path() const { return impl_->path; }

Expected<ControlResponse> ControlClient::request(std::string_view method, std::string_view target,
                                                 std::optional<nlohmann::json> body) {
  return request_raw(method, target, body ? dump_json(*body) : std::string{});
}

Expected<ControlResponse> ControlClient::request_raw(std::string_view method,
                                                     std::string_view target, std::string body) {
  http::request<http::string_body> req;
  req.version(11);
  req.method_string({method.data(), method.size()});
  req.target({target.data(), target.size()});
  req.set(http::field::host, "localhost");
  req.set(http::field::user_agent, "nurseryctl");
  req.set(http::field::accept, "application/json");
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
  }
  req.keep_alive(true);
  req.prepare_payload();
  return impl_->exchange(req);
}

}  // namespace nursery
