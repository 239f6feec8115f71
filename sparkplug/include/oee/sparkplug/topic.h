#pragma once
// Sparkplug B topics (specification 4.1): spBv1.0/<group>/<type>/<edge node>[/<device>] and the
// host's spBv1.0/STATE/<host id>.
#include <optional>
#include <string>
#include <string_view>

namespace oee::sparkplug {

inline constexpr std::string_view kNamespace = "spBv1.0";

enum class MessageType { NBIRTH, NDEATH, DBIRTH, DDEATH, NDATA, DDATA, NCMD, DCMD, STATE };

struct Topic {
  MessageType type{};
  std::string group;      // empty for STATE
  std::string edge_node;  // for STATE: the host id
  std::string device;     // empty for node messages
};

// nullopt when the topic is not a Sparkplug B topic: wrong namespace, unknown type, a device
// message without a device, a node message with one, or an empty element.
std::optional<Topic> parse_topic(std::string_view topic);
std::string format_topic(const Topic& topic);
std::string_view message_type_name(MessageType type);
bool is_device_message(MessageType type);  // DBIRTH, DDEATH, DDATA, DCMD

}  // namespace oee::sparkplug
