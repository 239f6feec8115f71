#pragma once
// An alert of the plant's rules and a change of one (fired, resolved, acknowledged). The alerts
// live in the store (storage/event_store.h); the server fires and resolves them
// (server/alert_monitor.h) and tells the API, the WebSocket and the notifiers of each change.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "oee/core/alert_rule.h"

namespace oee {

// Why an alert resolved: its condition stopped holding, or the plant file no longer has its rule
// (rule_removed) or no longer has its subject under that rule (node_removed): nothing would ever
// evaluate it again, so it would fire forever.
enum class AlertResolution : std::uint8_t { cleared, rule_removed, node_removed };
std::string_view alert_resolution_name(AlertResolution r);
std::optional<AlertResolution> parse_alert_resolution(std::string_view name);

struct Alert {
  std::string id;  // rule + "/" + subject: stable, so an acknowledgement finds it again
  std::string rule;
  AlertKind kind = AlertKind::machine_down;
  std::string subject;  // the machine path or edge id
  TimeMs fired_ts = 0;  // the server's clock
  // When the condition it fired for began, in the clock that condition is measured in: a stop's or
  // a silence's start in the machine's clock (its events' ts); the server's for the others. The
  // same episode seen again has the same start, whatever the two clocks' skew.
  TimeMs since = 0;
  std::optional<TimeMs> resolved_ts;
  AlertResolution resolution = AlertResolution::cleared;  // meaningful once resolved
  std::string acknowledged_by;  // empty: not acknowledged
  TimeMs acknowledged_ts = 0;
  bool active() const { return !resolved_ts; }
};

enum class AlertTransition : std::uint8_t { fired, resolved, acknowledged };
struct AlertChange {
  AlertTransition transition = AlertTransition::fired;
  Alert alert;  // as it is after the change
};

}  // namespace oee
