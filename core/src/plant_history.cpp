#include "oee/core/plant_history.h"

#include "oee/core/constraint_line_kpis.h"
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
  for (Bucket& b : make_buckets(calendar.for_node(node), by, from, to)) {
    ranges.push_back(b.range);
    out.push_back({std::move(b), {}});
  }
  const LineSpec* line = plant_->find_line(node);
  if (line && line->constraint_machine() && line->outfeed_machine()) {
    const MachineSpec& c = *line->constraint_machine();
    const auto constraint = machine_bucket_totals(*machine(c.path), calendar, ranges, horizon);
    const auto outfeed = machine_bucket_totals(*machine(line->outfeed_machine()->path), calendar, ranges, horizon);
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i].totals = constraint_line_totals(constraint[i], outfeed[i], c.ideal_cycle_us,
                                             static_cast<std::int64_t>(line->machines.size()));
  } else {
    for (const MachineSpec* m : plant_->machines_under(node)) {
      const std::vector<KpiTotals> per_bucket = machine_bucket_totals(*machine(m->path), calendar, ranges, horizon);
      for (std::size_t i = 0; i < out.size(); ++i) out[i].totals += per_bucket[i];
    }
  }
  return by == Grouping::crew ? sum_rows_by_crew(std::move(out)) : out;
}

std::vector<LineStopCause> PlantHistory::line_stop_causes(const ShiftCalendar& calendar, std::string_view line,
                                                        TimeMs from, TimeMs to, TimeMs horizon) const {
  const LineSpec* spec = plant_->find_line(line);
  if (!spec) return {};
  return oee::line_stop_causes(*spec, calendar, from, to, horizon,
                               [this](const std::string& path) { return machine(path); });
}

}  // namespace oee
