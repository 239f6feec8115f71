#include "oee/sparkplug/datatype.h"

#include <array>

namespace oee::sparkplug {
namespace {

// Indexed by code (0..34), as in the specification's table.
constexpr std::array<std::string_view, 35> kNames = {
    "Unknown",   "Int8",       "Int16",       "Int32",       "Int64",        "UInt8",        "UInt16",
    "UInt32",    "UInt64",     "Float",       "Double",      "Boolean",      "String",       "DateTime",
    "Text",      "UUID",       "DataSet",     "Bytes",       "File",         "Template",     "PropertySet",
    "PropertySetList", "Int8Array", "Int16Array", "Int32Array", "Int64Array", "UInt8Array", "UInt16Array",
    "UInt32Array", "UInt64Array", "FloatArray", "DoubleArray", "BooleanArray", "StringArray", "DateTimeArray"};

}  // namespace

std::optional<DataType> datatype_from_code(std::uint32_t code) {
  if (code == 0 || code >= kNames.size()) return std::nullopt;
  return static_cast<DataType>(code);
}

std::string_view datatype_name(DataType type) {
  auto code = static_cast<std::uint32_t>(type);
  return code < kNames.size() ? kNames[code] : kNames[0];
}

std::optional<DataType> datatype_from_name(std::string_view name) {
  for (std::uint32_t code = 1; code < kNames.size(); ++code) {
    if (kNames[code] == name) return static_cast<DataType>(code);
  }
  return std::nullopt;
}

bool is_signed_integer(DataType type) { return type >= pb::Int8 && type <= pb::Int64; }

bool is_unsigned_integer(DataType type) {
  return (type >= pb::UInt8 && type <= pb::UInt64) || type == pb::DateTime;
}

bool is_array(DataType type) { return type >= pb::Int8Array && type <= pb::DateTimeArray; }

int integer_bits(DataType type) {
  switch (type) {
    case pb::Int8: case pb::UInt8: case pb::Int8Array: case pb::UInt8Array: return 8;
    case pb::Int16: case pb::UInt16: case pb::Int16Array: case pb::UInt16Array: return 16;
    case pb::Int32: case pb::UInt32: case pb::Int32Array: case pb::UInt32Array: return 32;
    case pb::Int64: case pb::UInt64: case pb::DateTime: case pb::Int64Array: case pb::UInt64Array:
    case pb::DateTimeArray: return 64;
    default: return 0;
  }
}

}  // namespace oee::sparkplug
