#include "mqtt/socket_tuning.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>

namespace nursery::mqtt {
namespace {

// How the broker's host is recognised in a peer address.
struct PeerRule {
  enum class Kind { Exact, Loopback, Any } kind = Kind::Any;
  in_addr v4{};
  in6_addr v6{};
  bool is_v6 = false;
};

PeerRule rule_for(const std::string& host) {
  PeerRule rule;
  if (::inet_pton(AF_INET, host.c_str(), &rule.v4) == 1) {
    rule.kind = PeerRule::Kind::Exact;
  } else if (::inet_pton(AF_INET6, host.c_str(), &rule.v6) == 1) {
    rule.kind = PeerRule::Kind::Exact;
    rule.is_v6 = true;
  } else if (host == "localhost") {
    rule.kind = PeerRule::Kind::Loopback;
  }
  return rule;
}

bool peer_matches(const sockaddr_storage& peer, const PeerRule& rule, int port) {
  if (peer.ss_family == AF_INET) {
    sockaddr_in a;
    std::memcpy(&a, &peer, sizeof a);
    if (ntohs(a.sin_port) != port) return false;
    switch (rule.kind) {
      case PeerRule::Kind::Exact:
        return !rule.is_v6 && a.sin_addr.s_addr == rule.v4.s_addr;
      case PeerRule::Kind::Loopback:
        return (ntohl(a.sin_addr.s_addr) >> 24) == 127;
      case PeerRule::Kind::Any:
        return true;
    }
  } else if (peer.ss_family == AF_INET6) {
    sockaddr_in6 a;
    std::memcpy(&a, &peer, sizeof a);
    if (ntohs(a.sin6_port) != port) return false;
    switch (rule.kind) {
      case PeerRule::Kind::Exact:
        return rule.is_v6 && std::memcmp(&a.sin6_addr, &rule.v6, sizeof rule.v6) == 0;
      case PeerRule::Kind::Loopback:
        return IN6_IS_ADDR_LOOPBACK(&a.sin6_addr);
      case PeerRule::Kind::Any:
        return true;
    }
  }
  return false;
}

}  // namespace

std::vector<SocketRef> sockets_to(const BrokerAddress& broker) {
  std::vector<SocketRef> out;
  const PeerRule rule = rule_for(broker.host);
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return out;
  const int own = ::dirfd(dir);
  while (const dirent* entry = ::readdir(dir)) {
    std::string_view name(entry->d_name);
    int fd = -1;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (ec != std::errc{} || end != name.data() + name.size() || fd == own) continue;
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) continue;
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    if (peer_matches(peer, rule, broker.port)) out.push_back({fd, st.st_ino});
  }
  ::closedir(dir);
  return out;
}

Expected<int> set_nodelay_on_new_sockets(const BrokerAddress& broker,
                                         const std::set<ino_t>& before) {
  int first = -1;
  for (const SocketRef& s : sockets_to(broker)) {
    if (before.count(s.inode)) continue;
    const int on = 1;
    if (::setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0)
      return Error{"tcp_nodelay",
                   fmt::format("cannot set TCP_NODELAY on the socket to {}: {}", broker.describe(),
                               std::strerror(errno)),
                   500};
    if (first < 0) first = s.fd;
  }
  if (first < 0)
    return Error{"tcp_nodelay",
                 fmt::format("found no new socket to {} to set TCP_NODELAY on", broker.describe()),
                 500};
  return first;
}

bool nodelay_is_set(int fd) {
  int on = 0;
  socklen_t len = sizeof on;
  return ::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0 && on != 0;
}

}  // namespace nursery::mqtt
