#include "stop_list.h"

#include <algorithm>

#include "oee/core/reason_losses.h"

namespace oee::api::detail {

MachineHistory window_history(server::PlantService& s, const MachineSpec& m, TimeMs from, TimeMs to) {
  const TimeMs upper = std::max(to, s.now()) + kMsPerMinute;  // reasons just given are stamped a little after now
  return s.read_store([&](storage::EventStore& store) {
    MachineHistory h = store.machine_history(m, from, upper);
    const auto i = h.interval_at(from);
    if (i >= 0 && h.intervals()[static_cast<std::size_t>(i)].start < from)
      h = store.machine_history(m, h.intervals()[static_cast<std::size_t>(i)].start, upper);
    return h;
  });
}

std::string_view loss_kind(const MachineHistory& h, const StateInterval& iv, TimeMs now) {
  if (h.is_small_stop(iv, now)) return "small_stop";
  const State state = loss_state(iv);  // a reason's loss (a stop made planned: planned_stop)
  if (state == State::stopped) return "breakdown";
  return state_name(state);
}

DurationMs planned_part_ms(const StateInterval& iv, const std::vector<Interval>& planned, TimeMs now) {
  DurationMs ms = 0;
  for (const Interval& p : planned)
    ms += std::max<DurationMs>(0, std::min({iv.end, p.end, now}) - std::max(iv.start, p.start));
  return ms;
}

std::vector<Stop> stops_of(server::PlantService& s, const std::vector<const MachineSpec*>& machines, TimeMs from, TimeMs to) {
  const TimeMs now = s.now();
  std::vector<Stop> out;
  for (const MachineSpec* m : machines) {
    const MachineHistory h = window_history(s, *m, from, to);
    for (const StateInterval& iv : h.intervals()) {
      if (iv.end <= from || iv.start >= to || iv.state == State::running || iv.state == State::unknown) continue;
      const DurationMs d = std::max<DurationMs>(0, std::min(iv.end, now) - iv.start);
      out.push_back({m, iv, loss_kind(h, iv, now), d});
    }
  }
  std::sort(out.begin(), out.end(), [](const Stop& a, const Stop& b) {
    return a.interval.start != b.interval.start ? a.interval.start > b.interval.start : a.machine->path < b.machine->path;
  });
  return out;
}

}  // namespace oee::api::detail
