#include "mqtt/outgoing_queue.hpp"

namespace nursery::mqtt {

std::size_t OutgoingQueue::push(Outgoing message) {
  std::size_t dropped = 0;
  if (size() >= bound_) {
    if (!states_.empty()) {
      states_.pop_front();
      ++dropped;
    } else if (message.kind == PublishKind::State) {
      return 1;
    }
  }
  lane(message.kind).push_back(std::move(message));
  return dropped;
}

std::size_t OutgoingQueue::push_front(Outgoing message) {
  if (size() >= bound_) {
    // The message is older than everything queued, so as a State it is the
    // oldest one: it is the one to drop.
    if (message.kind == PublishKind::State) return 1;
    if (!states_.empty()) {
      states_.pop_front();
      lane(message.kind).push_front(std::move(message));
      return 1;
    }
  }
  lane(message.kind).push_front(std::move(message));
  return 0;
}

std::optional<Outgoing> OutgoingQueue::pop() {
  std::deque<Outgoing>* from = nullptr;
  if (states_.empty() && commands_.empty()) return std::nullopt;
  if (states_.empty())
    from = &commands_;
  else if (commands_.empty())
    from = &states_;
  else
    from = states_.front().seq < commands_.front().seq ? &states_ : &commands_;
  Outgoing out = std::move(from->front());
  from->pop_front();
  return out;
}

void OutgoingQueue::clear() {
  states_.clear();
  commands_.clear();
}

}  // namespace nursery::mqtt
