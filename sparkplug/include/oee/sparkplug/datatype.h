#pragma once
// Sparkplug B datatypes (specification 6.4.16): the numeric codes of Metric.datatype,
// PropertyValue.type, DataSet.types and Template.Parameter.type, and their names.
#include <cstdint>
#include <optional>
#include <string_view>

#include "sparkplug_b.pb.h"

namespace oee::sparkplug {

using DataType = pb::DataType;

// The code as a DataType, or nullopt when it is none of the specification's (0 Unknown included).
std::optional<DataType> datatype_from_code(std::uint32_t code);
// "Int32", "DoubleArray", ... (the specification's names); "Unknown" for anything else.
std::string_view datatype_name(DataType type);
// The inverse of datatype_name, for the known types.
std::optional<DataType> datatype_from_name(std::string_view name);

bool is_signed_integer(DataType type);    // Int8..Int64
bool is_unsigned_integer(DataType type);  // UInt8..UInt64 and DateTime (ms since the epoch)
bool is_array(DataType type);             // Int8Array..DateTimeArray (packed in bytes_value)
// Bits of an integer type (8, 16, 32 or 64); of an integer array type, of its elements. 0 otherwise.
int integer_bits(DataType type);

}  // namespace oee::sparkplug
