#pragma once
// The rules a machine's rollups are made with, as text both stores keep beside them: a plant file
// changed between two runs (a new no_data_after_s, micro-stop threshold, cycle time, state map, or
// shift calendar: shifts, breaks, production days, time zone) must not be answered from rollups made
// with the old rules (docs/storage.md).
#include <string>

#include "oee/core/plant_model.h"
#include "oee/core/time_zone.h"

namespace oee::storage {

// The fields the engine's totals depend on (SqliteEventStore's same_rules), names length-prefixed.
inline std::string machine_rules(const MachineSpec& m) {
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
  // A reason's loss counts (reason tree): the codes with a loss, and the PLC codes read as codes.
  // Without a tree the text stays as before, so such stores keep their rollups.
  if (m.reasons || !m.reason_codes.empty()) {
    s += " |reasons";
    if (m.reasons)
      for (const ReasonNode& n : m.reasons->nodes())
        if (n.loss != ReasonLoss::none) {
          name(n.code);
          s += '=' + std::to_string(static_cast<int>(n.loss));
        }
    s += " |codes";
    for (const auto& [plc, code] : m.reason_codes) {
      name(plc);
      name(code);
    }
  }
  return s;
}

// What the planned time of an hour depends on (ShiftCalendar): the zone, each shift's times, breaks
// and weekdays, the production weekdays and the non-production dates. Shift names only label.
inline std::string calendar_rules(const PlantModel& plant, const TimeZone& zone) {
  std::string s = std::to_string(zone.name().size()) + ':' + zone.name();
  auto days = [&s](const std::array<bool, 7>& d) {
    s += ' ';
    for (bool on : d) s += on ? '1' : '0';
  };
  for (const ShiftSpec& shift : plant.shifts) {
    s += " shift " + std::to_string(shift.start_minute) + '-' + std::to_string(shift.end_minute);
    for (const BreakSpec& b : shift.breaks) s += " break " + std::to_string(b.start_minute) + '-' + std::to_string(b.end_minute);
    days(shift.weekdays);
  }
  s += " |";
  days(plant.production_weekdays);
  for (std::int64_t d : plant.non_production_dates) s += ' ' + std::to_string(d);
  return s;
}

inline std::string rollup_rules(const MachineSpec& m, const std::string& calendar) {
  return machine_rules(m) + " @ " + calendar;
}

}  // namespace oee::storage
