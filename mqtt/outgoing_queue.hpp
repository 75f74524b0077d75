#pragma once
// The client's bounded outgoing queue. Messages leave in the order they were
// published; when the queue is full the oldest State message is dropped to
// make room, and a Command is never dropped (the queue then grows past its
// bound rather than lose what a device must do; commands are few).
// Thread: the loop thread. Nothing here throws (but std::bad_alloc).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "daemon/services.hpp"

namespace nursery::mqtt {

struct Outgoing {
  std::uint64_t seq = 0;  // publish order; increasing
  std::string topic;
  std::string payload;
  int qos = 1;
  bool retain = false;
  PublishKind kind = PublishKind::State;
};

class OutgoingQueue {
 public:
  explicit OutgoingQueue(std::size_t bound) : bound_(bound) {}

  // Adds a message newer than every queued one. Returns how many State
  // messages were dropped for it (the new one itself, when it is a State and
  // only Commands are queued).
  std::size_t push(Outgoing message);
  // Puts back a message taken earlier and not delivered (its seq is older
  // than every queued one), with the same dropping rule.
  std::size_t push_front(Outgoing message);
  // The oldest message of either kind.
  std::optional<Outgoing> pop();

  std::size_t size() const { return states_.size() + commands_.size(); }
  bool empty() const { return size() == 0; }
  std::size_t bound() const { return bound_; }
  void clear();

 private:
  std::deque<Outgoing>& lane(PublishKind kind) {
    return kind == PublishKind::Command ? commands_ : states_;
  }

  std::size_t bound_;
  std::deque<Outgoing> states_;    // by seq
  std::deque<Outgoing> commands_;  // by seq
};

}  // namespace nursery::mqtt
