#pragma once
// KPIs per production run (docs/oee-model.md, "KPIs by run"): a run's totals over its stretches,
// its performance at the run's ideal cycle time override when it has one.
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "oee/core/kpi.h"
#include "oee/core/production_run.h"

namespace oee {

struct RunKpis {
  std::string run, product;
  std::int64_t cycle_us = 0;  // the run's override, 0: the products' ideal cycle times
  TimeMs start = 0;           // of its first stretch in the window, clipped to it
  TimeMs end = 0;             // of its last stretch in the window, clipped to it and the horizon
  KpiTotals totals;
};

// One entry per order id with a stretch overlapping [from, min(to, horizon)), in the order of their
// first start: the sum of the machine's totals over those stretches' parts in the window. With an
// override, every part made in them counts at the override (ideal, reject and start-up reject ideal
// times), whatever its product.
std::vector<RunKpis> run_kpis(const MachineHistory& history, std::span<const ProductionRun> runs,
                              const ShiftCalendar& calendar, TimeMs from, TimeMs to, TimeMs horizon);

// The same with a node's totals over [start, end) up to the horizon from `totals` (a store's
// rollups, or a line's sum): the override needs only the counts of a stretch, so it applies to
// totals from anywhere. machine_count stays the node's, however many stretches a run has.
using WindowTotals = std::function<KpiTotals(TimeMs start, TimeMs end)>;
std::vector<RunKpis> run_kpis(std::span<const ProductionRun> runs, TimeMs from, TimeMs to, TimeMs horizon,
                              const WindowTotals& totals);

}  // namespace oee
