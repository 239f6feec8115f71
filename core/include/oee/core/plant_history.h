#pragma once
// The histories of every machine of a plant, and KPIs of any node (machine, line, area, site,
// plant) summed from its machines' totals.
#include <map>
#include <span>
#include <string>
#include <vector>

#include "oee/core/kpi.h"
#include "oee/core/line_stop_causes.h"
#include "oee/core/machine_history.h"

namespace oee {

struct NodeKpis {
  Bucket bucket;
  KpiTotals totals;
};

class PlantHistory {
 public:
  // Events of machines the plant does not know are counted in unknown_machine_events().
  static PlantHistory build(const PlantModel& plant, std::span<const Event> events);

  const MachineHistory* machine(std::string_view path) const;
  std::size_t unknown_machine_events() const { return unknown_machine_events_; }

  // One entry per bucket: the sum of the totals of every machine at or below `node`; for a line in
  // constraint mode, its constraint-mode totals (constraint_line_kpis.h).
  std::vector<NodeKpis> node_kpis(const ShiftCalendar& calendar, std::string_view node, Grouping by,
                                  TimeMs from, TimeMs to, TimeMs horizon) const;
  // A constraint-mode line's starved and blocked time by root-cause machine (empty otherwise).
  std::vector<LineStopCause> line_stop_causes(const ShiftCalendar& calendar, std::string_view line, TimeMs from,
                                              TimeMs to, TimeMs horizon) const;

 private:
  const PlantModel* plant_ = nullptr;
  std::map<std::string, MachineHistory, std::less<>> machines_;
  std::size_t unknown_machine_events_ = 0;
};

}  // namespace oee
