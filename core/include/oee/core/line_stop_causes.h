#pragma once
// A line stop blamed on the machine that caused it (docs/oee-model.md, "Root cause of a line stop").
// When a constraint-mode line's constraint is starved, the cause lies upstream of it; when blocked,
// downstream. The root cause is the machine on that side, in flow order, that went down first.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "oee/core/machine_history.h"
#include "oee/core/shift_calendar.h"

namespace oee {

// The loss the constraint's starved and blocked stops in a window caused, per root-cause machine.
struct LineStopCause {
  std::string machine;          // path of the root-cause machine (the constraint's own when none is down)
  State constraint_state = State::starved;  // starved or blocked
  DurationMs loss_ms = 0;       // planned production time the constraint lost (as in its starved/blocked time)
  std::int64_t stop_count = 0;  // the constraint's stops that started in the window
};

// The root cause of a constraint stop starting at `at`: among the machines upstream (starved) or
// downstream (blocked) of the constraint, those down at `at` (any state but running and unknown);
// of these, the one whose down time (its unbroken run of non-running states) began first; on a tie,
// the one farthest from the constraint. Null when none is down.
const MachineSpec* root_cause_machine(const LineSpec& line, std::size_t constraint_index, State constraint_state,
                                      TimeMs at, const std::function<const MachineHistory*(const std::string&)>& history_of);

// The constraint's starved and blocked stops over [from, to) grouped by root-cause machine and
// state, largest loss first. Their loss_ms sum to the line's starved and blocked time in constraint
// mode (small stops are performance losses, not line stops, and stay out).
std::vector<LineStopCause> line_stop_causes(const LineSpec& line, const ShiftCalendar& calendar, TimeMs from, TimeMs to,
                                            TimeMs horizon,
                                            const std::function<const MachineHistory*(const std::string&)>& history_of);

}  // namespace oee
