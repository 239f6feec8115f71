#pragma once
// NodeId and ExpandedNodeId with the standard string syntax (OPC 10000-6 5.3.1.10):
// "i=2258", "ns=2;s=Line1.State", "ns=3;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63", "ns=1;b=AQID".
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oee::opcua {

struct Guid {
  uint32_t data1 = 0;
  uint16_t data2 = 0;
  uint16_t data3 = 0;
  std::array<uint8_t, 8> data4{};

  friend bool operator==(const Guid&, const Guid&) = default;
  std::string to_string() const;  // "72962B91-FA75-4AE6-8D28-B404DC7DAF63"
  static std::optional<Guid> parse(std::string_view text);
};

struct NodeId {
  enum class Kind : uint8_t { numeric, string, guid, byte_string };
  uint16_t namespace_index = 0;
  Kind kind = Kind::numeric;
  uint32_t numeric = 0;
  std::string text;  // the identifier when kind is string, the raw bytes when byte_string
  Guid guid;

  NodeId() = default;
  NodeId(uint16_t ns, uint32_t id) : namespace_index(ns), numeric(id) {}
  NodeId(uint16_t ns, std::string id) : namespace_index(ns), kind(Kind::string), text(std::move(id)) {}

  bool is_null() const { return namespace_index == 0 && kind == Kind::numeric && numeric == 0; }
  friend bool operator==(const NodeId&, const NodeId&) = default;
  std::string to_string() const;
  // nullopt when the text is not a NodeId in the standard syntax.
  static std::optional<NodeId> parse(std::string_view text);
};

struct ExpandedNodeId {
  NodeId node_id;
  std::string namespace_uri;  // when set, it replaces node_id.namespace_index
  uint32_t server_index = 0;

  friend bool operator==(const ExpandedNodeId&, const ExpandedNodeId&) = default;
  std::string to_string() const;  // "svr=1;nsu=http://x;s=a" parts only when present
};

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace oee::opcua
