#include "oee/core/line_stop_causes.h"

#include <algorithm>
#include <map>
#include <utility>

#include "oee/core/kpi.h"
#include "oee/core/reason_losses.h"

namespace oee {

namespace {

bool is_down(State s) { return s != State::running && s != State::unknown; }

// When the machine's down time containing `at` began, or nullopt when it is not down at `at`.
std::optional<TimeMs> down_since(const MachineHistory& h, TimeMs at) {
  std::ptrdiff_t i = h.interval_at(at);
  const auto& ivs = h.intervals();
  if (i < 0 || !is_down(ivs[static_cast<std::size_t>(i)].state)) return std::nullopt;
  while (i > 0 && is_down(ivs[static_cast<std::size_t>(i - 1)].state) &&
         ivs[static_cast<std::size_t>(i - 1)].end == ivs[static_cast<std::size_t>(i)].start)
    --i;
  return ivs[static_cast<std::size_t>(i)].start;
}

}  // namespace

const MachineSpec* root_cause_machine(const LineSpec& line, std::size_t constraint_index, State constraint_state,
                                      TimeMs at, const std::function<const MachineHistory*(const std::string&)>& history_of) {
  const bool upstream = constraint_state == State::starved;
  const MachineSpec* best = nullptr;
  TimeMs best_since = kTimeMax;
  // Nearest first, so that a later machine (farther away) wins ties with `<=`.
  for (std::size_t step = 1; step <= line.machines.size(); ++step) {
    if (upstream ? step > constraint_index : constraint_index + step >= line.machines.size()) break;
    const MachineSpec& m = line.machines[upstream ? constraint_index - step : constraint_index + step];
    const MachineHistory* h = history_of(m.path);
    if (!h) continue;
    const auto since = down_since(*h, at);
    if (since && *since <= best_since) {
      best = &m;
      best_since = *since;
    }
  }
  return best;
}

std::vector<LineStopCause> line_stop_causes(const LineSpec& line, const ShiftCalendar& calendar, TimeMs from, TimeMs to,
                                            TimeMs horizon,
                                            const std::function<const MachineHistory*(const std::string&)>& history_of) {
  std::vector<LineStopCause> out;
  const std::ptrdiff_t ci = line.machine_index(line.kpi.constraint);
  if (line.kpi.mode != LineKpiMode::constraint || ci < 0) return out;
  const MachineSpec& constraint = line.machines[static_cast<std::size_t>(ci)];
  const MachineHistory* h = history_of(constraint.path);
  if (!h) return out;
  const TimeMs end = std::min(to, horizon);
  std::map<std::pair<std::string, State>, LineStopCause> by_cause;
  for (const StateInterval& iv : h->intervals()) {
    if (iv.start >= end) break;
    const State s = loss_state(iv);
    if (iv.end <= from || (s != State::starved && s != State::blocked)) continue;
    // The interval's part of the window, counted exactly as the constraint's own totals count it.
    const KpiTotals t = machine_totals(*h, calendar, std::max(from, iv.start), std::min(end, iv.end), horizon);
    const DurationMs loss = t.starved_ms + t.blocked_ms;
    const std::int64_t stops = h->is_small_stop(iv, horizon) ? 0 : t.stop_count;
    if (loss == 0 && stops == 0) continue;
    const MachineSpec* cause = root_cause_machine(line, static_cast<std::size_t>(ci), s, iv.start, history_of);
    const std::string& path = cause ? cause->path : constraint.path;
    LineStopCause& c = by_cause[{path, s}];
    c.machine = path;
    c.constraint_state = s;
    c.loss_ms += loss;
    c.stop_count += stops;
  }
  for (auto& [key, c] : by_cause) out.push_back(std::move(c));
  std::stable_sort(out.begin(), out.end(), [](const LineStopCause& a, const LineStopCause& b) { return a.loss_ms > b.loss_ms; });
  return out;
}

}  // namespace oee
