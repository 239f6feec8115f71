#pragma once
// A line's totals in constraint mode (docs/oee-model.md, "Line OEE"): what the plant sees of the
// line is what its constraint (bottleneck) can make and what leaves its outfeed.
#include <cstdint>

#include "oee/core/kpi.h"

namespace oee {

// The line's totals over one window from its constraint's and its outfeed's totals over the same
// window: every time field from the constraint (so availability is the constraint's), the counts
// from the outfeed, and the ideal time of the outfeed's parts at the constraint's ideal cycle.
// The constraint's ideal cycle per part is the one of what it made in the window (its product mix);
// when it made nothing there, `constraint_cycle_us` (its configured ideal cycle time).
// machine_count is the line's (`line_machine_count`).
KpiTotals constraint_line_totals(const KpiTotals& constraint, const KpiTotals& outfeed,
                                 std::int64_t constraint_cycle_us, std::int64_t line_machine_count);

}  // namespace oee
