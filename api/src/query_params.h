#pragma once
// The query parameters the route handlers share, read with a clear message for 400s, and how they
// write times.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "oee/codec/json_writer.h"
#include "oee/server/http.h"
#include "oee/server/plant_service.h"

namespace oee::api::detail {

using codec::JsonWriter;

inline constexpr std::int64_t kBucketsMax = 10'000;
// The longest window per request (docs/api.md): the routes that read raw events (timeline, stops,
// tags) a month, the stop Pareto and export a quarter, the routes served from rollups a year.
inline constexpr std::int64_t kRawWindowDaysMax = 31;
inline constexpr std::int64_t kStopsReportWindowDaysMax = 92;
inline constexpr std::int64_t kRollupWindowDaysMax = 366;

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

inline bool node_param(const server::PlantService& s, const server::HttpRequest& r, const char* name, std::string& node,
                       server::HttpResponse& error) {
  node = std::string(r.query_value(name).value_or(""));
  if (!s.plant().has_node(node)) {
    error = server::HttpResponse::error(400, "unknown_node", "'" + node.substr(0, 200) + "' is not a node of the plant");
    return false;
  }
  return true;
}

inline const MachineSpec* machine_param(const server::PlantService& s, std::string_view path, server::HttpResponse& error) {
  const MachineSpec* m = s.plant().find_machine(path);
  if (!m)
    error = server::HttpResponse::error(400, "unknown_machine", "'" + std::string(path.substr(0, 200)) + "' is not a machine of the plant");
  return m;
}

// The node, window and grouping of a bucketed request (counts, the KPI export).
struct BucketedQuery {
  std::string node;
  TimeMs from = 0, to = 0;
  Grouping by = Grouping::none;
};

// False with a 400 in `error` when a parameter is malformed or the request asks too many buckets.
inline bool bucketed_query(server::PlantService& s, const server::HttpRequest& r, BucketedQuery& q, server::HttpResponse& error) {
  if (!node_param(s, r, "node", q.node, error)) return false;
  std::string why;
  const auto g = parse_grouping(r.query_value("by").value_or(""));
  if (!window_params(s, r, q.from, q.to, kRollupWindowDaysMax, why)) {
  } else if (!g || *g == Grouping::crew) {  // by=crew is for /api/v1/kpis only: these rows carry no crew
    why = "'by' must be hour, day or shift";
  } else if ((*g == Grouping::hour && (q.to - q.from) / kMsPerHour > kBucketsMax) ||
             (*g != Grouping::none && (q.to - q.from) / kMsPerDay > kBucketsMax / 3)) {
    why = "at most 10000 buckets per request";
  } else {
    q.by = *g;
    return true;
  }
  error = server::HttpResponse::error(400, "bad_parameter", why);
  return false;
}

}  // namespace oee::api::detail
