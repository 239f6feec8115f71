#pragma once
// KPI arithmetic. KpiTotals holds only additive integer quantities (milliseconds, microseconds,
// counts), so a window is the exact sum of its parts and a line is the exact sum of its machines;
// ratios are derived at the end and never averaged.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oee/core/machine_history.h"
#include "oee/core/shift_calendar.h"

namespace oee {

struct KpiTotals {
  DurationMs all_ms = 0;               // window length (up to the horizon)
  DurationMs unknown_ms = 0;           // before the first state event: not planned, not downtime
  DurationMs planned_downtime_ms = 0;  // outside shifts, breaks, planned_stop
  DurationMs running_ms = 0;           // in planned production time
  DurationMs small_stop_ms = 0;        // unplanned stops shorter than the micro-stop threshold
  DurationMs breakdown_ms = 0;         // state stopped
  DurationMs setup_ms = 0;
  DurationMs starved_ms = 0;
  DurationMs blocked_ms = 0;
  DurationMs unscheduled_running_ms = 0;  // running while planned downtime (already in planned_downtime_ms)
  std::int64_t good_count = 0;
  std::int64_t reject_count = 0;
  std::int64_t startup_reject_count = 0;  // part of reject_count
  std::int64_t ideal_us = 0;               // Σ count × ideal cycle time of its product
  std::int64_t reject_ideal_us = 0;        // the ideal time of the rejects
  std::int64_t startup_reject_ideal_us = 0;
  std::int64_t breakdown_count = 0;  // breakdowns starting in the window
  std::int64_t stop_count = 0;       // unplanned stops (small ones too) starting in the window
  std::int64_t machine_count = 0;
  // Silences longer than the machine's no_data_after_ms after its first state event: neither
  // planned production time nor planned downtime (like unknown_ms).
  DurationMs no_data_ms = 0;

  DurationMs planned_production_ms() const {
    return running_ms + small_stop_ms + breakdown_ms + setup_ms + starved_ms + blocked_ms;
  }
  DurationMs run_ms() const { return running_ms + small_stop_ms; }
  DurationMs downtime_ms() const { return breakdown_ms + setup_ms + starved_ms + blocked_ms; }
  std::int64_t total_count() const { return good_count + reject_count; }

  KpiTotals& operator+=(const KpiTotals& o);
  bool operator==(const KpiTotals&) const = default;
};

// Ratios and losses derived from totals (oee.com / ISO 22400-2 definitions).
struct KpiFigures {
  std::optional<double> availability, performance, quality, oee, utilization, teep;
  std::optional<double> mtbf_s, mttr_s;
  // Losses in seconds of planned production time.
  double breakdowns_s = 0, setup_s = 0, starved_s = 0, blocked_s = 0, small_stops_s = 0,
         speed_loss_s = 0, production_rejects_s = 0, startup_rejects_s = 0;
};
KpiFigures derive_figures(const KpiTotals& t);

// Totals of one machine over [from, to). Time at or after `horizon` has not happened yet and is
// left out; the open last state lasts until the horizon.
KpiTotals machine_totals(const MachineHistory& history, const ShiftCalendar& calendar, TimeMs from,
                         TimeMs to, TimeMs horizon);

// Totals per bucket (buckets sorted and disjoint); faster than one call per bucket.
std::vector<KpiTotals> machine_bucket_totals(const MachineHistory& history, const ShiftCalendar& calendar,
                                             std::span<const Interval> buckets, TimeMs horizon);

enum class Grouping { none, hour, day, shift };
std::optional<Grouping> parse_grouping(std::string_view name);

struct Bucket {
  Interval range;
  std::string shift;  // shift name when grouped by shift
};
// Buckets of [from, to) in the plant's time zone; the first and last are clipped to the window.
// By shift, time outside every shift forms no bucket.
std::vector<Bucket> make_buckets(const ShiftCalendar& calendar, Grouping by, TimeMs from, TimeMs to);

}  // namespace oee
