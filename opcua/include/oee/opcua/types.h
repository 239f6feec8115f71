#pragma once
// The OPC UA built-in types (OPC 10000-6 5.1) as plain C++ values: what Read, Write and the
// subscriptions carry. Variant holds scalars and (multi-dimensional) arrays of any built-in type.
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "oee/opcua/node_id.h"
#include "oee/opcua/status_code.h"

namespace oee::opcua {

enum class BuiltinType : uint8_t {
  null = 0, boolean = 1, sbyte = 2, byte = 3, int16 = 4, uint16 = 5, int32 = 6, uint32 = 7,
  int64 = 8, uint64 = 9, float_ = 10, double_ = 11, string = 12, date_time = 13, guid = 14,
  byte_string = 15, xml_element = 16, node_id = 17, expanded_node_id = 18, status_code = 19,
  qualified_name = 20, localized_text = 21, extension_object = 22, data_value = 23, variant = 24,
  diagnostic_info = 25,
};
const char* builtin_type_name(BuiltinType type);  // "Int32", "LocalizedText", ...
// Accepts the names builtin_type_name returns; nullopt-like null for unknown names.
BuiltinType builtin_type_from_name(const std::string& name, bool* ok);

// 100-nanosecond intervals since 1601-01-01 UTC, as on the wire.
struct DateTime {
  int64_t ticks = 0;
  static constexpr int64_t kUnixEpochTicks = 116444736000000000LL;
  static DateTime now();
  static DateTime from_unix_ms(int64_t unix_ms) { return {unix_ms * 10000 + kUnixEpochTicks}; }
  int64_t to_unix_ms() const { return (ticks - kUnixEpochTicks) / 10000; }
  std::string to_iso8601() const;  // "2024-03-31T01:30:00.123Z"; "" for the null time (0)
  friend bool operator==(DateTime, DateTime) = default;
};

struct QualifiedName {
  uint16_t namespace_index = 0;
  std::string name;
  friend bool operator==(const QualifiedName&, const QualifiedName&) = default;
};

struct LocalizedText {
  std::string locale;
  std::string text;
  friend bool operator==(const LocalizedText&, const LocalizedText&) = default;
};

// A structure the client has no decoder for stays as its type id and encoded body.
struct ExtensionObject {
  enum class Encoding : uint8_t { none = 0, binary = 1, xml = 2 };
  NodeId type_id;
  Encoding encoding = Encoding::none;
  std::string body;
  friend bool operator==(const ExtensionObject&, const ExtensionObject&) = default;
};

struct DiagnosticInfo;
struct DataValue;
struct Variant;

// One value of a built-in type. String, ByteString and XmlElement all hold std::string; the
// Variant's type says which.
using Scalar = std::variant<std::monostate, bool, int8_t, uint8_t, int16_t, uint16_t, int32_t, uint32_t,
                            int64_t, uint64_t, float, double, std::string, DateTime, Guid, NodeId,
                            ExpandedNodeId, StatusCode, QualifiedName, LocalizedText, ExtensionObject,
                            std::shared_ptr<DataValue>, std::shared_ptr<Variant>,
                            std::shared_ptr<DiagnosticInfo>>;

struct Variant {
  BuiltinType type = BuiltinType::null;
  bool is_array = false;
  std::vector<Scalar> values;       // exactly one element for a scalar
  std::vector<int32_t> dimensions;  // only for multi-dimensional arrays

  bool is_null() const { return type == BuiltinType::null; }
  static Variant scalar(BuiltinType type, Scalar value) { return Variant{type, false, {std::move(value)}, {}}; }
  static Variant array(BuiltinType type, std::vector<Scalar> values) {
    return Variant{type, true, std::move(values), {}};
  }
};

struct DataValue {
  bool has_value = false;
  Variant value;
  StatusCode status;  // Good when absent on the wire
  DateTime source_timestamp;
  uint16_t source_picoseconds = 0;
  DateTime server_timestamp;
  uint16_t server_picoseconds = 0;
};

struct DiagnosticInfo {
  int32_t symbolic_id = -1;
  int32_t namespace_uri = -1;
  int32_t locale = -1;
  int32_t localized_text = -1;
  std::string additional_info;
  bool has_inner_status = false;
  StatusCode inner_status;
  std::shared_ptr<DiagnosticInfo> inner;
};

}  // namespace oee::opcua
