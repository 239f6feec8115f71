#pragma once
// MQTT topic filters (MQTT 3.1.1 §4.7): checking a filter before subscribing with it, matching a
// topic against one, and shared subscriptions ("$share/<group>/<filter>": the broker hands each
// message to one subscriber of the group; Mosquitto ≥ 1.6 offers them to MQTT 3.1.1 clients too).
#include <string>
#include <string_view>

namespace oee::transport {

inline constexpr std::size_t kMaxTopicFilterBytes = 65535;  // an MQTT string

// Why `filter` is not a valid topic filter, or empty: not empty, at most 65535 bytes, no NUL, '#'
// only as the whole last level, '+' only as a whole level; "$share/<group>/<filter>" needs a
// non-empty group without '+', '#' or '/' and a valid filter after it.
std::string check_topic_filter(std::string_view filter);

// "$share/g/oee/v1/#" -> group "g", filter "oee/v1/#"; an ordinary filter -> group "", itself.
struct SharedSubscription {
  std::string_view group;
  std::string_view filter;
};
SharedSubscription split_shared_subscription(std::string_view filter);

// Whether a message published to `topic` matches `filter` (a valid filter; for a shared
// subscription, its filter part). Wildcards at the first level never match topics starting
// with '$' (§4.7.2).
bool topic_matches_filter(std::string_view filter, std::string_view topic);

}  // namespace oee::transport
