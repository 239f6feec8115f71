#pragma once
// What both stores need to serve machines with no-data detection (docs/oee-model.md, "No data")
// from partial event sets: the engine only needs the last sign of life before a window and the first
// one after it, which a partial set carries as heartbeats (docs/storage.md, "No data").
#include <algorithm>
#include <string>

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

// How far after a window its totals still depend on events: a stop overlapping its end is
// classified on its whole length, a silence overlapping it on its whole length.
inline DurationMs look_ahead_ms(const MachineSpec& m) { return std::max(m.micro_stop_threshold_ms, m.no_data_after_ms); }

// t + d, saturating at kTimeMax (an open window).
inline TimeMs later_by(TimeMs t, DurationMs d) { return t < kTimeMax - d ? t + d : kTimeMax; }

// Where the last sign before `t` is looked for: a sign before this instant starts a silence longer
// than the threshold up to any instant from t on, and this instant stands for every such sign.
inline TimeMs sign_search_start(TimeMs t, DurationMs no_data_after_ms) { return t - no_data_after_ms - 1; }

}  // namespace oee::storage
