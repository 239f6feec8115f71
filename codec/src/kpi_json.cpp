#include "oee/codec/kpi_json.h"

#include <charconv>
#include <cmath>

#include "oee/codec/event_json.h"

namespace oee::codec {

void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

namespace {
void key(std::string& out, const char* name) {
  out += '"';
  out += name;
  out += "\":";
}
void number(std::string& out, const char* name, double v) {
  key(out, name);
  append_json_number(out, v);
  out += ',';
}
void integer(std::string& out, const char* name, std::int64_t v) {
  key(out, name);
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
  out += ',';
}
void optional(std::string& out, const char* name, const std::optional<double>& v) {
  key(out, name);
  if (v) append_json_number(out, *v);
  else out += "null";
  out += ',';
}
double seconds(DurationMs ms) { return static_cast<double>(ms) / 1000.0; }

enum class KpiJsonUnit { ms, us, count, hidden };
template <KpiJsonUnit unit>
void write_field(std::string& out, const char* name, std::int64_t v) {
  if constexpr (unit == KpiJsonUnit::ms) number(out, name, seconds(v));
  else if constexpr (unit == KpiJsonUnit::us) number(out, name, static_cast<double>(v) / 1e6);
  else if constexpr (unit == KpiJsonUnit::count) integer(out, name, v);
}
}  // namespace

void append_kpi_json(std::string& out, const KpiTotals& t, const KpiJsonContext& c) {
  const KpiFigures f = derive_figures(t);
  out += '{';
  if (!c.node.empty()) {
    key(out, "node");
    append_json_string(out, c.node);
    out += ',';
  }
  key(out, "from");
  append_json_string(out, format_rfc3339(c.from, c.utc_offset_ms));
  out += ',';
  key(out, "to");
  append_json_string(out, format_rfc3339(c.to, c.utc_offset_ms));
  out += ',';
  if (!c.shift.empty()) {
    key(out, "shift");
    append_json_string(out, c.shift);
    out += ',';
  }
  optional(out, "availability", f.availability);
  optional(out, "performance", f.performance);
  optional(out, "quality", f.quality);
  optional(out, "oee", f.oee);
  optional(out, "utilization", f.utilization);
  optional(out, "teep", f.teep);
  number(out, "planned_production_time_s", seconds(t.planned_production_ms()));
  number(out, "run_time_s", seconds(t.run_ms()));
  number(out, "downtime_s", seconds(t.downtime_ms()));
  integer(out, "total_count", t.total_count());
  // The stored totals the object shows, by their unit in OEE_KPI_FIELDS (kpi.h).
#define OEE_KPI_JSON(name, json_key, json_unit) write_field<KpiJsonUnit::json_unit>(out, json_key, t.name);
  OEE_KPI_FIELDS(OEE_KPI_JSON, )
#undef OEE_KPI_JSON
  optional(out, "mtbf_s", f.mtbf_s);
  optional(out, "mttr_s", f.mttr_s);
  integer(out, "machines", t.machine_count);
  key(out, "losses");
  out += '{';
  number(out, "breakdowns", f.breakdowns_s);
  number(out, "setup", f.setup_s);
  number(out, "starved", f.starved_s);
  number(out, "blocked", f.blocked_s);
  number(out, "small_stops", f.small_stops_s);
  number(out, "speed_loss", f.speed_loss_s);
  number(out, "production_rejects", f.production_rejects_s);
  key(out, "startup_rejects");
  append_json_number(out, f.startup_rejects_s);
  out += "}}";
}

}  // namespace oee::codec
