#pragma once
// An alert rule of the plant file (`alerts:`, docs/configuration.md): what condition, on what.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "oee/core/time.h"

namespace oee {

enum class AlertKind : std::uint8_t {
  machine_down,        // an unplanned stop lasting longer than for_ms
  oee_below_target,    // the current shift's OEE so far below target, checked from at_minute on
  no_data,             // no event at all from a machine for longer than for_ms
  edge_queue_growing,  // an edge's queue_depth rising, never falling, for at least for_ms
};

std::string_view alert_kind_name(AlertKind k);
std::optional<AlertKind> parse_alert_kind(std::string_view name);

struct AlertRule {
  std::string name;  // unique among the rules; an alert's id is rule name + subject
  AlertKind kind = AlertKind::machine_down;
  // The node path (machine, line, ...) the rule watches, or the edge id for edge_queue_growing.
  // Empty: every machine (every edge).
  std::string node;
  DurationMs for_ms = 0;
  // oee_below_target: the target (0: the machine's `targets.oee`) and the minute of the shift from
  // which the shift's OEE is compared (before it, a shift just begun would always alert).
  double target = 0.0;
  int at_minute = 0;
};

}  // namespace oee
