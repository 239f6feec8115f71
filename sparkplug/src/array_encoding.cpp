// The Sparkplug 3.0 array datatypes, packed in a metric's bytes_value.
#include <bit>
#include <limits>

#include "oee/sparkplug/metric_value.h"

namespace oee::sparkplug {
namespace {

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

template <class T>
const T& alternative(const Value& value, DataType type) {
  if (auto* v = std::get_if<T>(&value)) return *v;
  throw ValueError("value does not fit " + std::string(datatype_name(type)));
}

std::string pack_signed(DataType type, const std::vector<std::int64_t>& values) {
  int bits = integer_bits(type);
  std::int64_t lo = bits == 64 ? std::numeric_limits<std::int64_t>::min() : -(std::int64_t(1) << (bits - 1));
  std::int64_t hi = bits == 64 ? std::numeric_limits<std::int64_t>::max() : (std::int64_t(1) << (bits - 1)) - 1;
  std::string out;
  for (auto v : values) {
    if (v < lo || v > hi) throw ValueError(std::to_string(v) + " is out of range of " + std::string(datatype_name(type)));
    put_le(out, static_cast<std::uint64_t>(v), bits / 8);
  }
  return out;
}

std::string pack_unsigned(DataType type, const std::vector<std::uint64_t>& values) {
  int bits = integer_bits(type);
  std::string out;
  for (auto v : values) {
    if (bits < 64 && v >> bits) throw ValueError(std::to_string(v) + " is out of range of " + std::string(datatype_name(type)));
    put_le(out, v, bits / 8);
  }
  return out;
}

std::string pack_booleans(const std::vector<bool>& values) {
  if (values.size() > std::numeric_limits<std::uint32_t>::max()) throw ValueError("BooleanArray too long");
  std::string out;
  put_le(out, values.size(), 4);
  out.append((values.size() + 7) / 8, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i]) out[4 + i / 8] = static_cast<char>(out[4 + i / 8] | (0x80 >> (i % 8)));
  }
  return out;
}

std::string pack_strings(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& s : values) {
    if (s.find('\0') != std::string::npos) throw ValueError("a StringArray element holds a NUL byte");
    out += s;
    out += '\0';
  }
  return out;
}

// Element count of `bytes` for a fixed element width; throws when the length is not a multiple.
std::size_t elements(DataType type, std::string_view bytes, int width) {
  if (bytes.size() % width != 0) {
    throw ValueError(std::string(datatype_name(type)) + " of " + std::to_string(bytes.size()) +
                     " bytes is not whole elements of " + std::to_string(width));
  }
  return bytes.size() / width;
}

std::vector<std::int64_t> unpack_signed(DataType type, std::string_view bytes) {
  int width = integer_bits(type) / 8;
  std::vector<std::int64_t> out(elements(type, bytes, width));
  int shift = 64 - 8 * width;
  for (std::size_t i = 0; i < out.size(); ++i) {
    // Shift the element's sign bit to bit 63 and back: sign extension without overflow.
    out[i] = static_cast<std::int64_t>(get_le(bytes, i * width, width) << shift) >> shift;
  }
  return out;
}

std::vector<std::uint64_t> unpack_unsigned(DataType type, std::string_view bytes) {
  int width = integer_bits(type) / 8;
  std::vector<std::uint64_t> out(elements(type, bytes, width));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = get_le(bytes, i * width, width);
  return out;
}

std::vector<bool> unpack_booleans(std::string_view bytes) {
  if (bytes.size() < 4) throw ValueError("BooleanArray shorter than its 4-byte count");
  std::uint64_t count = get_le(bytes, 0, 4);
  if ((count + 7) / 8 != bytes.size() - 4) {
    throw ValueError("BooleanArray of " + std::to_string(count) + " values has " + std::to_string(bytes.size() - 4) +
                     " bytes of bits");
  }
  std::vector<bool> out(count);
  for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<unsigned char>(bytes[4 + i / 8]) & (0x80 >> (i % 8));
  return out;
}

std::vector<std::string> unpack_strings(std::string_view bytes) {
  if (!bytes.empty() && bytes.back() != '\0') throw ValueError("StringArray not terminated by a NUL byte");
  std::vector<std::string> out;
  for (std::size_t start = 0; start < bytes.size();) {
    auto end = bytes.find('\0', start);
    out.emplace_back(bytes.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string pack_array(DataType type, const Value& value) {
  switch (type) {
    case pb::Int8Array: case pb::Int16Array: case pb::Int32Array: case pb::Int64Array:
      return pack_signed(type, alternative<std::vector<std::int64_t>>(value, type));
    case pb::UInt8Array: case pb::UInt16Array: case pb::UInt32Array: case pb::UInt64Array: case pb::DateTimeArray:
      return pack_unsigned(type, alternative<std::vector<std::uint64_t>>(value, type));
    case pb::FloatArray: {
      std::string out;
      for (float f : alternative<std::vector<float>>(value, type)) put_le(out, std::bit_cast<std::uint32_t>(f), 4);
      return out;
    }
    case pb::DoubleArray: {
      std::string out;
      for (double d : alternative<std::vector<double>>(value, type)) put_le(out, std::bit_cast<std::uint64_t>(d), 8);
      return out;
    }
    case pb::BooleanArray: return pack_booleans(alternative<std::vector<bool>>(value, type));
    case pb::StringArray: return pack_strings(alternative<std::vector<std::string>>(value, type));
    default: throw ValueError(std::string(datatype_name(type)) + " is not an array type");
  }
}

Value unpack_array(DataType type, std::string_view bytes) {
  switch (type) {
    case pb::Int8Array: case pb::Int16Array: case pb::Int32Array: case pb::Int64Array:
      return unpack_signed(type, bytes);
    case pb::UInt8Array: case pb::UInt16Array: case pb::UInt32Array: case pb::UInt64Array: case pb::DateTimeArray:
      return unpack_unsigned(type, bytes);
    case pb::FloatArray: {
      std::vector<float> out(elements(type, bytes, 4));
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::bit_cast<float>(std::uint32_t(get_le(bytes, i * 4, 4)));
      return out;
    }
    case pb::DoubleArray: {
      std::vector<double> out(elements(type, bytes, 8));
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::bit_cast<double>(get_le(bytes, i * 8, 8));
      return out;
    }
    case pb::BooleanArray: return unpack_booleans(bytes);
    case pb::StringArray: return unpack_strings(bytes);
    default: throw ValueError(std::string(datatype_name(type)) + " is not an array type");
  }
}

}  // namespace oee::sparkplug
