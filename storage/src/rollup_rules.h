#pragma once
// The rules a machine's rollups are made with, as text both stores keep beside them: a plant file
// changed between two runs (a new no_data_after_s, micro-stop threshold, cycle time, state map…)
// must not be answered from rollups made with the old rules (docs/storage.md).
#include <string>

#include "oee/core/plant_model.h"

namespace oee::storage {

// The fields the engine's totals depend on (SqliteEventStore's same_rules), names length-prefixed.
inline std::string rollup_rules(const MachineSpec& m) {
  std::string s = std::to_string(m.ideal_cycle_us) + ' ' + std::to_string(m.micro_stop_threshold_ms) + ' ' +
                  std::to_string(m.startup_window_ms) + ' ' + std::to_string(m.no_data_after_ms);
  auto name = [&s](const std::string& n) { s += ' ' + std::to_string(n.size()) + ':' + n; };
  for (const auto& [product, cycle] : m.product_cycle_us) {
    name(product);
    s += '=' + std::to_string(cycle);
  }
  s += " |";
  for (const auto& [raw, state] : m.state_map) {
    name(raw);
    s += '=' + std::to_string(static_cast<int>(state));
  }
  return s;
}

}  // namespace oee::storage
