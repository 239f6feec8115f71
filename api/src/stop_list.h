#pragma once
// The stops of machines in a window, as the stop, Pareto and export routes list them, and the
// history they are read from.
#include <string_view>
#include <vector>

#include "oee/server/plant_service.h"

namespace oee::api::detail {

struct Stop {
  const MachineSpec* machine;
  StateInterval interval;
  std::string_view kind;
  DurationMs duration_ms;
};

// The history of a machine able to answer for [from, to), with every reason given so far: it
// reaches back to the start of the state in effect at `from` (reasons name a stop by an instant in
// it) and up to now (a reason is an event stamped when it was given).
MachineHistory window_history(server::PlantService& s, const MachineSpec& m, TimeMs from, TimeMs to);

// small_stop, breakdown, or the state's name.
std::string_view loss_kind(const MachineHistory& h, const StateInterval& iv, TimeMs now);

// The part of a stop inside planned production time (what counts as a loss), up to now.
DurationMs planned_part_ms(const StateInterval& iv, const std::vector<Interval>& planned, TimeMs now);

// Every interval of the machines in [from, to) that is neither running nor unknown, newest first,
// then by machine.
std::vector<Stop> stops_of(server::PlantService& s, const std::vector<const MachineSpec*>& machines, TimeMs from, TimeMs to);

}  // namespace oee::api::detail
