#include "oee/edge/sparkplug_wire.h"

#include <cstring>

namespace oee::edge::sparkplug {
namespace {

// Protobuf wire types.
constexpr std::uint32_t kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_key(std::string& out, std::uint32_t field, std::uint32_t wire) { put_varint(out, (field << 3) | wire); }

void put_varint_field(std::string& out, std::uint32_t field, std::uint64_t v) {
  put_key(out, field, kVarint);
  put_varint(out, v);
}

void put_bytes_field(std::string& out, std::uint32_t field, std::string_view bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out.append(bytes);
}

// PropertySet {1 keys, 2 values}, PropertyValue {1 type, 4 long_value}: {"rollover": UInt64}.
std::string encode_rollover_property(std::uint64_t rollover) {
  std::string value;
  put_varint_field(value, 1, static_cast<std::uint32_t>(DataType::uint64));
  put_varint_field(value, 4, rollover);
  std::string set;
  put_bytes_field(set, 1, "rollover");
  put_bytes_field(set, 2, value);
  return set;
}

// Metric fields: 1 name, 3 timestamp, 4 datatype, 5 is_historical, 7 is_null, 11 long_value,
// 9 properties, 13 double_value, 14 boolean_value, 15 string_value.
std::string encode_metric(const Metric& m) {
  std::string out;
  put_bytes_field(out, 1, m.name);
  put_varint_field(out, 3, m.timestamp_ms);
  put_varint_field(out, 4, static_cast<std::uint32_t>(m.type));
  if (m.is_historical) put_varint_field(out, 5, 1);
  if (m.rollover > 0) put_bytes_field(out, 9, encode_rollover_property(m.rollover));
  if (m.is_null) {
    put_varint_field(out, 7, 1);
    return out;
  }
  switch (m.type) {
    case DataType::int64:
    case DataType::uint64:
      put_varint_field(out, 11, m.long_value);
      break;
    case DataType::dbl: {
      put_key(out, 13, kFixed64);
      std::uint64_t bits = 0;
      std::memcpy(&bits, &m.double_value, sizeof bits);
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
      break;
    }
    case DataType::boolean:
      put_varint_field(out, 14, m.boolean_value ? 1 : 0);
      break;
    case DataType::string:
      put_bytes_field(out, 15, m.string_value);
      break;
  }
  return out;
}

// A forward-only reader of protobuf fields.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool done() const { return pos_ >= b_.size(); }
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return false;
      const auto byte = static_cast<unsigned char>(b_[pos_++]);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  // Reads a field's key and its value: a varint in `v`, or the bytes of a length-delimited field.
  bool field(std::uint32_t& number, std::uint64_t& v, std::string_view& bytes) {
    std::uint64_t key = 0;
    if (!varint(key)) return false;
    number = static_cast<std::uint32_t>(key >> 3);
    switch (key & 7) {
      case kVarint: return varint(v);
      case kFixed64: return skip(8);
      case kFixed32: return skip(4);
      case kLengthDelimited:
        if (!varint(v) || v > b_.size() - pos_) return false;
        bytes = b_.substr(pos_, v);
        pos_ += v;
        return true;
      default: return false;
    }
  }

 private:
  bool skip(std::size_t n) {
    if (n > b_.size() - pos_) return false;
    pos_ += n;
    return true;
  }
  std::string_view b_;
  std::size_t pos_ = 0;
};

bool decode_metric(std::string_view bytes, std::vector<std::pair<std::string, bool>>& out) {
  Reader r(bytes);
  std::string name;
  bool is_boolean = false, value = false;
  while (!r.done()) {
    std::uint32_t number = 0;
    std::uint64_t v = 0;
    std::string_view b;
    if (!r.field(number, v, b)) return false;
    if (number == 1) name = std::string(b);
    if (number == 4) is_boolean = v == static_cast<std::uint32_t>(DataType::boolean);
    if (number == 14) value = v != 0;
  }
  if (is_boolean) out.emplace_back(std::move(name), value);
  return true;
}

}  // namespace

std::string encode(const Payload& p) {
  std::string out;
  put_varint_field(out, 1, p.timestamp_ms);
  for (const auto& m : p.metrics) put_bytes_field(out, 2, encode_metric(m));
  if (p.has_seq) put_varint_field(out, 3, p.seq);
  return out;
}

bool decode_boolean_metrics(std::string_view bytes, std::vector<std::pair<std::string, bool>>& out) {
  Reader r(bytes);
  while (!r.done()) {
    std::uint32_t number = 0;
    std::uint64_t v = 0;
    std::string_view b;
    if (!r.field(number, v, b)) return false;
    if (number == 2 && !decode_metric(b, out)) return false;
  }
  return true;
}

}  // namespace oee::edge::sparkplug
