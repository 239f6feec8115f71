// Totals: whole settled hours from the cumulative rollups, the partial hours at the edges from the engine.
#include "sqlite_event_store.h"

#include "signs_of_life.h"
#include "store_helpers.h"

namespace oee::storage::sqlite {

// The cumulative rollup at the end of `hour`: its row, or the zero point's value.
KpiTotals SqliteEventStore::cumulative_at(const MachineState& m, TimeMs hour) {
  if (hour <= m.zero_hour) return m.zero;
  KpiTotals t;
  q().select_rollup.bind(1, m.id).bind(2, hour);
  if (q().select_rollup.step()) t = totals_from(q().select_rollup, 0);
  q().select_rollup.reset();
  return t;
}

KpiTotals SqliteEventStore::engine_part(MachineState& m, const MachineSpec& spec, TimeMs from, TimeMs to,
                                        TimeMs horizon) {
  if (!m.header_only && m.spec && m.base != kNoBase && from >= m.base && same_rules(*m.spec, spec))
    return oee::machine_totals(tail_history(m), calendar_, from, to, horizon);
  return oee::machine_totals(history_from_db(m, spec, from, to), calendar_, from, to, horizon);
}

// Totals of the whole hours [from, to) (to <= base): the difference of two cumulative rows. Hours
// at or before the zero point have no events (before the machine's first) or none kept (retention):
// unknown time.
KpiTotals SqliteEventStore::rollup_sum(MachineState& m, TimeMs from, TimeMs to) {
  const TimeMs a = std::max(from, m.zero_hour + kMsPerHour);
  KpiTotals t;
  if (a < to) {
    // Two point lookups: cheaper than one statement with IN (?, ?), which builds a temporary list.
    t = cumulative_at(m, to - kMsPerHour);
    KpiTotals before = cumulative_at(m, a - kMsPerHour);
    const auto minus = kpi_fields(before);
    std::size_t c = 0;
    for (std::int64_t* f : kpi_fields(t)) *f -= *minus[c++];
  }
  const DurationMs unknown = std::min(a, to) - from;
  t.all_ms += unknown;
  t.unknown_ms += unknown;
  return t;
}

KpiTotals SqliteEventStore::machine_totals(const MachineSpec& machine, TimeMs from, TimeMs to, TimeMs horizon) {
  KpiTotals t;
  t.machine_count = 1;
  const TimeMs end = std::min(to, horizon);
  if (from >= end) return t;
  const std::string_view paths[] = {machine.path};
  ReadScope scope(*this, paths);
  MachineState* found = ReadScope::of(*this)->find(machine.path);
  if (!found)
    return oee::machine_totals(MachineHistory::build(machine, std::span<const Event>{}), calendar_, from, to, horizon);
  MachineState& m = *found;
  // Rollups hold what the store's spec of the machine gives; a caller's spec with other rules (a
  // reloaded plant file, say) gets the engine over the events.
  if (!m.spec || !same_rules(*m.spec, machine) || m.base == kNoBase)
    return engine_part(m, machine, from, to, horizon);
  // Whole settled hours come from the rollups, computed with no horizon. An earlier horizon can only
  // reclassify a stop still open at it and begun less than one micro-stop threshold before it, or
  // a silence running past it and begun less than one no-data threshold before it, so hours ending
  // later than horizon - look_ahead_ms use the engine.
  const TimeMs r0 = ceil_to(from, kMsPerHour);
  const TimeMs r1 = std::min({floor_hour(end), m.base, floor_hour(horizon - look_ahead_ms(machine))});
  if (r1 <= r0) return engine_part(m, machine, from, to, horizon);
  t = rollup_sum(m, r0, r1);
  if (from < r0) t += engine_part(m, machine, from, r0, horizon);
  if (r1 < end) t += engine_part(m, machine, r1, to, horizon);
  t.machine_count = 1;
  return t;
}

// sum += sign x the cumulative rollup of each wanted machine at the end of `hour` (cumulative_at).
// Many machines: one range of the rollups_by_hour index, the group's rows side by side.
void SqliteEventStore::add_cumulative_rows(TimeMs hour, std::span<const std::pair<MachineState*, int>> wanted,
                                           KpiTotals& sum) {
  auto add = [&sum](KpiTotals t, int sign) {
    const auto from = kpi_fields(t);
    std::size_t c = 0;
    for (std::int64_t* f : kpi_fields(sum)) *f += sign * *from[c++];
  };
  std::unordered_map<std::int64_t, int> sign_of;
  std::int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const auto& [m, sign] : wanted) {
    if (hour <= m->zero_hour) {
      add(m->zero, sign);
    } else if (wanted.size() < kGroupScanMin) {
      add(cumulative_at(*m, hour), sign);
    } else {
      sign_of[m->id] += sign;
      lo = std::min(lo, m->id);
      hi = std::max(hi, m->id);
    }
  }
  if (sign_of.empty()) return;
  Statement& s = q().select_rollups_of_hour;
  s.bind(1, hour).bind(2, lo).bind(3, hi);
  while (s.step()) {
    auto it = sign_of.find(s.int_at(0));
    if (it == sign_of.end() || it->second == 0) continue;
    int c = 1;
    for (std::int64_t* f : kpi_fields(sum)) *f += it->second * s.int_at(c++);
  }
  s.reset();
}

