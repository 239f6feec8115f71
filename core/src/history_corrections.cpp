#include "oee/core/history_corrections.h"

#include <algorithm>

#include "oee/core/count_bounds.h"
#include "oee/core/machine_history.h"

namespace oee {

bool correction_is_applicable(const MachineSpec& machine, const Event& e) {
  switch (e.correction) {
    case CorrectionKind::reclassify: {
      if (e.at >= e.until || (e.state.empty() && e.reason.empty())) return false;
      if (e.state.empty()) return true;
      const auto s = machine.resolve_state(e.state);
      return s && *s != State::unknown;
    }
    case CorrectionKind::rejects: return e.reject > 0 && e.reject <= kMaxCount;
    case CorrectionKind::void_reading: return e.counter <= CounterName::reject;
  }
  return false;
}

VoidedReadings::VoidedReadings(std::span<const Event* const> corrections) {
  for (const Event* e : corrections)
    if (e->correction == CorrectionKind::void_reading) voided_.emplace_back(e->at, e->counter);
  std::sort(voided_.begin(), voided_.end());
}

bool VoidedReadings::contains(const Event& reading) const {
  return reading.type == EventType::counter &&
         std::binary_search(voided_.begin(), voided_.end(), std::pair{reading.ts, reading.counter});
}

namespace {

// Splits the interval containing t in two at t (nothing when t is already a boundary).
void split_at(std::vector<StateInterval>& intervals, TimeMs t) {
  auto it = std::upper_bound(intervals.begin(), intervals.end(), t,
                             [](TimeMs v, const StateInterval& iv) { return v < iv.start; });
  if (it == intervals.begin()) return;
  --it;
  if (it->start == t || it->end <= t) return;
  StateInterval tail = *it;
  tail.start = t;
  it->end = t;
  intervals.insert(it + 1, std::move(tail));
}

// Neighbours that read the same (a split no correction changed) become one interval again.
void join_equal_neighbours(std::vector<StateInterval>& intervals) {
  auto same = [](const StateInterval& a, const StateInterval& b) {
    return a.end == b.start && a.state == b.state && a.reason == b.reason && a.reason_ts == b.reason_ts &&
           a.loss == b.loss;
  };
  std::vector<StateInterval> out;
  out.reserve(intervals.size());
  for (StateInterval& iv : intervals) {
    if (!out.empty() && same(out.back(), iv))
      out.back().end = iv.end;
    else
      out.push_back(std::move(iv));
  }
  intervals = std::move(out);
}

// A corrected state takes the correction's reason (none when it gives none): the old reason named
// the old state. A reason alone goes to the stops in the range, as an operator's reason would.
void reclassify(const MachineSpec& machine, const Event& e, std::vector<StateInterval>& intervals) {
  split_at(intervals, e.at);
  split_at(intervals, e.until);
  const std::optional<State> state = e.state.empty() ? std::nullopt : machine.resolve_state(e.state);
  for (StateInterval& iv : intervals) {
    if (iv.start < e.at || iv.end > e.until) continue;
    if (state) {
      iv.state = *state;
      iv.reason = e.reason;
      iv.reason_ts = e.reason.empty() ? kTimeMin : e.ts;
    } else if (is_unplanned_stop(iv.state)) {
      iv.reason = e.reason;
      iv.reason_ts = e.ts;
    }
  }
}

}  // namespace

void apply_reclassifications(const MachineSpec& machine, std::span<const Event* const> corrections,
                             std::vector<StateInterval>& intervals) {
  bool any = false;
  for (const Event* e : corrections) {
    if (e->correction != CorrectionKind::reclassify) continue;
    reclassify(machine, *e, intervals);
    any = true;
  }
  if (any) join_equal_neighbours(intervals);
}

void add_found_rejects(std::span<const Event* const> corrections, std::vector<CountRecord>& counts) {
  bool any = false;
  for (const Event* e : corrections) {
    if (e->correction != CorrectionKind::rejects) continue;
    counts.push_back({e->at, -e->reject, e->reject, 0, 0});
    any = true;
  }
  if (any) std::stable_sort(counts.begin(), counts.end(), [](const CountRecord& a, const CountRecord& b) { return a.ts < b.ts; });
}

}  // namespace oee
