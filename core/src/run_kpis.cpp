#include "oee/core/run_kpis.h"

#include <algorithm>

#include "oee/core/count_bounds.h"

namespace oee {

namespace {

void use_override(KpiTotals& t, std::int64_t cycle_us) {
  t.ideal_us = saturating_mul(t.total_count(), cycle_us);
  t.reject_ideal_us = saturating_mul(t.reject_count, cycle_us);
  t.startup_reject_ideal_us = saturating_mul(t.startup_reject_count, cycle_us);
}

}  // namespace

std::vector<RunKpis> run_kpis(const MachineHistory& history, std::span<const ProductionRun> runs,
                              const ShiftCalendar& calendar, TimeMs from, TimeMs to, TimeMs horizon) {
  return run_kpis(runs, from, to, horizon,
                  [&](TimeMs s, TimeMs e) { return machine_totals(history, calendar, s, e, horizon); });
}

std::vector<RunKpis> run_kpis(std::span<const ProductionRun> runs, TimeMs from, TimeMs to, TimeMs horizon,
                              const WindowTotals& totals) {
  std::vector<RunKpis> out;
  const TimeMs end = std::min(to, horizon);
  for (const ProductionRun& r : runs) {
    const TimeMs s = std::max(r.start, from);
    const TimeMs e = std::min(r.end, end);
    if (e <= s) continue;
    KpiTotals t = totals(s, e);
    if (r.cycle_us > 0) use_override(t, r.cycle_us);
    auto it = std::find_if(out.begin(), out.end(), [&](const RunKpis& k) { return k.run == r.run; });
    if (it == out.end()) {
      out.push_back({r.run, r.product, r.cycle_us, s, e, t});
      continue;
    }
    const std::int64_t machines = it->totals.machine_count;
    it->totals += t;
    it->totals.machine_count = machines;  // the node's, however many stretches
    it->end = e;
  }
  return out;
}

}  // namespace oee
