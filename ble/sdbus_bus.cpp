// The one file that knows sdbus-c++ (1.2). See ble/bus.hpp for the contract.
//
// sd-bus runs its callbacks from inside processPendingRequest(); sdbus-c++
// 1.2 swallows only its own exceptions there and lets any other escape into
// C. So the callbacks registered here do nothing but convert the message to
// Values and queue it; the queue is dispatched after processing, outside
// sd-bus, where handlers may do anything.

#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>

#include "ble/bus.hpp"

namespace nursery::ble {
namespace {

namespace asio = boost::asio;

constexpr const char* kBadMessage = "org.nursery.Error.BadMessage";

// --- sdbus::Message <-> Value ---------------------------------------------------

bool at_end(const std::string& type) { return type.empty() || type[0] == '\0'; }

Value read_value(sdbus::Message& m, const std::string& type, const std::string& contents);

Value read_next(sdbus::Message& m) {
  std::string type, contents;
  m.peekType(type, contents);
  if (at_end(type)) throw std::runtime_error("message ends early");
  return read_value(m, type, contents);
}

template <typename T>
Value read_basic(sdbus::Message& m) {
  T v{};
  m >> v;
  return Value(Value::Data(v));
}

Value read_value(sdbus::Message& m, const std::string& type, const std::string& contents) {
  switch (type[0]) {
    case 'y':
      return read_basic<std::uint8_t>(m);
    case 'b':
      return read_basic<bool>(m);
    case 'n':
      return read_basic<std::int16_t>(m);
    case 'q':
      return read_basic<std::uint16_t>(m);
    case 'i':
      return read_basic<std::int32_t>(m);
    case 'u':
      return read_basic<std::uint32_t>(m);
    case 'x':
      return read_basic<std::int64_t>(m);
    case 't':
      return read_basic<std::uint64_t>(m);
    case 'd':
      return read_basic<double>(m);
    case 's':
      return read_basic<std::string>(m);
    case 'o': {
      sdbus::ObjectPath p;
      m >> p;
      return Value::path(std::move(p));
    }
    case 'g': {
      sdbus::Signature g;
      m >> g;
      return Value::string(std::move(g));
    }
    case 'h': {
      sdbus::UnixFd fd;  // never used by this library; closed on destruction
      m >> fd;
      return Value();
    }
    case 'v': {
      m.enterVariant(contents);
      Value inner = read_next(m);
      m.exitVariant();
      return inner;
    }
    case 'a': {
      if (contents == "y") {
        Bytes bytes;
        m.enterContainer("y");
        std::uint8_t b = 0;
        while (m >> b) bytes.push_back(b);
        m.clearFlags();
        m.exitContainer();
        return Value::bytes(std::move(bytes));
      }
      if (!contents.empty() && contents[0] == '{') {
        if (contents.size() < 4) throw std::runtime_error("bad dict signature " + contents);
        Dict dict{contents.substr(1, 1), contents.substr(2, contents.size() - 3), {}};
        const std::string entry = dict.key + dict.value;
        m.enterContainer(contents);
        for (;;) {
          std::string t, c;
          m.peekType(t, c);
          if (at_end(t)) break;
          m.enterDictEntry(entry);
          Value key = read_next(m);
          Value value = read_next(m);
          m.exitDictEntry();
          dict.entries.push_back(DictEntry{std::move(key), std::move(value)});
        }
        m.exitContainer();
        return Value(Value::Data(std::move(dict)));
      }
      Array array{contents, {}};
      m.enterContainer(contents);
      for (;;) {
        std::string t, c;
        m.peekType(t, c);
        if (at_end(t)) break;
        array.items.push_back(read_value(m, t, c));
      }
      m.exitContainer();
      return Value(Value::Data(std::move(array)));
    }
    case 'r': {
      // A struct is kept as an array of its members.
      Array members{"(" + contents + ")", {}};
      m.enterStruct(contents);
      for (;;) {
        std::string t, c;
        m.peekType(t, c);
        if (at_end(t)) break;
        members.items.push_back(read_value(m, t, c));
      }
      m.exitStruct();
      return Value(Value::Data(std::move(members)));
    }
    default:
      throw std::runtime_error(std::string("unsupported D-Bus type '") + type[0] + "'");
  }
}

std::vector<Value> read_all(sdbus::Message& m) {
  std::vector<Value> out;
  for (;;) {
    std::string type, contents;
    m.peekType(type, contents);
    if (at_end(type)) break;
    out.push_back(read_value(m, type, contents));
  }
  return out;
}

void write_value(sdbus::Message& m, const Value& v);

void write_element(sdbus::Message& m, const Value& v, const std::string& signature) {
  if (signature == "v") {
    m.openVariant(v.signature());
    write_value(m, v);
    m.closeVariant();
  } else {
    write_value(m, v);
  }
}

void write_value(sdbus::Message& m, const Value& v) {
  std::visit(
      [&m](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          throw std::invalid_argument("an empty value cannot be sent");
        } else if constexpr (std::is_same_v<T, std::string>) {
          m << x;
        } else if constexpr (std::is_same_v<T, ObjectPath>) {
          m << sdbus::ObjectPath(x.value);
        } else if constexpr (std::is_same_v<T, Bytes>) {
          m << x;
        } else if constexpr (std::is_same_v<T, Array>) {
          m.openContainer(x.element);
          for (const auto& item : x.items) write_element(m, item, x.element);
          m.closeContainer();
        } else if constexpr (std::is_same_v<T, Dict>) {
          const std::string entry = x.key + x.value;
          m.openContainer("{" + entry + "}");
          for (const auto& e : x.entries) {
            m.openDictEntry(entry);
            write_value(m, e.key);
            write_element(m, e.value, x.value);
            m.closeDictEntry();
          }
          m.closeContainer();
        } else {
          m << x;
        }
      },
      v.data());
}

}  // namespace

