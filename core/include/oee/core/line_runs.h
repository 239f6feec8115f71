#pragma once
// The production runs of a line (docs/oee-model.md, "KPIs by run"): its machines' runs merged per
// order id. A pure function of the machines' runs.
#include <span>
#include <vector>

#include "oee/core/production_run.h"

namespace oee {

// An order usually goes to the whole line, each machine starting and ending it at its own instant:
// the line works on it while any of its machines does, so the line's stretches of a run are the
// union of the run's stretches on its machines (overlapping or touching ones become one). A merged
// stretch keeps the product, quantity and ideal cycle override of its earliest part (on a tie, of
// the machine first in `machine_runs`, which is the line's flow order). In order of start, then
// order id.
std::vector<ProductionRun> line_runs(std::span<const std::vector<ProductionRun>> machine_runs);

}  // namespace oee
