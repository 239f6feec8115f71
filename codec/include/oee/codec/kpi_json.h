#pragma once
// The JSON shape of KPIs, shared by `oee replay` and the HTTP API (docs/api.md).
#include <string>
#include <string_view>

#include "oee/codec/json_writer.h"
#include "oee/core/kpi.h"

namespace oee::codec {

struct KpiJsonContext {
  std::string_view node;
  TimeMs from = 0;
  TimeMs to = 0;
  std::string_view shift;          // when grouped by shift
  std::int64_t utc_offset_ms = 0;  // how to write from/to (the plant's offset at `from`)
  std::string_view crew;           // when grouped by crew
  std::string_view run{}, product{};  // by run: the run's order id and product
};

// Writes one KPI object: ratios (null when undefined), times in seconds, counts, losses.
void write_kpi_json(JsonWriter& json, const KpiTotals& totals, const KpiJsonContext& context);
// The same, appended to `out` as a whole value.
void append_kpi_json(std::string& out, const KpiTotals& totals, const KpiJsonContext& context);

}  // namespace oee::codec
