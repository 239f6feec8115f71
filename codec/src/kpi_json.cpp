#include "oee/codec/kpi_json.h"

#include "oee/core/iso22400_kpis.h"

namespace oee::codec {

namespace {
double seconds(DurationMs ms) { return static_cast<double>(ms) / 1000.0; }

enum class KpiJsonUnit { ms, us, count, hidden };
template <KpiJsonUnit unit>
void write_field(JsonWriter& json, const char* name, std::int64_t v) {
  if constexpr (unit == KpiJsonUnit::ms) json.number_field(name, seconds(v));
  else if constexpr (unit == KpiJsonUnit::us) json.number_field(name, static_cast<double>(v) / 1e6);
  else if constexpr (unit == KpiJsonUnit::count) json.int_field(name, v);
}

void write_losses(JsonWriter& json, const KpiFigures& f) {
  json.key("losses").begin_object();
  json.number_field("breakdowns", f.breakdowns_s).number_field("setup", f.setup_s);
  json.number_field("starved", f.starved_s).number_field("blocked", f.blocked_s);
  json.number_field("small_stops", f.small_stops_s).number_field("speed_loss", f.speed_loss_s);
  json.number_field("production_rejects", f.production_rejects_s).number_field("startup_rejects", f.startup_rejects_s);
  json.end_object();
}

void write_iso22400(JsonWriter& json, const KpiTotals& t) {
  const Iso22400Figures f = derive_iso22400(t);
  json.key("iso22400").begin_object();
  json.number_field("nee", f.nee).number_field("setup_rate", f.setup_rate);
  json.number_field("technical_efficiency", f.technical_efficiency).number_field("scrap_ratio", f.scrap_ratio);
  json.number_field("allocation_efficiency", f.allocation_efficiency);
  json.number_field("throughput_per_h", f.throughput_per_h).number_field("first_pass_yield", f.first_pass_yield);
  json.end_object();
}
}  // namespace

void write_kpi_json(JsonWriter& json, const KpiTotals& t, const KpiJsonContext& c) {
  const KpiFigures f = derive_figures(t);
  json.begin_object();
  if (!c.node.empty()) json.string_field("node", c.node);
  json.string_field("from", format_rfc3339(c.from, c.utc_offset_ms));
  json.string_field("to", format_rfc3339(c.to, c.utc_offset_ms));
  if (!c.shift.empty()) json.string_field("shift", c.shift);
  if (!c.crew.empty()) json.string_field("crew", c.crew);
  if (!c.run.empty()) json.string_field("run", c.run).string_field("product", c.product);
  json.number_field("availability", f.availability).number_field("performance", f.performance);
  json.number_field("quality", f.quality).number_field("oee", f.oee);
  json.number_field("utilization", f.utilization).number_field("teep", f.teep);
  json.number_field("planned_production_time_s", seconds(t.planned_production_ms()));
  json.number_field("run_time_s", seconds(t.run_ms()));
  json.number_field("downtime_s", seconds(t.downtime_ms()));
  json.int_field("total_count", t.total_count());
  // The stored totals the object shows, by their unit in OEE_KPI_FIELDS (kpi.h).
#define OEE_KPI_JSON(name, json_key, json_unit) write_field<KpiJsonUnit::json_unit>(json, json_key, t.name);
  OEE_KPI_FIELDS(OEE_KPI_JSON, )
#undef OEE_KPI_JSON
  json.number_field("mtbf_s", f.mtbf_s).number_field("mttr_s", f.mttr_s);
  json.int_field("machines", t.machine_count);
  write_losses(json, f);
  write_iso22400(json, t);
  json.end_object();
}

void append_kpi_json(std::string& out, const KpiTotals& totals, const KpiJsonContext& context) {
  JsonWriter json(out);
  write_kpi_json(json, totals, context);
}

}  // namespace oee::codec
