#pragma once
// The stops of machines in a window, as the stop, Pareto and export routes list them, and the
// history they are read from.
#include <map>
#include <string>
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

// Each machine's planned intervals of [from, to) by its own calendar (its downtime windows, its
// line's or site's shifts), computed once per machine.
class MachinePlans {
 public:
  MachinePlans(const ShiftCalendar& calendar, TimeMs from, TimeMs to) : calendar_(calendar), from_(from), to_(to) {}
  const std::vector<Interval>& of(const MachineSpec& m) {
    auto [it, inserted] = plans_.try_emplace(m.path);
    if (inserted) it->second = calendar_.for_machine(m).planned_intervals(from_, to_);
    return it->second;
  }

 private:
  const ShiftCalendar& calendar_;
  TimeMs from_, to_;
  std::map<std::string, std::vector<Interval>, std::less<>> plans_;
};

// Every interval of the machines in [from, to) that is neither running nor unknown, newest first,
// then by machine.
std::vector<Stop> stops_of(server::PlantService& s, const std::vector<const MachineSpec*>& machines, TimeMs from, TimeMs to);

}  // namespace oee::api::detail
