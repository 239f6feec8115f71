#pragma once
// Small helpers the route handlers share: JSON text building and query parameter parsing with a
// clear message for 400s.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "oee/codec/event_json.h"
#include "oee/codec/kpi_json.h"
#include "oee/server/http.h"
#include "oee/server/plant_service.h"

namespace oee::api::detail {

inline void key(std::string& out, const char* name) {
  out += '"';
  out += name;
  out += "\":";
}
inline void string_field(std::string& out, const char* name, std::string_view value) {
  key(out, name);
  codec::append_json_string(out, value);
  out += ',';
}
inline void number_field(std::string& out, const char* name, double value) {
  key(out, name);
  codec::append_json_number(out, value);
  out += ',';
}
inline void int_field(std::string& out, const char* name, std::int64_t value) {
  key(out, name);
  out += std::to_string(value);
  out += ',';
}
inline void close_object(std::string& out) {
  if (out.back() == ',') out.pop_back();
  out += '}';
}
inline void close_array(std::string& out) {
  if (out.back() == ',') out.pop_back();
  out += ']';
}

inline std::string time_text(const server::PlantService& s, TimeMs t) { return format_rfc3339(t, s.zone().offset_ms_at(t)); }

// An optional time parameter; false with `error` set when malformed.
inline bool time_param(const server::HttpRequest& r, const char* name, TimeMs fallback, TimeMs& out, std::string& error) {
  const auto v = r.query_value(name);
  if (!v || v->empty()) {
    out = fallback;
    return true;
  }
  const auto t = parse_timestamp(*v);
  if (!t) {
    error = std::string("'") + name + "': '" + std::string(v->substr(0, 64)) + "' is not an RFC 3339 timestamp or epoch milliseconds";
    return false;
  }
  out = *t;
  return true;
}

inline bool int_param(const server::HttpRequest& r, const char* name, std::int64_t fallback, std::int64_t min,
                      std::int64_t max, std::int64_t& out, std::string& error) {
  const auto v = r.query_value(name);
  if (!v || v->empty()) {
    out = fallback;
    return true;
  }
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size() || out < min || out > max) {
    error = std::string("'") + name + "' must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
    return false;
  }
  return true;
}

// False with `error` when [from, to) is longer than the route serves in one request (docs/api.md):
// a bounded window bounds what one request reads from the store.
inline bool window_within(TimeMs from, TimeMs to, std::int64_t max_days, std::string& error) {
  if (to - from <= max_days * kMsPerDay) return true;
  error = "the window from 'from' to 'to' is " + std::to_string((to - from + kMsPerDay - 1) / kMsPerDay) +
          " days long; this route serves at most " + std::to_string(max_days) + " days per request";
  return false;
}

// The window [from, to) of a request: default the current shift so far (outside shifts the last
// 8 hours); false with `error` when malformed, empty or longer than `max_days`.
inline bool window_params(const server::PlantService& s, const server::HttpRequest& r, TimeMs& from, TimeMs& to,
                          std::int64_t max_days, std::string& error) {
  const TimeMs now = s.now();
  ShiftOccurrence shift;
  const TimeMs default_from = s.current_shift(shift) ? shift.start : now - 8 * kMsPerHour;
  if (!time_param(r, "from", default_from, from, error) || !time_param(r, "to", now, to, error)) return false;
  if (to <= from) {
    error = "'to' must be after 'from'";
    return false;
  }
  return window_within(from, to, max_days, error);
}

}  // namespace oee::api::detail
