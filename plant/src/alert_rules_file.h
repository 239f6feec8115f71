#pragma once
// The plant file's `alerts:` (rules, webhooks, e-mail), validated with file:line errors.
#include <vector>

#include "oee/core/alert_rule.h"
#include "oee/core/plant_model.h"
#include "oee/plant/alert_notifications.h"
#include "oee/plant/yaml_fields.h"

namespace oee::plant {

// `plant` is read already (sites, targets): rules name its nodes. Secret files are read relative
// to the plant file's directory.
void read_alerts(const YamlFields& r, const YAML::Node& alerts, const PlantModel& plant, std::vector<AlertRule>& rules,
                 AlertNotifications& notifications);

}  // namespace oee::plant
