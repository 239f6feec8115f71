#pragma once
// What both stores need to serve machines with no-data detection (docs/oee-model.md, "No data")
// from partial event sets: the engine only needs the last sign of life before a window and the first
// one after it, which a partial set carries as heartbeats (docs/storage.md, "No data").
#include <algorithm>
#include <string>
#include <vector>

#include "oee/core/event.h"
#include "oee/core/plant_model.h"

namespace oee::storage {

// A sign of life and nothing else, standing for any event of the machine at `ts`.
inline Event heartbeat_at(const std::string& machine, TimeMs ts) {
  Event e;
  e.machine = machine;
  e.ts = ts;
  e.type = EventType::heartbeat;
  return e;
}

// Samples and heartbeats tell the engine only that the machine was alive at their instant
// (MachineHistory skips both but for its silences). In a store's in-memory tail they are kept as
// bare heartbeats, and only where no other event stands for them: an Event is a dozen strings,
// and a machine with a hundred process values sends most of its events as samples
// (bench/scale_proof.sh). A sign at the instant of the event before it goes; a bare heartbeat
// between the event before it and the next one, in time order and closer than `no_data_after_ms`
// end to end, goes when that next one comes: every gap it closed stays shorter than the
// threshold, so no silence changes, and the newest sign is always kept (with no-data detection
// off, any such run keeps its ends). Every other event drops its machine path: the tail is one
// machine's, and the engine reads its spec instead. Compacts events[from, end) in place; the order
// of the others is kept, and events[from] stays.
inline void keep_signs_bare(std::vector<Event>& events, std::size_t from, DurationMs no_data_after_ms) {
  const DurationMs closer_than = no_data_after_ms > 0 ? no_data_after_ms : kTimeMax;
  std::size_t out = from;
  for (std::size_t i = from; i < events.size(); ++i) {
    Event& e = events[i];
    if (out - from >= 2) {
      const Event& before = events[out - 2];
      const Event& last = events[out - 1];
      if (last.type == EventType::heartbeat && last.machine.empty() && before.ts <= last.ts && last.ts <= e.ts &&
          e.ts - before.ts < closer_than)
        --out;  // e takes the bare heartbeat's place
    }
    if (e.type != EventType::sample && e.type != EventType::heartbeat) {
      if (!e.machine.empty()) std::string().swap(e.machine);
      if (out != i) events[out] = std::move(e);
      ++out;
      continue;
    }
    if (out > from && events[out - 1].ts == e.ts) continue;
    Event sign;
    sign.ts = e.ts;
    sign.type = EventType::heartbeat;
    events[out++] = std::move(sign);
  }
  events.resize(out);
}

// How far after a window its totals still depend on events: a stop overlapping its end is
// classified on its whole length, a silence overlapping it on its whole length.
inline DurationMs look_ahead_ms(const MachineSpec& m) { return std::max(m.micro_stop_threshold_ms, m.no_data_after_ms); }

// t + d, saturating at kTimeMax (an open window).
inline TimeMs later_by(TimeMs t, DurationMs d) { return t < kTimeMax - d ? t + d : kTimeMax; }

// Where the last sign before `t` is looked for: a sign before this instant starts a silence longer
// than the threshold up to any instant from t on, and this instant stands for every such sign.
inline TimeMs sign_search_start(TimeMs t, DurationMs no_data_after_ms) { return t - no_data_after_ms - 1; }

}  // namespace oee::storage
