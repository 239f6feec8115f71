#include "oee/core/unwatched_alerts.h"

#include <algorithm>

namespace oee {

namespace {

bool rule_watches(const PlantModel& plant, const AlertRule& rule, const std::string& subject) {
  switch (rule.kind) {
    case AlertKind::machine_down:
    case AlertKind::no_data: {
      const auto machines = plant.machines_under(rule.node);
      return std::any_of(machines.begin(), machines.end(), [&](const MachineSpec* m) { return m->path == subject; });
    }
    case AlertKind::oee_below_target: return subject == rule.node;
    case AlertKind::edge_queue_growing: return rule.node.empty() || subject == rule.node;
  }
  return false;
}

}  // namespace

std::optional<AlertResolution> unwatched_reason(const PlantModel& plant, const Alert& alert) {
  // A rule of the same name but another kind is another rule: the alert's condition is gone.
  const auto rule = std::find_if(plant.alert_rules.begin(), plant.alert_rules.end(),
                                 [&](const AlertRule& r) { return r.name == alert.rule && r.kind == alert.kind; });
  if (rule == plant.alert_rules.end()) return AlertResolution::rule_removed;
  if (!rule_watches(plant, *rule, alert.subject)) return AlertResolution::node_removed;
  return std::nullopt;
}

}  // namespace oee
