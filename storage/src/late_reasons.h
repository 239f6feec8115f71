#pragma once
// Late reasons (both stores): with a reason tree a stop's loss follows the reason given last,
// however long after the stop, so a window's history read up to its end also takes the reasons
// given after it that name its intervals.
#include <algorithm>
#include <vector>

#include "oee/core/machine_history.h"
#include "signs_of_life.h"

namespace oee::storage {

// A reason event, or a state event with a reason: a repeated state sent with a reason gives the
// stop it continues that reason, so it too may come after a window's end.
inline bool gives_reason(const Event& e) {
  return e.type == EventType::reason || (e.type == EventType::state && !e.reason.empty());
}
inline TimeMs named_instant(const Event& e) { return e.type == EventType::reason ? e.at : e.ts; }

// The first and last state events of a window's history; nullptr when it has none.
inline std::pair<const Event*, const Event*> state_range(const std::vector<Event>& events) {
  const Event* first = nullptr;
  const Event* last = nullptr;
  for (const Event& e : events) {
    if (e.type != EventType::state) continue;
    if (!first || e.ts < first->ts) first = &e;
    if (!last || e.ts > last->ts) last = &e;
  }
  return {first, last};
}

// The start of the first interval after the one `last_state` begins, among `later_states` (state
// events after it); kTimeMax when there is none.
inline TimeMs first_change_after(const MachineSpec& spec, const Event& last_state, std::vector<Event> later_states) {
  later_states.push_back(last_state);
  const MachineHistory h = MachineHistory::build(spec, later_states);
  for (const StateInterval& iv : h.intervals())
    if (iv.start > last_state.ts) return iv.start;
  return kTimeMax;
}

// Adds to `events` the `late` reasons (given at or after `to`, by named instant) that name one of its
// intervals: those before `bound` (the next change after its last state); the state events among
// them only past what the window read (`read_end`).
inline void add_reasons_before(std::vector<Event>& late, TimeMs bound, TimeMs read_end, std::vector<Event>& events) {
  for (Event& e : late)
    if (named_instant(e) < bound && (e.type == EventType::reason || e.ts >= read_end)) events.push_back(std::move(e));
}

}  // namespace oee::storage
