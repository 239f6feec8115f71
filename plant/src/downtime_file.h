#pragma once
// The plant file's `downtime:` list: planned-downtime windows of a line or machine, one-off
// ("YYYY-MM-DD HH:MM" to "YYYY-MM-DD HH:MM") or recurring ("HH:MM" to "HH:MM" on `days`), in the
// local time of the target's site, validated with file:line errors.
#include <vector>

#include "oee/core/downtime_window.h"
#include "oee/core/plant_model.h"
#include "oee/plant/yaml_fields.h"

namespace oee::plant {

// `plant`: its sites are read (targets must name one of its lines or machines).
std::vector<DowntimeWindow> read_downtime(const YamlFields& r, const YAML::Node& list, const PlantModel& plant);

}  // namespace oee::plant
