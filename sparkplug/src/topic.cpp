#include "oee/sparkplug/topic.h"

#include <array>
#include <vector>

namespace oee::sparkplug {
namespace {

constexpr std::array<std::string_view, 9> kTypeNames = {"NBIRTH", "NDEATH", "DBIRTH", "DDEATH", "NDATA",
                                                        "DDATA",  "NCMD",   "DCMD",   "STATE"};

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    auto slash = s.find('/', start);
    parts.push_back(s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

std::optional<MessageType> type_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<MessageType>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view message_type_name(MessageType type) { return kTypeNames[static_cast<std::size_t>(type)]; }

bool is_device_message(MessageType type) {
  return type == MessageType::DBIRTH || type == MessageType::DDEATH || type == MessageType::DDATA ||
         type == MessageType::DCMD;
}

std::optional<Topic> parse_topic(std::string_view topic) {
  auto parts = split(topic);
  if (parts.size() < 3 || parts[0] != kNamespace) return std::nullopt;
  for (auto part : parts) {
    if (part.empty()) return std::nullopt;
  }
  if (parts[1] == "STATE") {
    if (parts.size() != 3) return std::nullopt;
    return Topic{MessageType::STATE, "", std::string(parts[2]), ""};
  }
  auto type = type_from_name(parts[2]);
  if (!type || *type == MessageType::STATE || parts.size() < 4) return std::nullopt;
  if (parts.size() != (is_device_message(*type) ? 5u : 4u)) return std::nullopt;
  return Topic{*type, std::string(parts[1]), std::string(parts[3]), parts.size() == 5 ? std::string(parts[4]) : ""};
}

std::string format_topic(const Topic& topic) {
  std::string out(kNamespace);
  if (topic.type == MessageType::STATE) return out + "/STATE/" + topic.edge_node;
  out += '/' + topic.group + '/' + std::string(message_type_name(topic.type)) + '/' + topic.edge_node;
  if (!topic.device.empty()) out += '/' + topic.device;
  return out;
}

}  // namespace oee::sparkplug