// --- the connection -----------------------------------------------------------

class BusCore : public std::enable_shared_from_this<BusCore> {
 public:
  BusCore(asio::io_context& io, std::unique_ptr<sdbus::IConnection> connection)
      : io_(io), connection_(std::move(connection)), fd_(io), timer_(io) {}
  ~BusCore() { close(); }

  void start() { process(); }

  PendingCall call(const std::string& destination, const std::string& path,
                   const std::string& interface, const std::string& method, std::vector<Value> args,
                   std::chrono::milliseconds timeout, std::function<void(Reply)> done) {
    const std::uint64_t id = next_id_++;
    calls_.emplace(id, CallRecord{std::move(done), {}});
    if (closed_) {
      queue_error(id, "org.freedesktop.DBus.Error.Disconnected", "the bus connection is closed");
    } else {
      try {
        sdbus::IProxy& proxy = proxy_for(destination, path);
        auto message = proxy.createMethodCall(interface, method);
        for (const auto& a : args) write_value(message, a);
        std::weak_ptr<BusCore> weak = weak_from_this();
        auto usec = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(timeout).count());
        calls_[id].pending = proxy.callMethod(
            message,
            [weak, id](sdbus::MethodReply& reply, const sdbus::Error* error) {
              auto core = weak.lock();
              if (!core) return;
              try {
                if (error)
                  core->events_.push_back(Event{
                      id, false, Reply(Error{error->getName(), error->getMessage(), 502}), {}});
                else
                  core->events_.push_back(Event{id, false, Reply(read_all(reply)), {}});
              } catch (const std::exception& e) {
                core->events_.push_back(
                    Event{id, false, Reply(Error{kBadMessage, e.what(), 502}), {}});
              }
            },
            usec);
      } catch (const sdbus::Error& e) {
        queue_error(id, e.getName(), e.getMessage());
      } catch (const std::exception& e) {
        queue_error(id, "org.freedesktop.DBus.Error.InvalidArgs", e.what());
      }
    }
    kick();
    return PendingCall(weak_from_this(), id);
  }

  Expected<Match> add_match(const std::string& rule,
                            std::function<void(const BusSignal&)> handler) {
    if (closed_) return Error{"ble_no_bus", "the bus connection is closed", 503};
    const std::uint64_t id = next_id_++;
    std::weak_ptr<BusCore> weak = weak_from_this();
    try {
      auto slot = connection_->addMatch(rule, [weak, id](sdbus::Message& message) {
        auto core = weak.lock();
        if (!core) return;
        try {
          BusSignal signal{message.getSender(), message.getPath(), message.getInterfaceName(),
                           message.getMemberName(), read_all(message)};
          core->events_.push_back(Event{id, true, Reply(std::vector<Value>{}), std::move(signal)});
        } catch (const std::exception&) {
          // A signal we cannot read is dropped: it changes nothing.
        }
      });
      matches_.emplace(id, MatchRecord{std::move(slot), std::move(handler)});
    } catch (const sdbus::Error& e) {
      kick();
      return Error{e.getName(), e.getMessage(), 503};
    }
    // The synchronous AddMatch may have read other messages into sd-bus's
    // queue without the loop noticing: process them now.
    kick();
    return Match(weak, id);
  }

  void cancel_call(std::uint64_t id) {
    auto it = calls_.find(id);
    if (it == calls_.end()) return;
    it->second.pending.cancel();
    calls_.erase(it);
  }

  bool call_pending(std::uint64_t id) const { return calls_.count(id) != 0; }

  void remove_match(std::uint64_t id) { matches_.erase(id); }

  void set_on_lost(std::function<void(const std::string&)> handler) {
    on_lost_ = std::move(handler);
  }

  std::uint64_t wakeups() const { return wakeups_; }

  void close() {
    if (fd_.is_open()) fd_.release();
    timer_.cancel();
    for (auto& [id, call] : calls_) call.pending.cancel();
    calls_.clear();
    events_.clear();
    matches_.clear();
    proxies_.clear();
    // Flushes what is still queued (a last Disconnect, say), then closes.
    connection_.reset();
    closed_ = true;
  }

 private:
  struct CallRecord {
    std::function<void(Reply)> done;
    sdbus::PendingAsyncCall pending;
  };
  struct MatchRecord {
    sdbus::Slot slot;
    std::function<void(const BusSignal&)> handler;
  };
  struct Event {
    std::uint64_t id;
    bool is_signal;
    Reply reply;
    BusSignal signal;
  };

  sdbus::IProxy& proxy_for(const std::string& destination, const std::string& path) {
    const std::string key = destination + '\n' + path;
    auto it = proxies_.find(key);
    if (it == proxies_.end())
      it = proxies_.emplace(key, sdbus::createProxy(*connection_, destination, path)).first;
    return *it->second;
  }

  void queue_error(std::uint64_t id, std::string name, std::string message) {
    events_.push_back(Event{id, false, Reply(Error{std::move(name), std::move(message), 502}), {}});
  }

  // Asks the loop to process soon, unless processing is under way (it
  // re-arms when it ends).
  void kick() {
    if (processing_ || kick_posted_ || closed_) return;
    kick_posted_ = true;
    asio::post(io_, [weak = weak_from_this()] {
      if (auto core = weak.lock()) {
        core->kick_posted_ = false;
        core->process();
      }
    });
  }

  void process() {
    if (closed_) return;
    ++wakeups_;
    auto keep = shared_from_this();  // a handler may destroy the Bus
    processing_ = true;
    for (;;) {
      try {
        while (connection_->processPendingRequest()) {
        }
      } catch (const std::exception& e) {
        processing_ = false;
        lose(e.what());
        return;
      }
      if (events_.empty()) break;
      std::deque<Event> batch;
      batch.swap(events_);
      for (auto& event : batch) {
        dispatch(event);
        if (closed_) {
          processing_ = false;
          return;
        }
      }
    }
    processing_ = false;
    arm();
  }

  void dispatch(Event& event) {
    if (event.is_signal) {
      auto it = matches_.find(event.id);
      if (it == matches_.end()) return;
      auto handler = it->second.handler;  // the handler may remove its own match
      if (handler) handler(event.signal);
      return;
    }
    auto it = calls_.find(event.id);
    if (it == calls_.end()) return;  // cancelled after the reply came in
    auto done = std::move(it->second.done);
    calls_.erase(it);
    if (done) done(std::move(event.reply));
  }

  void arm() {
    sdbus::IConnection::PollData poll;
    try {
      poll = connection_->getEventLoopPollData();
    } catch (const std::exception& e) {
      lose(e.what());
      return;
    }
    if (!fd_.is_open() || fd_.native_handle() != poll.fd) {
      if (fd_.is_open()) fd_.release();
      read_waiting_ = write_waiting_ = false;
      boost::system::error_code ec;
      fd_.assign(poll.fd, ec);
      if (ec) {
        lose("cannot watch the bus socket: " + ec.message());
        return;
      }
    }
    std::weak_ptr<BusCore> weak = weak_from_this();
    if ((poll.events & POLLIN) && !read_waiting_) {
      read_waiting_ = true;
      fd_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [weak](const boost::system::error_code& ec) {
                       auto core = weak.lock();
                       if (!core) return;
                       core->read_waiting_ = false;
                       if (!ec) core->process();
                     });
    }
    if ((poll.events & POLLOUT) && !write_waiting_) {
      write_waiting_ = true;
      fd_.async_wait(asio::posix::stream_descriptor::wait_write,
                     [weak](const boost::system::error_code& ec) {
                       auto core = weak.lock();
                       if (!core) return;
                       core->write_waiting_ = false;
                       if (!ec) core->process();
                     });
    }
    if (poll.timeout_usec == std::numeric_limits<std::uint64_t>::max()) {
      if (timer_armed_) {
        timer_armed_ = false;
        ++timer_generation_;
        timer_.cancel();
      }
      return;
    }
    // sd-bus's timeout is absolute on CLOCK_MONOTONIC, steady_clock's clock.
    const auto at = std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::microseconds(poll.timeout_usec)));
    if (timer_armed_ && timer_at_ == at) return;
    timer_armed_ = true;
    timer_at_ = at;
    const std::uint64_t generation = ++timer_generation_;
    timer_.expires_at(at);
    timer_.async_wait([weak, generation](const boost::system::error_code& ec) {
      auto core = weak.lock();
      if (!core || ec || generation != core->timer_generation_) return;
      core->timer_armed_ = false;
      core->process();
    });
  }

  void lose(const std::string& reason) {
    if (closed_) return;
    closed_ = true;
    if (fd_.is_open()) fd_.release();
    timer_.cancel();
    for (auto& [id, call] : calls_) call.pending.cancel();
    calls_.clear();
    events_.clear();
    if (on_lost_)
      asio::post(io_, [weak = weak_from_this(), reason] {
        if (auto core = weak.lock())
          if (core->on_lost_) core->on_lost_(reason);
      });
  }

  asio::io_context& io_;
  std::unique_ptr<sdbus::IConnection> connection_;
  // Declared after the connection, so destroyed before it.
  std::map<std::string, std::unique_ptr<sdbus::IProxy>> proxies_;
  std::unordered_map<std::uint64_t, CallRecord> calls_;
  std::unordered_map<std::uint64_t, MatchRecord> matches_;
  std::deque<Event> events_;
  asio::posix::stream_descriptor fd_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point timer_at_;
  std::uint64_t timer_generation_ = 0;
  bool timer_armed_ = false;
  bool read_waiting_ = false;
  bool write_waiting_ = false;
  bool processing_ = false;
  bool kick_posted_ = false;
  bool closed_ = false;
  std::uint64_t next_id_ = 1;
  std::uint64_t wakeups_ = 0;
  std::function<void(const std::string&)> on_lost_;
};

