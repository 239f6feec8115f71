#pragma once
// The one way to write JSON text (HTTP responses, WebSocket messages, KPI objects): a streaming
// writer that places the commas itself, so no caller appends a comma and takes it back.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oee::codec {

// Appends `s` as a JSON string: quotes, the escapes JSON requires (", \ and control characters), and
// U+FFFD for each byte that is not part of well-formed UTF-8, so what it writes always parses.
void append_json_string(std::string& out, std::string_view s);

// Shortest text that reads back as the same double; "null" for NaN or infinity.
void append_json_number(std::string& out, double v);

// Writes one JSON value into `out` (appending): objects and arrays nest, keys and values follow in
// order. The caller opens and closes what it nests.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  // The text written so far (into which the writer appends): to take once the value is whole.
  std::string& text() { return out_; }

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }

  // A member's name; its value follows. Inline, with names that need no escape (all of the API's)
  // appended whole: keys are most of what a response writes.
  JsonWriter& key(std::string_view name) {
    separate();
    if (needs_no_escape(name)) {
      out_ += '"';
      out_ += name;
      out_ += "\":";
    } else {
      append_json_string(out_, name);
      out_ += ':';
    }
    after_value_ = false;
    return *this;
  }

  JsonWriter& string(std::string_view v);
  JsonWriter& integer(std::int64_t v);
  JsonWriter& number(double v);                        // null when not finite
  JsonWriter& number(const std::optional<double>& v);  // null when absent
  JsonWriter& boolean(bool v);
  JsonWriter& null();
  // A value that is JSON text already (e.g. a cached response).
  JsonWriter& raw(std::string_view json);

  // A member and its value, in one call.
  JsonWriter& string_field(std::string_view name, std::string_view v) { return key(name).string(v); }
  JsonWriter& int_field(std::string_view name, std::int64_t v) { return key(name).integer(v); }
  JsonWriter& number_field(std::string_view name, double v) { return key(name).number(v); }
  JsonWriter& number_field(std::string_view name, const std::optional<double>& v) { return key(name).number(v); }
  JsonWriter& bool_field(std::string_view name, bool v) { return key(name).boolean(v); }

 private:
  // Before a value or a key: the comma, unless it is the first in its object or array or the value
  // of a key.
  void separate() {
    if (after_value_) out_ += ',';
    after_value_ = true;
  }
  JsonWriter& open(char c) {
    separate();
    out_ += c;
    after_value_ = false;
    return *this;
  }
  JsonWriter& close(char c) {
    out_ += c;
    after_value_ = true;
    return *this;
  }

  static bool needs_no_escape(std::string_view s) {
    for (const char c : s)
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
  }

  std::string& out_;
  bool after_value_ = false;
};

}  // namespace oee::codec
