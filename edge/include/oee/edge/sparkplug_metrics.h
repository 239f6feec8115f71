#pragma once
// What the edge's signals are called and typed as Sparkplug B metrics (docs/sparkplug.md, "Our edge
// as a Sparkplug edge node"): state, counter:NAME, count:NAME, product, sample:NAME, reason.
#include <map>
#include <string>
#include <string_view>

#include "oee/core/event.h"
#include "oee/edge/edge_config.h"
#include "oee/sparkplug/datatype.h"

namespace oee::edge {

using SparkplugMetric = sparkplug::pb::Payload::Metric;
// Per machine path, the metrics its device announces in its DBIRTH.
using SparkplugCatalog = std::map<std::string, std::map<std::string, sparkplug::DataType>, std::less<>>;

// The metric a tag publishes.
std::pair<std::string, sparkplug::DataType> sparkplug_tag_metric(const TagConfig& tag);
// The metrics the simulator publishes for every machine.
void add_simulator_sparkplug_metrics(std::map<std::string, sparkplug::DataType>& metrics);
// Appends the metrics one event becomes (a heartbeat: none) to `payload`. Timestamps are the
// event's (a reason event's `at`: the stop it names); a counter's rollover is its property "rollover".
void append_sparkplug_metrics(const Event& e, bool historical, sparkplug::pb::Payload& payload);
// A machine path as a Sparkplug device id: '/' becomes '.' (a topic level holds no '/').
std::string sparkplug_device_id(std::string_view machine_path);

}  // namespace oee::edge
