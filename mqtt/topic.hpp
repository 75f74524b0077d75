#pragma once
// MQTT topic names and filters (MQTT 3.1.1, section 4.7): validation of what
// the hub publishes and subscribes to, and the filter matching the client
// uses to hand an incoming message to every subscription it matches.
// Thread: any (pure functions). Nothing here throws.

#include <string_view>

#include "daemon/expected.hpp"

namespace nursery::mqtt {

// True when `topic` (a topic name, no wildcards) matches `filter`, which may
// use `+` (exactly one level) and `#` (this level and every one below, also
// the parent itself: "a/#" matches "a"). As the standard says, a filter that
// starts with a wildcard does not match a topic that starts with '$'.
// An invalid filter matches nothing.
bool topic_matches(std::string_view filter, std::string_view topic);

// A topic name to publish to: 1..65535 bytes of valid UTF-8, no `+`, `#` or
// NUL. Error code "invalid_topic"; the message names the topic and the fault.
Status validate_topic_name(std::string_view topic);

// A subscription filter: like a name, but `+` may fill a whole level and `#`
// only the whole last level. Error code "invalid_topic_filter".
Status validate_topic_filter(std::string_view filter);

// One level of a topic built from user input (a room or device id, a friendly
// name): non-empty, valid UTF-8, and no '/', '+', '#' or NUL, so that it can
// neither add levels nor turn into a wildcard. Error code "invalid_topic_segment".
Status validate_topic_segment(std::string_view segment);

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::string_view text);

}  // namespace nursery::mqtt
