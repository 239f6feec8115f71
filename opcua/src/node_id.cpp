// NodeId text syntax (OPC 10000-6 5.3.1.10) and the Base64 that its b= form uses.
#include "oee/opcua/node_id.h"

#include <charconv>
#include <cstdio>

namespace oee::opcua {
namespace {

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

template <class T>
bool parse_unsigned(std::string_view text, T& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += kBase64Alphabet[(n >> 6) & 63];
    out += kBase64Alphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t n = uint8_t(bytes[i]) << 16;
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += kBase64Alphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : text) {
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding) return std::nullopt;  // data after padding
    const int v = base64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (padding > 2) return std::nullopt;
  return out;
}

std::string Guid::to_string() const {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X", data1, data2, data3,
                data4[0], data4[1], data4[2], data4[3], data4[4], data4[5], data4[6], data4[7]);
  return buf;
}

std::optional<Guid> Guid::parse(std::string_view text) {
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') text = text.substr(1, 36);
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-') {
    return std::nullopt;
  }
  uint8_t bytes[16];
  size_t b = 0;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '-') {
      ++i;
      continue;
    }
    const int hi = hex_value(text[i]);
    const int lo = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
    if (hi < 0 || lo < 0 || b >= 16) return std::nullopt;
    bytes[b++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  if (b != 16) return std::nullopt;
  Guid g;
  g.data1 = uint32_t(bytes[0]) << 24 | uint32_t(bytes[1]) << 16 | uint32_t(bytes[2]) << 8 | bytes[3];
  g.data2 = static_cast<uint16_t>(bytes[4] << 8 | bytes[5]);
  g.data3 = static_cast<uint16_t>(bytes[6] << 8 | bytes[7]);
  for (int i = 0; i < 8; ++i) g.data4[i] = bytes[8 + i];
  return g;
}

std::string NodeId::to_string() const {
  std::string out;
  if (namespace_index != 0) out = "ns=" + std::to_string(namespace_index) + ";";
  switch (kind) {
    case Kind::numeric: return out + "i=" + std::to_string(numeric);
    case Kind::string: return out + "s=" + text;
    case Kind::guid: return out + "g=" + guid.to_string();
    case Kind::byte_string: return out + "b=" + base64_encode(text);
  }
  return out;
}

std::optional<NodeId> NodeId::parse(std::string_view text) {
  NodeId id;
  if (text.starts_with("ns=")) {
    const size_t semi = text.find(';');
    if (semi == std::string_view::npos) return std::nullopt;
    if (!parse_unsigned(text.substr(3, semi - 3), id.namespace_index)) return std::nullopt;
    text.remove_prefix(semi + 1);
  }
  if (text.size() < 2 || text[1] != '=') return std::nullopt;
  const std::string_view value = text.substr(2);
  switch (text[0]) {
    case 'i':
      id.kind = Kind::numeric;
      if (!parse_unsigned(value, id.numeric)) return std::nullopt;
      return id;
    case 's':
      id.kind = Kind::string;
      id.text = std::string(value);
      return id;
    case 'g': {
      id.kind = Kind::guid;
      auto g = Guid::parse(value);
      if (!g) return std::nullopt;
      id.guid = *g;
      return id;
    }
    case 'b': {
      id.kind = Kind::byte_string;
      auto bytes = base64_decode(value);
      if (!bytes) return std::nullopt;
      id.text = std::move(*bytes);
      return id;
    }
    default: return std::nullopt;
  }
}

std::string ExpandedNodeId::to_string() const {
  std::string out;
  if (server_index != 0) out += "svr=" + std::to_string(server_index) + ";";
  if (!namespace_uri.empty()) {
    out += "nsu=" + namespace_uri + ";";
    NodeId local = node_id;
    local.namespace_index = 0;
    return out + local.to_string();
  }
  return out + node_id.to_string();
}

}  // namespace oee::opcua
