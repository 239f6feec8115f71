#include "oee/codec/run_json.h"

namespace oee::codec {

namespace {

void instant_field(JsonWriter& json, std::string_view name, std::optional<TimeMs> t, std::int64_t offset_ms) {
  json.key(name);
  if (t && *t != kTimeMax)
    json.string(format_rfc3339(*t, offset_ms));
  else
    json.null();
}

std::optional<double> seconds(std::optional<TimeMs> ms) {
  if (!ms) return std::nullopt;
  return static_cast<double>(*ms) / 1000.0;
}

}  // namespace

void append_run_reports_json(std::string& out, std::span<const RunReport> reports, std::int64_t utc_offset_ms) {
  JsonWriter json(out);
  json.begin_array();
  for (const RunReport& r : reports) {
    json.begin_object();
    json.string_field("run", r.run).string_field("product", r.product).int_field("quantity", r.quantity);
    json.number_field("ideal_cycle_s", r.cycle_us > 0 ? std::optional<double>(r.cycle_us / 1e6) : std::nullopt);
    instant_field(json, "start", r.start, utc_offset_ms);
    instant_field(json, "end", r.end, utc_offset_ms);
    json.number_field("run_time_s", seconds(r.run_ms));
    json.int_field("good_count", r.good).int_field("reject_count", r.reject).int_field("remaining", r.remaining);
    instant_field(json, "expected_finish", r.expected_finish, utc_offset_ms);
    json.number_field("changeover_s", seconds(r.changeover_ms));
    json.end_object();
  }
  json.end_array();
}

}  // namespace oee::codec