// --- handles -----------------------------------------------------------------

PendingCall& PendingCall::operator=(PendingCall&& other) noexcept {
  if (this != &other) {
    cancel();
    core_ = std::move(other.core_);
    id_ = other.id_;
    other.id_ = 0;
  }
  return *this;
}

void PendingCall::cancel() {
  if (id_ == 0) return;
  if (auto core = core_.lock()) core->cancel_call(id_);
  id_ = 0;
}

bool PendingCall::pending() const {
  if (id_ == 0) return false;
  auto core = core_.lock();
  return core && core->call_pending(id_);
}

Match& Match::operator=(Match&& other) noexcept {
  if (this != &other) {
    reset();
    core_ = std::move(other.core_);
    id_ = other.id_;
    other.id_ = 0;
  }
  return *this;
}

void Match::reset() {
  if (id_ == 0) return;
  if (auto core = core_.lock()) core->remove_match(id_);
  id_ = 0;
}

// --- Bus ---------------------------------------------------------------------

namespace {

// sdbus-c++ 1.2 leaks the sd_bus (about 2 kB) when its address-taking
// factory fails to start it, and a missing bus is retried for as long as it
// is missing. So an explicit unix:path= address is tried here first; only a
// socket that accepts a connection is handed to sdbus-c++.
std::string unreachable_socket(const std::string& address) {
  const std::string prefix = "unix:path=";
  if (address.rfind(prefix, 0) != 0) return "";
  const std::string path = address.substr(prefix.size(), address.find(',') - prefix.size());
  sockaddr_un sa{};
  if (path.empty() || path.size() >= sizeof sa.sun_path) return "";
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
  const int error = errno;
  ::close(fd);
  return rc == 0 ? "" : std::strerror(error);
}

}  // namespace

