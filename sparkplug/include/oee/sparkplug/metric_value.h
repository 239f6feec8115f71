#pragma once
// A Sparkplug B value as C++ data, and its place in the protobuf messages: which oneof field
// carries each datatype (specification 6.4.16), with the 3.0 packed little-endian encoding of the
// array types in bytes_value.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "oee/sparkplug/datatype.h"

namespace oee::sparkplug {

using Bytes = std::vector<std::uint8_t>;

// One value of any datatype but the structured ones (DataSet, Template, PropertySet(List), which
// are read and written as their protobuf messages):
//   monostate: null (is_null) | int64: Int8..Int64 | uint64: UInt8..UInt64, DateTime (ms)
//   float: Float | double: Double | bool: Boolean | string: String, Text, UUID | Bytes: Bytes, File
//   vector<int64>: Int8Array..Int64Array | vector<uint64>: UInt8Array..UInt64Array, DateTimeArray
//   vector<float>, vector<double>, vector<bool>, vector<string>: the other arrays.
using Value = std::variant<std::monostate, std::int64_t, std::uint64_t, float, double, bool, std::string, Bytes,
                           std::vector<std::int64_t>, std::vector<std::uint64_t>, std::vector<float>,
                           std::vector<double>, std::vector<bool>, std::vector<std::string>>;

// Thrown when a value does not fit its datatype (wrong alternative, integer out of range, a
// structured type asked of the scalar helpers) or when bytes are not a valid encoding of it.
class ValueError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The value of a metric of its own datatype (monostate when is_null). Integer types accept the
// value in int_value or long_value (Tahu's JavaScript writes UInt32 to long_value, the 3.0
// specification to int_value); signed types narrower than 64 bits take the low bits as two's
// complement, so both sign-extended and zero-extended encodings read back the same.
Value metric_value(const pb::Payload::Metric& metric);
// Sets the metric's datatype and value; monostate sets is_null. Signed types narrower than 64 bits
// are written sign-extended to 32 bits (int_value), as Tahu reads them; UInt32 goes to long_value
// (Tahu's JavaScript reads it only there), UInt8/UInt16 to int_value, 64-bit types to long_value.
void set_metric_value(pb::Payload::Metric& metric, DataType type, const Value& value);

// The same for the scalar cells of the structured types (no arrays, no bytes there).
Value property_value(const pb::Payload::PropertyValue& property);
void set_property_value(pb::Payload::PropertyValue& property, DataType type, const Value& value);
Value dataset_value(const pb::Payload::DataSet::DataSetValue& cell, DataType column_type);
void set_dataset_value(pb::Payload::DataSet::DataSetValue& cell, DataType column_type, const Value& value);
Value parameter_value(const pb::Payload::Template::Parameter& parameter);
void set_parameter_value(pb::Payload::Template::Parameter& parameter, DataType type, const Value& value);

// The 3.0 array encodings: little-endian elements; BooleanArray is a uint32 count then the bits,
// most significant first; StringArray is NUL-terminated UTF-8 strings.
std::string pack_array(DataType type, const Value& value);
Value unpack_array(DataType type, std::string_view bytes);

}  // namespace oee::sparkplug
