#include "oee/core/kpi.h"

#include <algorithm>

#include "oee/core/count_bounds.h"
#include "oee/core/ratio.h"
#include "oee/core/reason_losses.h"

namespace oee {

KpiTotals& KpiTotals::operator+=(const KpiTotals& o) {
  // Saturating (count_bounds.h): corrupt counts or ideal times never overflow; exact otherwise.
#define OEE_KPI_ADD(name, json_key, json_unit) name = saturating_add(name, o.name);
  OEE_KPI_FIELDS(OEE_KPI_ADD, )
#undef OEE_KPI_ADD
  machine_count += o.machine_count;
  return *this;
}

KpiFigures derive_figures(const KpiTotals& t) {
  KpiFigures f;
  const double ppt_s = t.planned_production_ms() / 1000.0;
  const double run_s = t.run_ms() / 1000.0;
  const double ideal_s = t.ideal_us / 1e6;
  f.availability = ratio(run_s, ppt_s);
  f.performance = ratio(ideal_s, run_s);
  f.quality = ratio(static_cast<double>(t.good_count), static_cast<double>(t.total_count()));
  if (f.availability && f.performance && f.quality) f.oee = *f.availability * *f.performance * *f.quality;
  f.utilization = ratio(ppt_s, (t.all_ms - t.unknown_ms - t.no_data_ms) / 1000.0);
  if (f.oee && f.utilization) f.teep = *f.oee * *f.utilization;
  if (t.breakdown_count > 0) {
    f.mtbf_s = run_s / static_cast<double>(t.breakdown_count);
    f.mttr_s = t.breakdown_ms / 1000.0 / static_cast<double>(t.breakdown_count);
  }
  f.breakdowns_s = t.breakdown_ms / 1000.0;
  f.setup_s = t.setup_ms / 1000.0;
  f.starved_s = t.starved_ms / 1000.0;
  f.blocked_s = t.blocked_ms / 1000.0;
  f.small_stops_s = t.small_stop_ms / 1000.0;
  // Performance loss is run time minus the ideal time of what was made: small stops, the rest is
  // speed loss (negative when the machine beat its ideal cycle).
  // In double: a saturated ideal time must not overflow the subtraction (exact below 2^53).
  f.speed_loss_s = (static_cast<double>(t.run_ms()) * 1000 - static_cast<double>(t.ideal_us) -
                    static_cast<double>(t.small_stop_ms) * 1000) / 1e6;
  f.production_rejects_s = (static_cast<double>(t.reject_ideal_us) - static_cast<double>(t.startup_reject_ideal_us)) / 1e6;
  f.startup_rejects_s = t.startup_reject_ideal_us / 1e6;
  return f;
}

namespace {

// Sum of the overlap of [s, e) with sorted disjoint intervals, starting the scan at `cursor`, which
// moves forward (callers ask in increasing order of s).
DurationMs planned_overlap(std::span<const Interval> planned, std::size_t& cursor, TimeMs s, TimeMs e) {
  while (cursor < planned.size() && planned[cursor].end <= s) ++cursor;
  DurationMs sum = 0;
  for (std::size_t i = cursor; i < planned.size() && planned[i].start < e; ++i)
    sum += std::min(e, planned[i].end) - std::max(s, planned[i].start);
  return sum;
}

// Calls f(s, e) for the parts of [s, e) with data and adds the rest (silences that are no data at
// `horizon`) to no_data; `cursor` moves forward like planned_overlap's.
template <class F>
void split_by_silence(const MachineHistory& h, std::size_t& cursor, TimeMs s, TimeMs e, TimeMs horizon,
                      DurationMs& no_data, F&& f) {
  const std::vector<Silence>& silences = h.silences();
  while (cursor < silences.size() && silences[cursor].end <= s) ++cursor;
  TimeMs at = s;
  for (std::size_t i = cursor; i < silences.size() && silences[i].start < e; ++i) {
    if (!h.is_no_data(silences[i], horizon)) continue;
    const TimeMs gs = std::max(silences[i].start, at);
    const TimeMs ge = std::min(silences[i].end, e);
    if (gs > at) f(at, gs);
    no_data += ge - gs;
    at = ge;
  }
  if (at < e) f(at, e);
}

KpiTotals totals_with_plan(const MachineHistory& h, std::span<const Interval> planned, TimeMs from,
                           TimeMs to, TimeMs horizon) {
  KpiTotals t;
  t.machine_count = 1;
  const TimeMs end = std::min(to, horizon);
  if (from >= end) return t;
  t.all_ms = end - from;
  const TimeMs first = h.first_state_ts();
  if (first > from) t.unknown_ms = std::min(end, first) - from;

  std::size_t cursor = static_cast<std::size_t>(
      std::lower_bound(planned.begin(), planned.end(), from, [](const Interval& iv, TimeMs v) { return iv.end <= v; }) -
      planned.begin());
  const std::vector<Silence>& silences = h.silences();
  std::size_t silence_cursor = static_cast<std::size_t>(
      std::lower_bound(silences.begin(), silences.end(), from, [](const Silence& g, TimeMs v) { return g.end <= v; }) -
      silences.begin());
  const auto& intervals = h.intervals();
  const std::ptrdiff_t at = h.interval_at(from);
  for (std::size_t i = at < 0 ? 0 : static_cast<std::size_t>(at); i < intervals.size() && intervals[i].start < end; ++i) {
    const StateInterval& iv = intervals[i];
    const TimeMs s = std::max(iv.start, from);
    const TimeMs e = std::min(iv.end, end);
    if (e <= s) continue;
    DurationMs in_plan = 0;
    DurationMs off_plan = 0;
    split_by_silence(h, silence_cursor, s, e, horizon, t.no_data_ms, [&](TimeMs a, TimeMs b) {
      const DurationMs p = planned_overlap(planned, cursor, a, b);
      in_plan += p;
      off_plan += (b - a) - p;
    });
    t.planned_downtime_ms += off_plan;
    const bool starts_here = iv.start >= from;
    const State state = loss_state(iv);  // a reason's loss counts, not only the state's
    switch (state) {
      case State::running:
        t.running_ms += in_plan;
        t.unscheduled_running_ms += off_plan;
        break;
      case State::planned_stop:
      case State::unknown:
        t.planned_downtime_ms += in_plan;
        break;
      case State::stopped:
      case State::setup:
      case State::starved:
      case State::blocked: {
        const bool small = h.is_small_stop(iv, horizon);
        if (starts_here) ++t.stop_count;
        if (small) {
          t.small_stop_ms += in_plan;
        } else if (state == State::stopped) {
          t.breakdown_ms += in_plan;
          if (starts_here) ++t.breakdown_count;
        } else if (state == State::setup) {
          t.setup_ms += in_plan;
        } else if (state == State::starved) {
          t.starved_ms += in_plan;
        } else {
          t.blocked_ms += in_plan;
        }
        break;
      }
    }
  }

  const auto& counts = h.counts();
  auto it = std::lower_bound(counts.begin(), counts.end(), from, [](const CountRecord& c, TimeMs v) { return c.ts < v; });
  for (; it != counts.end() && it->ts < end; ++it) {
    t.good_count = saturating_add(t.good_count, it->good);
    t.reject_count = saturating_add(t.reject_count, it->reject);
    t.startup_reject_count = saturating_add(t.startup_reject_count, it->startup_reject);
    t.ideal_us = saturating_add(t.ideal_us, saturating_mul(saturating_add(it->good, it->reject), it->cycle_us));
    t.reject_ideal_us = saturating_add(t.reject_ideal_us, saturating_mul(it->reject, it->cycle_us));
    t.startup_reject_ideal_us = saturating_add(t.startup_reject_ideal_us, saturating_mul(it->startup_reject, it->cycle_us));
  }
  return t;
}

}  // namespace

KpiTotals machine_totals(const MachineHistory& history, const ShiftCalendar& calendar, TimeMs from, TimeMs to,
                         TimeMs horizon) {
  const TimeMs end = std::min(to, horizon);
  const std::vector<Interval> planned = calendar.for_machine(history.machine()).planned_intervals(from, std::max(from, end));
  return totals_with_plan(history, planned, from, to, horizon);
}

std::vector<KpiTotals> machine_bucket_totals(const MachineHistory& history, const ShiftCalendar& calendar,
                                             std::span<const Interval> buckets, TimeMs horizon) {
  std::vector<KpiTotals> out;
  out.reserve(buckets.size());
  if (buckets.empty()) return out;
  const TimeMs lo = buckets.front().start;
  const TimeMs hi = std::max(lo, std::min(buckets.back().end, horizon));
  const std::vector<Interval> planned = calendar.for_machine(history.machine()).planned_intervals(lo, hi);
  for (const Interval& b : buckets) out.push_back(totals_with_plan(history, planned, b.start, b.end, horizon));
  return out;
}

std::optional<Grouping> parse_grouping(std::string_view name) {
  if (name == "hour") return Grouping::hour;
  if (name == "day") return Grouping::day;
  if (name == "shift") return Grouping::shift;
  if (name == "crew") return Grouping::crew;
  if (name.empty() || name == "none") return Grouping::none;
  return std::nullopt;
}

std::vector<Bucket> make_buckets(const ShiftCalendar& calendar, Grouping by, TimeMs from, TimeMs to) {
  std::vector<Bucket> out;
  if (from >= to) return out;
  auto clip = [&](Interval iv, std::string shift) {
    iv.start = std::max(iv.start, from);
    iv.end = std::min(iv.end, to);
    if (iv.end > iv.start) out.push_back({iv, std::move(shift), {}});
  };
  switch (by) {
    case Grouping::none: out.push_back({{from, to}, {}, {}}); break;
    case Grouping::hour:
      for (const Interval& iv : calendar.local_hours(from, to)) clip(iv, {});
      break;
    case Grouping::day:
      for (const Interval& iv : calendar.local_days(from, to)) clip(iv, {});
      break;
    case Grouping::shift:
      for (ShiftOccurrence& occ : calendar.occurrences(from, to)) clip({occ.start, occ.end}, std::move(occ.name));
      break;
    case Grouping::crew:
      for (ShiftOccurrence& occ : calendar.occurrences(from, to)) {
        const std::size_t before = out.size();
        clip({occ.start, occ.end}, std::move(occ.name));
        if (out.size() > before) out.back().crew = std::move(occ.crew);
      }
      break;
  }
  return out;
}

}  // namespace oee
