#pragma once
// KPI arithmetic. KpiTotals holds only additive integer quantities (milliseconds, microseconds,
// counts), so a window is the exact sum of its parts and a line is the exact sum of its machines;
// ratios are derived at the end and never averaged.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oee/core/machine_history.h"
#include "oee/core/shift_calendar.h"

namespace oee {

// The stored fields of KpiTotals: the one list from which the struct's members and arithmetic, the
// stores' columns (storage/src/*_event_store.cpp) and the KPI JSON object (codec/kpi_json.cpp)
// derive. X(name, json_key, json_unit) per field; json_unit: ms or us (written as seconds), count
// (an integer), hidden (not in the JSON object, json_key ""; it is part of a derived figure or loss).
// SEP comes between two fields (", " for SQL lists).
// Order = the column order of the stores' tables of totals. A new field goes at the end, with a
// schema migration in each store that appends its column (ALTER TABLE ... ADD COLUMN appends; see
// migration 6 of storage/src/*_schema.cpp, and the tests *.TotalsColumnsAreTheKpiFields).
#define OEE_KPI_FIELDS(X, SEP)                                                                              \
  X(all_ms, "all_time_s", ms) /* window length (up to the horizon) */                                        \
  SEP X(unknown_ms, "unknown_time_s", ms) /* before the first state event: not planned, not downtime */      \
  SEP X(planned_downtime_ms, "planned_downtime_s", ms) /* outside shifts, breaks, planned_stop */             \
  SEP X(running_ms, "", hidden) /* in planned production time */                                    \
  SEP X(small_stop_ms, "", hidden) /* unplanned stops shorter than the micro-stop threshold */   \
  SEP X(breakdown_ms, "", hidden) /* state stopped */                                             \
  SEP X(setup_ms, "", hidden)                                                                         \
  SEP X(starved_ms, "", hidden)                                                                     \
  SEP X(blocked_ms, "", hidden)                                                                     \
  /* running while planned downtime (already in planned_downtime_ms) */                                     \
  SEP X(unscheduled_running_ms, "unscheduled_running_s", ms)                                                 \
  SEP X(good_count, "good_count", count)                                                                     \
  SEP X(reject_count, "reject_count", count)                                                                 \
  SEP X(startup_reject_count, "startup_reject_count", count) /* part of reject_count */                      \
  SEP X(ideal_us, "ideal_time_s", us) /* sum of count x ideal cycle time of its product */                   \
  SEP X(reject_ideal_us, "", hidden) /* the ideal time of the rejects */                  \
  SEP X(startup_reject_ideal_us, "", hidden)                                      \
  SEP X(breakdown_count, "breakdown_count", count) /* breakdowns starting in the window */                   \
  SEP X(stop_count, "stop_count", count) /* unplanned stops (small ones too) starting in the window */        \
  /* Silences longer than the machine's no_data_after_ms after its first state event: neither */           \
  /* planned production time nor planned downtime (like unknown_ms). Added by migration 6. */                \
  SEP X(no_data_ms, "no_data_s", ms)

#define OEE_KPI_MEMBER(name, json_key, json_unit) std::int64_t name = 0;

// Additive integer quantities only (milliseconds, microseconds, counts): see the top of this file.
struct KpiTotals {
  OEE_KPI_FIELDS(OEE_KPI_MEMBER, )
  std::int64_t machine_count = 0;  // not stored: the stores count their machines

  DurationMs planned_production_ms() const {
    return running_ms + small_stop_ms + breakdown_ms + setup_ms + starved_ms + blocked_ms;
  }
  DurationMs run_ms() const { return running_ms + small_stop_ms; }
  DurationMs downtime_ms() const { return breakdown_ms + setup_ms + starved_ms + blocked_ms; }
  std::int64_t total_count() const { return good_count + reject_count; }

  KpiTotals& operator+=(const KpiTotals& o);
  bool operator==(const KpiTotals&) const = default;
};
#undef OEE_KPI_MEMBER

// The number of stored fields (machine_count excluded).
#define OEE_KPI_ONE(name, json_key, json_unit) 1
inline constexpr std::size_t kKpiFieldCount = OEE_KPI_FIELDS(OEE_KPI_ONE, +);
#undef OEE_KPI_ONE

// The stored fields of `t`, in column order.
#define OEE_KPI_COMMA ,
#define OEE_KPI_ADDRESS(name, json_key, json_unit) &t.name
inline std::array<std::int64_t*, kKpiFieldCount> kpi_fields(KpiTotals& t) {
  return {OEE_KPI_FIELDS(OEE_KPI_ADDRESS, OEE_KPI_COMMA)};
}
#undef OEE_KPI_ADDRESS
#undef OEE_KPI_COMMA

// Ratios and losses derived from totals (oee.com / ISO 22400-2 definitions).
struct KpiFigures {
  std::optional<double> availability, performance, quality, oee, utilization, teep;
  std::optional<double> mtbf_s, mttr_s;
  // Losses in seconds of planned production time.
  double breakdowns_s = 0, setup_s = 0, starved_s = 0, blocked_s = 0, small_stops_s = 0,
         speed_loss_s = 0, production_rejects_s = 0, startup_rejects_s = 0;
};
KpiFigures derive_figures(const KpiTotals& t);

// Totals of one machine over [from, to), its planned time from its own calendar (for_machine). Time
// at or after `horizon` has not happened yet and is left out; the open last state lasts until the
// horizon.
KpiTotals machine_totals(const MachineHistory& history, const ShiftCalendar& calendar, TimeMs from,
                         TimeMs to, TimeMs horizon);

// Totals per bucket (buckets sorted and disjoint); faster than one call per bucket.
std::vector<KpiTotals> machine_bucket_totals(const MachineHistory& history, const ShiftCalendar& calendar,
                                             std::span<const Interval> buckets, TimeMs horizon);

enum class Grouping { none, hour, day, shift, crew };
std::optional<Grouping> parse_grouping(std::string_view name);

struct Bucket {
  Interval range;
  std::string shift;  // shift name when grouped by shift
  std::string crew;   // the rotating crew when grouped by crew (crew_kpis.h sums its shifts)
};
// Buckets of [from, to) in the calendar's time zone (for_node: a site's own); the first and last are
// clipped to the window.
// By shift, time outside every shift forms no bucket. By crew, one bucket per shift occurrence with
// its crew (sum_rows_by_crew in crew_kpis.h merges them).
std::vector<Bucket> make_buckets(const ShiftCalendar& calendar, Grouping by, TimeMs from, TimeMs to);

}  // namespace oee
