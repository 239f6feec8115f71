#pragma once
// OPC UA Binary encoding (OPC 10000-6 5.2) of the built-in types. The reader checks every length
// and count against the bytes that remain before allocating, bounds nesting depth, and throws
// DecodeError on anything malformed, so hostile input costs at most the size of the message.
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "oee/opcua/types.h"

namespace oee::opcua {

// Malformed input: an Error with BadDecodingError, so callers need only one catch.
class DecodeError : public Error {
 public:
  explicit DecodeError(const std::string& what) : Error(status::bad_decoding_error, what) {}
};

class BinaryWriter {
 public:
  explicit BinaryWriter(std::vector<uint8_t>& out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back(v); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void u16(uint16_t v) { raw_le(v); }
  void u32(uint32_t v) { raw_le(v); }
  void u64(uint64_t v) { raw_le(v); }
  void i8(int8_t v) { u8(static_cast<uint8_t>(v)); }
  void i16(int16_t v) { raw_le(static_cast<uint16_t>(v)); }
  void i32(int32_t v) { raw_le(static_cast<uint32_t>(v)); }
  void i64(int64_t v) { raw_le(static_cast<uint64_t>(v)); }
  void f32(float v) { uint32_t b; std::memcpy(&b, &v, 4); raw_le(b); }
  void f64(double v) { uint64_t b; std::memcpy(&b, &v, 8); raw_le(b); }
  void bytes(const void* data, size_t size);
  void string(std::string_view s);  // also ByteString and XmlElement
  void null_string() { i32(-1); }
  void date_time(DateTime t) { i64(t.ticks); }
  void guid(const Guid& g);
  void status_code(StatusCode s) { u32(s.code); }
  void node_id(const NodeId& id);
  void expanded_node_id(const ExpandedNodeId& id);
  void qualified_name(const QualifiedName& q);
  void localized_text(const LocalizedText& t);
  void extension_object(const ExtensionObject& e);
  void variant(const Variant& v);
  void data_value(const DataValue& v);
  void diagnostic_info(const DiagnosticInfo& d);
  // Length-prefixed array: count, then each element.
  template <class T, class F>
  void array(const std::vector<T>& items, F&& encode_one) {
    i32(static_cast<int32_t>(items.size()));
    for (const auto& item : items) encode_one(item);
  }
  void scalar(BuiltinType type, const Scalar& value);

  size_t size() const { return out_.size(); }
  std::vector<uint8_t>& buffer() { return out_; }

 private:
  template <class T>
  void raw_le(T v) {
    // Grown first, then written in place: g++ 12 at -O3 reported the former insert() of a local
    // array as writing past the vector's end (a false -Wstringop-overflow).
    const size_t at = out_.size();
    out_.resize(at + sizeof(T));
    for (size_t i = 0; i < sizeof(T); ++i) out_[at + i] = static_cast<uint8_t>(v >> (8 * i));
  }
  std::vector<uint8_t>& out_;
};

class BinaryReader {
 public:
  static constexpr int kMaxNestingDepth = 16;
  // Variant array elements decoded per reader: a one-byte Boolean on the wire becomes a Scalar of
  // ~100 bytes in memory, so this caps the memory a hostile message can make us allocate.
  static constexpr size_t kMaxVariantElements = 1'000'000;

  BinaryReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  explicit BinaryReader(std::span<const uint8_t> data) : BinaryReader(data.data(), data.size()) {}

  uint8_t u8() { need(1); return *p_++; }
  bool boolean() { return u8() != 0; }
  uint16_t u16() { return raw_le<uint16_t>(); }
  uint32_t u32() { return raw_le<uint32_t>(); }
  uint64_t u64() { return raw_le<uint64_t>(); }
  int8_t i8() { return static_cast<int8_t>(u8()); }
  int16_t i16() { return static_cast<int16_t>(u16()); }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  float f32() { uint32_t b = u32(); float v; std::memcpy(&v, &b, 4); return v; }
  double f64() { uint64_t b = u64(); double v; std::memcpy(&v, &b, 8); return v; }
  std::string string();  // null string reads as ""
  DateTime date_time() { return DateTime{i64()}; }
  Guid guid();
  StatusCode status_code() { return StatusCode{u32()}; }
  NodeId node_id();
  ExpandedNodeId expanded_node_id();
  QualifiedName qualified_name();
  LocalizedText localized_text();
  ExtensionObject extension_object();
  Variant variant();
  DataValue data_value();
  // Decode into an existing object, reusing its storage: the publish path decodes 10K values a
  // second into the same buffers without touching the allocator.
  void variant_into(Variant& v);
  void data_value_into(DataValue& v);
  DiagnosticInfo diagnostic_info();
  Scalar scalar(BuiltinType type);

  // An array's element count: -1 (null) reads as 0; a count larger than the bytes left (each
  // element takes at least min_element_bytes) is rejected before anything is allocated.
  size_t array_length(size_t min_element_bytes = 1);
  template <class F>
  auto array(F&& decode_one) -> std::vector<decltype(decode_one())> {
    const size_t n = array_length();
    std::vector<decltype(decode_one())> items;
    items.reserve(n);
    for (size_t i = 0; i < n; ++i) items.push_back(decode_one());
    return items;
  }
  void skip(size_t n) { need(n); p_ += n; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const uint8_t* position() const { return p_; }

 private:
  void need(size_t n) const {
    if (remaining() < n) throw DecodeError("message truncated");
  }
  template <class T>
  T raw_le() {
    need(sizeof(T));
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(p_[i]) << (8 * i));
    p_ += sizeof(T);
    return v;
  }
  struct DepthGuard {
    explicit DepthGuard(int& depth) : depth_(depth) {
      if (++depth_ > kMaxNestingDepth) { --depth_; throw DecodeError("nesting too deep"); }
    }
    ~DepthGuard() { --depth_; }
    int& depth_;
  };
  const uint8_t* p_;
  const uint8_t* end_;
  int depth_ = 0;
  size_t variant_elements_left_ = kMaxVariantElements;
};

}  // namespace oee::opcua
