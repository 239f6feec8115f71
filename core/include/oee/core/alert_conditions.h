#pragma once
// Whether an alert rule's condition holds at `now`, from what the server knows. Pure functions:
// the server gathers the inputs (histories, shift KPIs, edge status reports) and evaluates them.
#include <optional>
#include <span>

#include "oee/core/alert_rule.h"
#include "oee/core/machine_history.h"

namespace oee {

// machine_down: the machine's current state is an unplanned stop (its reason's loss counts: a
// reason with loss `planned` makes it no alert) that began at least down_for_ms before now.
bool machine_down_at(const MachineHistory& history, TimeMs now, DurationMs down_for_ms);
// The same for the machine's current state (the server's live state).
bool machine_down_at(const StateInterval& current, TimeMs now, DurationMs down_for_ms);

// no_data: the machine said nothing (no event, no heartbeat) for more than silent_for_ms. A machine
// never heard from is no alert: its silence has no start.
bool no_data_at(TimeMs last_sign_ts, TimeMs now, DurationMs silent_for_ms);

// oee_below_target: the shift began at least at_minute minutes ago and its OEE so far is below the
// target. An OEE not yet defined (no planned production time) is no alert.
bool oee_below_target_at(std::optional<double> shift_oee, TimeMs shift_start, TimeMs now, int at_minute,
                         double target);

// One edge status report (docs/mqtt.md): the time it was received and its queue_depth.
struct QueueDepthReport {
  TimeMs ts = 0;
  std::int64_t depth = 0;
};
// edge_queue_growing: over the last growing_for_ms (reports sorted by time, the first one at or
// before now - growing_for_ms), the depth never fell and ended higher than it began.
bool edge_queue_growing_at(std::span<const QueueDepthReport> reports, TimeMs now, DurationMs growing_for_ms);

}  // namespace oee
