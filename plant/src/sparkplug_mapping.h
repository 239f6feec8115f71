#pragma once
// A machine's `sparkplug:` key in the plant file (docs/sparkplug.md).
#include <string>

#include "oee/core/plant_model.h"
#include "oee/plant/yaml_fields.h"

namespace oee::plant {

// {group, node, device (optional), metrics: {"<metric name>": <signal>}}; throws through `r` with
// file:line for a missing or unknown key, an empty id, or a signal that is not one of the edge's.
SparkplugSource read_sparkplug_mapping(const YamlFields& r, const YAML::Node& n, const std::string& what);

}  // namespace oee::plant