Expected<std::unique_ptr<Bus>> Bus::open(boost::asio::io_context& io, const std::string& address) {
  std::unique_ptr<sdbus::IConnection> connection;
  if (const std::string why = unreachable_socket(address); !why.empty())
    return Error{"ble_no_bus", "cannot connect to the D-Bus bus at " + address + ": " + why, 503};
  try {
    connection = address.empty() ? sdbus::createSystemBusConnection()
                                 : sdbus::createSessionBusConnectionWithAddress(address);
  } catch (const sdbus::Error& e) {
    return Error{"ble_no_bus",
                 "cannot connect to the D-Bus " +
                     (address.empty() ? std::string("system bus") : "bus at " + address) + ": " +
                     e.getMessage(),
                 503};
  }
  auto core = std::make_shared<BusCore>(io, std::move(connection));
  core->start();
  return std::unique_ptr<Bus>(new Bus(std::move(core)));
}

Bus::~Bus() {
  if (core_) core_->close();
}

void Bus::on_lost(std::function<void(const std::string& reason)> handler) {
  core_->set_on_lost(std::move(handler));
}

PendingCall Bus::call(const std::string& destination, const std::string& path,
                      const std::string& interface, const std::string& method,
                      std::vector<Value> args, std::chrono::milliseconds timeout,
                      std::function<void(Reply)> done) {
  return core_->call(destination, path, interface, method, std::move(args), timeout,
                     std::move(done));
}

Expected<Match> Bus::add_match(const std::string& rule,
                               std::function<void(const BusSignal&)> handler) {
  return core_->add_match(rule, std::move(handler));
}

std::uint64_t Bus::wakeups() const { return core_->wakeups(); }

}  // namespace nursery::ble
