#include "oee/codec/json_writer.h"

#include <charconv>
#include <cmath>

namespace oee::codec {

namespace {

// The length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 when it is not one.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  const auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) { return byte(k) >= lo && byte(k) <= hi; };
  const unsigned b = byte(0);
  if (b >= 0xC2 && b <= 0xDF) return cont(1) ? 2 : 0;
  if (b == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if (b == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (b >= 0xE1 && b <= 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (b == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b >= 0xF1 && b <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

void append_escape(std::string& out, char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default: {
      const auto u = static_cast<unsigned char>(c);
      const char text[] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 15]};
      out.append(text, sizeof text);
    }
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  // Runs of characters that need no escape are appended whole: a character at a time was most of
  // what the edge's publisher spent on each event's src and inc.
  std::size_t plain = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0x20 && u < 0x80 && u != '"' && u != '\\') {
      ++i;
      continue;
    }
    if (u >= 0x80) {
      if (const std::size_t n = utf8_sequence_length(s, i)) {
        i += n;
        continue;
      }
    }
    out.append(s.substr(plain, i - plain));
    if (u >= 0x80) out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
    else append_escape(out, s[i]);
    plain = ++i;
  }
  out.append(s.substr(plain));
  out += '"';
}

void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  // From 1e15 on, an exponent: shortest text may otherwise be an integer of up to 309 digits that
  // parsers reading integers (simdjson, nlohmann) reject or take beyond 2^53 inexactly.
  auto [p, ec] = std::fabs(v) < 1e15 ? std::to_chars(buf, buf + sizeof buf, v)
                                      : std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  out.append(buf, p);
}

JsonWriter& JsonWriter::string(std::string_view v) {
  separate();
  append_json_string(out_, v);
  return *this;
}

JsonWriter& JsonWriter::integer(std::int64_t v) {
  separate();
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, p);
  return *this;
}

JsonWriter& JsonWriter::number(double v) {
  separate();
  append_json_number(out_, v);
  return *this;
}

JsonWriter& JsonWriter::number(const std::optional<double>& v) { return v ? number(*v) : null(); }

JsonWriter& JsonWriter::boolean(bool v) {
  separate();
  out_ += v ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  separate();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  separate();
  out_ += json;
  return *this;
}

}  // namespace oee::codec
