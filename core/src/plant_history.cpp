#include "oee/core/plant_history.h"

#include "oee/core/crew_kpis.h"

#include <unordered_map>

namespace oee {

PlantHistory PlantHistory::build(const PlantModel& plant, std::span<const Event> events) {
  PlantHistory p;
  p.plant_ = &plant;
  std::unordered_map<std::string_view, std::vector<Event>> by_machine;
  for (const Event& e : events) {
    if (!plant.find_machine(e.machine)) {
      ++p.unknown_machine_events_;
      continue;
    }
    by_machine[e.machine].push_back(e);
  }
  for (const MachineSpec* m : plant.machines()) {
    auto it = by_machine.find(m->path);
    static const std::vector<Event> kNone;
    const std::vector<Event>& list = it == by_machine.end() ? kNone : it->second;
    p.machines_.emplace(m->path, MachineHistory::build(*m, list));
  }
  return p;
}

const MachineHistory* PlantHistory::machine(std::string_view path) const {
  auto it = machines_.find(path);
  return it == machines_.end() ? nullptr : &it->second;
}

std::vector<NodeKpis> PlantHistory::node_kpis(const ShiftCalendar& calendar, std::string_view node, Grouping by,
                                              TimeMs from, TimeMs to, TimeMs horizon) const {
  std::vector<NodeKpis> out;
  std::vector<Interval> ranges;
  for (Bucket& b : make_buckets(calendar, by, from, to)) {
    ranges.push_back(b.range);
    out.push_back({std::move(b), {}});
  }
  for (const MachineSpec* m : plant_->machines_under(node)) {
    const std::vector<KpiTotals> per_bucket = machine_bucket_totals(*machine(m->path), calendar, ranges, horizon);
    for (std::size_t i = 0; i < out.size(); ++i) out[i].totals += per_bucket[i];
  }
  return by == Grouping::crew ? sum_rows_by_crew(std::move(out)) : out;
}

}  // namespace oee
