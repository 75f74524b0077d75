#pragma once
// TCP_NODELAY for a socket a library opened and does not expose. Paho C
// 1.3.12 never sets TCP_NODELAY and has no option for it; without it a burst
// of small publishes waits ~40 ms for a delayed ACK (shared docs, stack.md).
// So the client finds its own socket: among this process's file descriptors
// (/proc/self/fd), the connected TCP sockets whose peer is the broker, and
// of those the ones that were not there before the connect began.
// Thread: any (it reads /proc and calls getpeername/setsockopt). Nothing
// here throws.

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

#include "daemon/expected.hpp"
#include "mqtt/options.hpp"

namespace nursery::mqtt {

struct SocketRef {
  int fd = -1;
  ino_t inode = 0;  // tells a new socket from an old one that reused the number
};

// Connected TCP sockets of this process whose peer port is the broker's and
// whose peer address is the broker's (a numeric host), any loopback address
// ("localhost"), or any address (another host name, not resolved here).
std::vector<SocketRef> sockets_to(const BrokerAddress& broker);

// Sets TCP_NODELAY on every socket to the broker that is not in `before`.
// Returns the first such fd, or an error when there was none or setsockopt
// failed ("tcp_nodelay").
Expected<int> set_nodelay_on_new_sockets(const BrokerAddress& broker,
                                         const std::set<ino_t>& before);

// True when TCP_NODELAY is set on `fd`.
bool nodelay_is_set(int fd);

}  // namespace nursery::mqtt