// sum += the engine's totals of each edge window. Edges before the settled hour need the events of
// their hours from the file: for many machines, one scan of each hour's blocks (all machines' blocks
// of an hour are adjacent) instead of a seek per machine and hour.
void SqliteEventStore::add_engine_edges(std::span<const EngineEdge> edges, TimeMs horizon, KpiTotals& sum) {
  auto add = [&sum](KpiTotals t) {
    t.machine_count = 0;  // the caller counts machines, not edges
    sum += t;
  };
  std::vector<const EngineEdge*> from_file;
  for (const EngineEdge& e : edges) {
    if (e.from >= e.machine->base) {
      add(engine_part(*e.machine, *e.spec, e.from, e.to, horizon));  // the in-memory tail
    } else {
      from_file.push_back(&e);
    }
  }
  // Edges read together share one window (the group's first or last partial hour); others, or a
  // group small beside the plant, read per machine.
  std::map<std::pair<TimeMs, TimeMs>, std::vector<const EngineEdge*>> by_window;
  for (const EngineEdge* e : from_file) by_window[{e->from, e->to}].push_back(e);
  for (auto& [window, group] : by_window) {
    const TimeMs first_hour = floor_hour(window.first);
    TimeMs last = first_hour;  // end of the events read: `to` plus the look-ahead (history_from_db)
    for (const EngineEdge* e : group) last = std::max(last, later_by(window.second, look_ahead_ms(*e->spec)));
    const bool scan = group.size() >= kGroupScanMin && group.size() * 4 >= machine_count() &&
                      last - first_hour <= kGroupScanHoursMax * kMsPerHour;
    if (!scan) {
      for (const EngineEdge* e : group) add(engine_part(*e->machine, *e->spec, e->from, e->to, horizon));
      continue;
    }
    // A machine twice in the group (a caller's choice) reads once and gets a copy.
    std::unordered_map<std::int64_t, std::size_t> index_of;
    std::vector<std::size_t> first_of(group.size());
    for (std::size_t i = 0; i < group.size(); ++i) first_of[i] = index_of.emplace(group[i]->machine->id, i).first->second;
    std::vector<std::vector<Event>> ranges(group.size());
    for (TimeMs hour = first_hour; hour < last; hour += kMsPerHour) {
      Statement& s = q().select_blocks_of_hour;
      s.bind(1, hour);
      while (s.step()) {
        auto it = index_of.find(s.int_at(0));
        if (it == index_of.end()) continue;
        const EngineEdge& e = *group[it->second];
        const MachineState& m = *e.machine;
        // As load_events: hours at or before the zero point are not the machine's any more.
        if (hour <= m.zero_hour) continue;
        decode_block(s.blob_at(1), m, first_hour, later_by(e.to, look_ahead_ms(*e.spec)), ranges[it->second]);
      }
      s.reset();
    }
    for (std::size_t i = 0; i < group.size(); ++i)
      if (first_of[i] != i) ranges[i] = ranges[first_of[i]];
    for (std::size_t i = 0; i < group.size(); ++i) {
      const EngineEdge& e = *group[i];
      add(oee::machine_totals(history_from_db(*e.machine, *e.spec, e.from, e.to, &ranges[i]), calendar_, e.from, e.to,
                              horizon));
    }
  }
}

// As the sum of machine_totals, with the same split per machine (rollups for settled whole hours,
// the engine for the rest), but the rollups of the group read per boundary hour and the edges'
// events per hour, not per machine.
KpiTotals SqliteEventStore::machines_totals(std::span<const MachineSpec* const> specs, TimeMs from, TimeMs to,
                                            TimeMs horizon) {
  KpiTotals sum;
  const TimeMs end = std::min(to, horizon);
  std::map<TimeMs, std::vector<std::pair<MachineState*, int>>> rows;  // cumulative rows wanted, by hour
  std::vector<EngineEdge> edges;
  std::vector<std::string_view> paths;
  for (const MachineSpec* spec : specs) paths.push_back(spec->path);
  ReadScope scope(*this, paths);
  for (const MachineSpec* spec : specs) {
    MachineState* m = ReadScope::of(*this)->find(spec->path);
    const TimeMs r0 = ceil_to(from, kMsPerHour);
    const TimeMs r1 = m ? std::min({floor_hour(end), m->base, floor_hour(horizon - look_ahead_ms(*spec))}) : kTimeMin;
    if (from >= end || !m || !m->spec || !same_rules(*m->spec, *spec) || m->base == kNoBase || r1 <= r0) {
      sum += machine_totals(*spec, from, to, horizon);
      continue;
    }
    // rollup_sum(m, r0, r1), its two rows read below.
    const TimeMs a = std::max(r0, m->zero_hour + kMsPerHour);
    if (a < r1) {
      rows[r1 - kMsPerHour].emplace_back(m, 1);
      rows[a - kMsPerHour].emplace_back(m, -1);
    }
    const DurationMs unknown = std::min(a, r1) - r0;
    sum.all_ms += unknown;
    sum.unknown_ms += unknown;
    if (from < r0) edges.push_back({m, spec, from, r0});
    if (r1 < end) edges.push_back({m, spec, r1, to});
    ++sum.machine_count;
  }
  for (const auto& [hour, wanted] : rows) add_cumulative_rows(hour, wanted, sum);
  add_engine_edges(edges, horizon, sum);
  return sum;
}

}  // namespace oee::storage::sqlite
