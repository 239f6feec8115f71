// Names of the built-in types and DateTime conversions.
#include "oee/opcua/types.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace oee::opcua {
namespace {

constexpr const char* kBuiltinTypeNames[] = {
    "Null", "Boolean", "SByte", "Byte", "Int16", "UInt16", "Int32", "UInt32", "Int64",
    "UInt64", "Float", "Double", "String", "DateTime", "Guid", "ByteString", "XmlElement",
    "NodeId", "ExpandedNodeId", "StatusCode", "QualifiedName", "LocalizedText",
    "ExtensionObject", "DataValue", "Variant", "DiagnosticInfo"};

}  // namespace

const char* builtin_type_name(BuiltinType type) {
  const auto i = static_cast<size_t>(type);
  return i < std::size(kBuiltinTypeNames) ? kBuiltinTypeNames[i] : "Unknown";
}

BuiltinType builtin_type_from_name(const std::string& name, bool* ok) {
  for (size_t i = 0; i < std::size(kBuiltinTypeNames); ++i) {
    if (name == kBuiltinTypeNames[i]) {
      if (ok) *ok = true;
      return static_cast<BuiltinType>(i);
    }
  }
  if (ok) *ok = false;
  return BuiltinType::null;
}

DateTime DateTime::now() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto ticks = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count() / 100;
  return DateTime{ticks + kUnixEpochTicks};
}

std::string DateTime::to_iso8601() const {
  if (ticks == 0) return "";
  const int64_t unix_ticks = ticks - kUnixEpochTicks;
  int64_t seconds = unix_ticks / 10000000;
  int64_t rem = unix_ticks % 10000000;
  if (rem < 0) {
    rem += 10000000;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(rem / 10000));
  return buf;
}

}  // namespace oee::opcua
