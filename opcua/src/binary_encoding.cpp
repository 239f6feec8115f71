// OPC UA Binary encoding of the built-in types (OPC 10000-6 5.2.2).
#include "oee/opcua/binary_encoding.h"

namespace oee::opcua {
namespace {

// NodeId encoding bytes (OPC 10000-6 5.2.2.9).
constexpr uint8_t kTwoByte = 0, kFourByte = 1, kNumeric = 2, kString = 3, kGuid = 4, kByteString = 5;
constexpr uint8_t kNamespaceUriFlag = 0x80, kServerIndexFlag = 0x40;
// Variant encoding mask bits.
constexpr uint8_t kArrayFlag = 0x80, kDimensionsFlag = 0x40, kTypeMask = 0x3F;

template <class T>
const T& get(const Scalar& s) {
  if (const T* p = std::get_if<T>(&s)) return *p;
  throw DecodeError("variant element does not match its type");
}

}  // namespace

void BinaryWriter::bytes(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  out_.insert(out_.end(), p, p + size);
}

void BinaryWriter::string(std::string_view s) {
  i32(static_cast<int32_t>(s.size()));
  bytes(s.data(), s.size());
}

void BinaryWriter::guid(const Guid& g) {
  u32(g.data1);
  u16(g.data2);
  u16(g.data3);
  bytes(g.data4.data(), g.data4.size());
}

void BinaryWriter::node_id(const NodeId& id) {
  switch (id.kind) {
    case NodeId::Kind::numeric:
      if (id.namespace_index == 0 && id.numeric <= 0xFF) {
        u8(kTwoByte);
        u8(static_cast<uint8_t>(id.numeric));
      } else if (id.namespace_index <= 0xFF && id.numeric <= 0xFFFF) {
        u8(kFourByte);
        u8(static_cast<uint8_t>(id.namespace_index));
        u16(static_cast<uint16_t>(id.numeric));
      } else {
        u8(kNumeric);
        u16(id.namespace_index);
        u32(id.numeric);
      }
      return;
    case NodeId::Kind::string:
      u8(kString);
      u16(id.namespace_index);
      string(id.text);
      return;
    case NodeId::Kind::guid:
      u8(kGuid);
      u16(id.namespace_index);
      guid(id.guid);
      return;
    case NodeId::Kind::byte_string:
      u8(kByteString);
      u16(id.namespace_index);
      string(id.text);
      return;
  }
}

void BinaryWriter::expanded_node_id(const ExpandedNodeId& id) {
  const size_t flag_at = out_.size();
  node_id(id.node_id);
  if (!id.namespace_uri.empty()) {
    out_[flag_at] |= kNamespaceUriFlag;
    string(id.namespace_uri);
  }
  if (id.server_index != 0) {
    out_[flag_at] |= kServerIndexFlag;
    u32(id.server_index);
  }
}

void BinaryWriter::qualified_name(const QualifiedName& q) {
  u16(q.namespace_index);
  string(q.name);
}

void BinaryWriter::localized_text(const LocalizedText& t) {
  const uint8_t mask = (t.locale.empty() ? 0 : 1) | (t.text.empty() ? 0 : 2);
  u8(mask);
  if (mask & 1) string(t.locale);
  if (mask & 2) string(t.text);
}

void BinaryWriter::extension_object(const ExtensionObject& e) {
  node_id(e.type_id);
  u8(static_cast<uint8_t>(e.encoding));
  if (e.encoding != ExtensionObject::Encoding::none) string(e.body);
}

void BinaryWriter::scalar(BuiltinType type, const Scalar& v) {
  switch (type) {
    case BuiltinType::null: return;
    case BuiltinType::boolean: return boolean(get<bool>(v));
    case BuiltinType::sbyte: return i8(get<int8_t>(v));
    case BuiltinType::byte: return u8(get<uint8_t>(v));
    case BuiltinType::int16: return i16(get<int16_t>(v));
    case BuiltinType::uint16: return u16(get<uint16_t>(v));
    case BuiltinType::int32: return i32(get<int32_t>(v));
    case BuiltinType::uint32: return u32(get<uint32_t>(v));
    case BuiltinType::int64: return i64(get<int64_t>(v));
    case BuiltinType::uint64: return u64(get<uint64_t>(v));
    case BuiltinType::float_: return f32(get<float>(v));
    case BuiltinType::double_: return f64(get<double>(v));
    case BuiltinType::string:
    case BuiltinType::byte_string:
    case BuiltinType::xml_element: return string(get<std::string>(v));
    case BuiltinType::date_time: return date_time(get<DateTime>(v));
    case BuiltinType::guid: return guid(get<Guid>(v));
    case BuiltinType::node_id: return node_id(get<NodeId>(v));
    case BuiltinType::expanded_node_id: return expanded_node_id(get<ExpandedNodeId>(v));
    case BuiltinType::status_code: return status_code(get<StatusCode>(v));
    case BuiltinType::qualified_name: return qualified_name(get<QualifiedName>(v));
    case BuiltinType::localized_text: return localized_text(get<LocalizedText>(v));
    case BuiltinType::extension_object: return extension_object(get<ExtensionObject>(v));
    case BuiltinType::data_value: return data_value(*get<std::shared_ptr<DataValue>>(v));
    case BuiltinType::variant: return variant(*get<std::shared_ptr<Variant>>(v));
    case BuiltinType::diagnostic_info: return diagnostic_info(*get<std::shared_ptr<DiagnosticInfo>>(v));
  }
  throw DecodeError("unknown built-in type");
}

void BinaryWriter::variant(const Variant& v) {
  if (v.type == BuiltinType::null) {
    u8(0);
    return;
  }
  uint8_t mask = static_cast<uint8_t>(v.type);
  if (v.is_array) mask |= kArrayFlag;
  if (v.is_array && !v.dimensions.empty()) mask |= kDimensionsFlag;
  u8(mask);
  if (v.is_array) {
    i32(static_cast<int32_t>(v.values.size()));
    for (const auto& value : v.values) scalar(v.type, value);
    if (!v.dimensions.empty()) array(v.dimensions, [this](int32_t d) { i32(d); });
  } else {
    if (v.values.empty()) throw DecodeError("scalar variant without a value");
    scalar(v.type, v.values.front());
  }
}

void BinaryWriter::data_value(const DataValue& v) {
  uint8_t mask = 0;
  if (v.has_value) mask |= 0x01;
  if (v.status.code != 0) mask |= 0x02;
  if (v.source_timestamp.ticks != 0) mask |= 0x04;
  if (v.server_timestamp.ticks != 0) mask |= 0x08;
  if (v.source_picoseconds != 0) mask |= 0x10;
  if (v.server_picoseconds != 0) mask |= 0x20;
  u8(mask);
  if (mask & 0x01) variant(v.value);
  if (mask & 0x02) status_code(v.status);
  if (mask & 0x04) date_time(v.source_timestamp);
  if (mask & 0x10) u16(v.source_picoseconds);
  if (mask & 0x08) date_time(v.server_timestamp);
  if (mask & 0x20) u16(v.server_picoseconds);
}

void BinaryWriter::diagnostic_info(const DiagnosticInfo& d) {
  uint8_t mask = 0;
  if (d.symbolic_id >= 0) mask |= 0x01;
  if (d.namespace_uri >= 0) mask |= 0x02;
  if (d.localized_text >= 0) mask |= 0x04;
  if (d.locale >= 0) mask |= 0x08;
  if (!d.additional_info.empty()) mask |= 0x10;
  if (d.has_inner_status) mask |= 0x20;
  if (d.inner) mask |= 0x40;
  u8(mask);
  if (mask & 0x01) i32(d.symbolic_id);
  if (mask & 0x02) i32(d.namespace_uri);
  if (mask & 0x08) i32(d.locale);
  if (mask & 0x04) i32(d.localized_text);
  if (mask & 0x10) string(d.additional_info);
  if (mask & 0x20) status_code(d.inner_status);
  if (mask & 0x40) diagnostic_info(*d.inner);
}

// ---------------------------------------------------------------------------------------------

std::string BinaryReader::string() {
  const int32_t n = i32();
  if (n <= 0) return {};  // -1 is the null string
  need(static_cast<size_t>(n));
  std::string s(reinterpret_cast<const char*>(p_), static_cast<size_t>(n));
  p_ += n;
  return s;
}

size_t BinaryReader::array_length(size_t min_element_bytes) {
  const int32_t n = i32();
  if (n < 0) return 0;
  if (static_cast<size_t>(n) > remaining() / (min_element_bytes ? min_element_bytes : 1)) {
    throw DecodeError("array length exceeds the message");
  }
  return static_cast<size_t>(n);
}

Guid BinaryReader::guid() {
  Guid g;
  g.data1 = u32();
  g.data2 = u16();
  g.data3 = u16();
  need(8);
  for (auto& b : g.data4) b = *p_++;
  return g;
}

NodeId BinaryReader::node_id() {
  NodeId id;
  const uint8_t encoding = u8() & ~(kNamespaceUriFlag | kServerIndexFlag);
  switch (encoding) {
    case kTwoByte: id.numeric = u8(); return id;
    case kFourByte:
      id.namespace_index = u8();
      id.numeric = u16();
      return id;
    case kNumeric:
      id.namespace_index = u16();
      id.numeric = u32();
      return id;
    case kString:
      id.namespace_index = u16();
      id.kind = NodeId::Kind::string;
      id.text = string();
      return id;
    case kGuid:
      id.namespace_index = u16();
      id.kind = NodeId::Kind::guid;
      id.guid = guid();
      return id;
    case kByteString:
      id.namespace_index = u16();
      id.kind = NodeId::Kind::byte_string;
      id.text = string();
      return id;
    default: throw DecodeError("invalid NodeId encoding");
  }
}

ExpandedNodeId BinaryReader::expanded_node_id() {
  need(1);
  const uint8_t flags = *p_;
  ExpandedNodeId id;
  id.node_id = node_id();
  if (flags & kNamespaceUriFlag) id.namespace_uri = string();
  if (flags & kServerIndexFlag) id.server_index = u32();
  return id;
}

QualifiedName BinaryReader::qualified_name() {
  QualifiedName q;
  q.namespace_index = u16();
  q.name = string();
  return q;
}

LocalizedText BinaryReader::localized_text() {
  LocalizedText t;
  const uint8_t mask = u8();
  if (mask & 0x01) t.locale = string();
  if (mask & 0x02) t.text = string();
  return t;
}

ExtensionObject BinaryReader::extension_object() {
  ExtensionObject e;
  e.type_id = node_id();
  const uint8_t encoding = u8();
  if (encoding > 2) throw DecodeError("invalid ExtensionObject encoding");
  e.encoding = static_cast<ExtensionObject::Encoding>(encoding);
  if (encoding != 0) e.body = string();
  return e;
}

Scalar BinaryReader::scalar(BuiltinType type) {
  switch (type) {
    case BuiltinType::null: return std::monostate{};
    case BuiltinType::boolean: return boolean();
    case BuiltinType::sbyte: return i8();
    case BuiltinType::byte: return u8();
    case BuiltinType::int16: return i16();
    case BuiltinType::uint16: return u16();
    case BuiltinType::int32: return i32();
    case BuiltinType::uint32: return u32();
    case BuiltinType::int64: return i64();
    case BuiltinType::uint64: return u64();
    case BuiltinType::float_: return f32();
    case BuiltinType::double_: return f64();
    case BuiltinType::string:
    case BuiltinType::byte_string:
    case BuiltinType::xml_element: return string();
    case BuiltinType::date_time: return date_time();
    case BuiltinType::guid: return guid();
    case BuiltinType::node_id: return node_id();
    case BuiltinType::expanded_node_id: return expanded_node_id();
    case BuiltinType::status_code: return status_code();
    case BuiltinType::qualified_name: return qualified_name();
    case BuiltinType::localized_text: return localized_text();
    case BuiltinType::extension_object: return extension_object();
    case BuiltinType::data_value: return std::make_shared<DataValue>(data_value());
    case BuiltinType::variant: return std::make_shared<Variant>(variant());
    case BuiltinType::diagnostic_info: return std::make_shared<DiagnosticInfo>(diagnostic_info());
  }
  throw DecodeError("unknown built-in type");
}

Variant BinaryReader::variant() {
  Variant v;
  variant_into(v);
  return v;
}

void BinaryReader::variant_into(Variant& v) {
  DepthGuard guard(depth_);
  const uint8_t mask = u8();
  const uint8_t type_id = mask & kTypeMask;
  if (type_id > static_cast<uint8_t>(BuiltinType::diagnostic_info)) throw DecodeError("invalid Variant type");
  v.type = static_cast<BuiltinType>(type_id);
  v.is_array = false;
  v.values.clear();
  v.dimensions.clear();
  if (mask & kArrayFlag) {
    v.is_array = true;
    const size_t n = array_length();
    if (n > variant_elements_left_) throw DecodeError("too many array elements in one message");
    variant_elements_left_ -= n;
    v.values.reserve(n);
    for (size_t i = 0; i < n; ++i) v.values.push_back(scalar(v.type));
    if (mask & kDimensionsFlag) {
      const size_t dims = array_length(4);
      size_t product = dims ? 1 : 0;
      for (size_t i = 0; i < dims; ++i) {
        const int32_t d = i32();
        if (d < 0) throw DecodeError("negative array dimension");
        v.dimensions.push_back(d);
        product = product * static_cast<size_t>(d);
        if (product > n && d != 0) throw DecodeError("array dimensions exceed the array");
      }
      if (product != n) throw DecodeError("array dimensions do not match the array length");
    }
  } else if (v.type != BuiltinType::null) {
    if (mask & kDimensionsFlag) throw DecodeError("dimensions on a scalar Variant");
    v.values.push_back(scalar(v.type));
  }
}

DataValue BinaryReader::data_value() {
  DataValue v;
  data_value_into(v);
  return v;
}

void BinaryReader::data_value_into(DataValue& v) {
  DepthGuard guard(depth_);
  const uint8_t mask = u8();
  v.has_value = (mask & 0x01) != 0;
  if (v.has_value) {
    variant_into(v.value);
  } else {
    v.value.type = BuiltinType::null;
    v.value.is_array = false;
    v.value.values.clear();
    v.value.dimensions.clear();
  }
  v.status = (mask & 0x02) ? status_code() : StatusCode{};
  v.source_timestamp = (mask & 0x04) ? date_time() : DateTime{};
  v.source_picoseconds = (mask & 0x10) ? u16() : 0;
  v.server_timestamp = (mask & 0x08) ? date_time() : DateTime{};
  v.server_picoseconds = (mask & 0x20) ? u16() : 0;
}

DiagnosticInfo BinaryReader::diagnostic_info() {
  DepthGuard guard(depth_);
  DiagnosticInfo d;
  const uint8_t mask = u8();
  if (mask & 0x01) d.symbolic_id = i32();
  if (mask & 0x02) d.namespace_uri = i32();
  if (mask & 0x08) d.locale = i32();
  if (mask & 0x04) d.localized_text = i32();
  if (mask & 0x10) d.additional_info = string();
  if (mask & 0x20) {
    d.has_inner_status = true;
    d.inner_status = status_code();
  }
  if (mask & 0x40) d.inner = std::make_shared<DiagnosticInfo>(diagnostic_info());
  return d;
}

}  // namespace oee::opcua
