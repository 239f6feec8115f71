#pragma once
// What a stop's reason says about its loss: a PLC reason code read as the tree's code, and a stop
// whose reason names a loss counted as that loss (`planned`: planned downtime, not a stop).
#include <vector>

#include "oee/core/machine_history.h"

namespace oee {

// Maps each interval's reason through the machine's reason_codes, then gives each unplanned stop
// whose reason's tree node has a loss that loss. The interval keeps the state its events gave.
void apply_reason_losses(const MachineSpec& machine, std::vector<StateInterval>& intervals);

// The state whose loss the interval counts as: planned_stop for a reason whose loss is planned,
// stopped for breakdown, ...; its own state without a loss (and for small_stop, which
// MachineHistory::is_small_stop reads).
State loss_state(const StateInterval& iv);

}  // namespace oee
