// Which oneof field of a Sparkplug message carries each datatype. Metric, PropertyValue,
// DataSetValue and Template.Parameter name their scalar fields alike, so one template reads and
// writes them all.
#include "oee/sparkplug/metric_value.h"

#include <limits>

namespace oee::sparkplug {
namespace {

[[noreturn]] void mismatch(DataType type, std::string_view what) {
  throw ValueError(std::string(datatype_name(type)) + ": " + std::string(what));
}

template <class M>
std::uint64_t raw_integer(const M& m, DataType type) {
  if (m.value_case() == M::kIntValue) return m.int_value();
  if (m.value_case() == M::kLongValue) return m.long_value();
  mismatch(type, "value is not in int_value or long_value");
}

std::int64_t signed_of(std::uint64_t raw, int bits) {
  int shift = 64 - bits;
  return static_cast<std::int64_t>(raw << shift) >> shift;
}

template <class M>
Value read_scalar(const M& m, DataType type) {
  if (m.value_case() == M::VALUE_NOT_SET) return std::monostate{};
  if (is_signed_integer(type)) return signed_of(raw_integer(m, type), integer_bits(type));
  if (is_unsigned_integer(type)) {
    std::uint64_t raw = raw_integer(m, type);
    if (integer_bits(type) < 64 && raw >> integer_bits(type)) mismatch(type, std::to_string(raw) + " is out of range");
    return raw;
  }
  switch (type) {
    case pb::Float:
      if (m.value_case() != M::kFloatValue) mismatch(type, "value is not in float_value");
      return m.float_value();
    case pb::Double:
      if (m.value_case() != M::kDoubleValue) mismatch(type, "value is not in double_value");
      return m.double_value();
    case pb::Boolean:
      if (m.value_case() != M::kBooleanValue) mismatch(type, "value is not in boolean_value");
      return m.boolean_value();
    case pb::String: case pb::Text: case pb::UUID:
      if (m.value_case() != M::kStringValue) mismatch(type, "value is not in string_value");
      return m.string_value();
    default: mismatch(type, "not a scalar type");
  }
}

template <class T>
const T& alternative(const Value& value, DataType type) {
  if (auto* v = std::get_if<T>(&value)) return *v;
  mismatch(type, "the value given is of another type");
}

template <class M>
void write_integer(M& m, DataType type, const Value& value) {
  int bits = integer_bits(type);
  if (is_signed_integer(type)) {
    std::int64_t v = alternative<std::int64_t>(value, type);
    if (bits < 64 && signed_of(static_cast<std::uint64_t>(v), bits) != v) mismatch(type, std::to_string(v) + " is out of range");
    if (bits < 64) {
      m.set_int_value(static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));  // sign-extended to 32 bits
    } else {
      m.set_long_value(static_cast<std::uint64_t>(v));
    }
    return;
  }
  std::uint64_t v = alternative<std::uint64_t>(value, type);
  if (bits < 64 && v >> bits) mismatch(type, std::to_string(v) + " is out of range");
  // UInt32 in long_value: Tahu's JavaScript reads it only there (and our reader takes either).
  if (bits < 32) {
    m.set_int_value(static_cast<std::uint32_t>(v));
  } else {
    m.set_long_value(v);
  }
}

template <class M>
void write_scalar(M& m, DataType type, const Value& value) {
  if (is_signed_integer(type) || is_unsigned_integer(type)) return write_integer(m, type, value);
  switch (type) {
    case pb::Float: m.set_float_value(alternative<float>(value, type)); return;
    case pb::Double: m.set_double_value(alternative<double>(value, type)); return;
    case pb::Boolean: m.set_boolean_value(alternative<bool>(value, type)); return;
    case pb::String: case pb::Text: case pb::UUID: m.set_string_value(alternative<std::string>(value, type)); return;
    default: mismatch(type, "not a scalar type");
  }
}

bool is_bytes(DataType type) { return type == pb::Bytes || type == pb::File; }

}  // namespace

Value metric_value(const pb::Payload::Metric& metric) {
  DataType type = static_cast<DataType>(metric.datatype());
  if (metric.is_null()) return std::monostate{};
  if (is_array(type) || is_bytes(type)) {
    if (metric.value_case() == pb::Payload::Metric::VALUE_NOT_SET) return std::monostate{};
    if (metric.value_case() != pb::Payload::Metric::kBytesValue) mismatch(type, "value is not in bytes_value");
    if (is_array(type)) return unpack_array(type, metric.bytes_value());
    return Bytes(metric.bytes_value().begin(), metric.bytes_value().end());
  }
  return read_scalar(metric, type);
}

void set_metric_value(pb::Payload::Metric& metric, DataType type, const Value& value) {
  metric.set_datatype(type);
  metric.clear_value();
  metric.clear_is_null();
  if (std::holds_alternative<std::monostate>(value)) {
    metric.set_is_null(true);
  } else if (is_array(type)) {
    metric.set_bytes_value(pack_array(type, value));
  } else if (is_bytes(type)) {
    const auto& bytes = alternative<Bytes>(value, type);
    metric.set_bytes_value(std::string(bytes.begin(), bytes.end()));
  } else {
    write_scalar(metric, type, value);
  }
}

Value property_value(const pb::Payload::PropertyValue& property) {
  if (property.is_null()) return std::monostate{};
  return read_scalar(property, static_cast<DataType>(property.type()));
}

void set_property_value(pb::Payload::PropertyValue& property, DataType type, const Value& value) {
  property.set_type(type);
  property.clear_value();
  property.clear_is_null();
  if (std::holds_alternative<std::monostate>(value)) {
    property.set_is_null(true);
  } else {
    write_scalar(property, type, value);
  }
}

Value dataset_value(const pb::Payload::DataSet::DataSetValue& cell, DataType column_type) {
  return read_scalar(cell, column_type);
}

void set_dataset_value(pb::Payload::DataSet::DataSetValue& cell, DataType column_type, const Value& value) {
  cell.clear_value();
  if (!std::holds_alternative<std::monostate>(value)) write_scalar(cell, column_type, value);
}

Value parameter_value(const pb::Payload::Template::Parameter& parameter) {
  return read_scalar(parameter, static_cast<DataType>(parameter.type()));
}

void set_parameter_value(pb::Payload::Template::Parameter& parameter, DataType type, const Value& value) {
  parameter.set_type(type);
  parameter.clear_value();
  if (!std::holds_alternative<std::monostate>(value)) write_scalar(parameter, type, value);
}

}  // namespace oee::sparkplug
