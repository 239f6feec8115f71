#pragma once
// What the edge's signals are called and typed as Sparkplug B metrics (docs/sparkplug.md, "Our edge
// as a Sparkplug edge node"): state, counter:NAME, count:NAME, product, sample:NAME, reason.
#include <map>
#include <string>
#include <vector>

#include "oee/core/event.h"
#include "oee/edge/edge_config.h"
#include "oee/edge/sparkplug_wire.h"

namespace oee::edge::sparkplug {

// Per machine path, the metrics its device announces in its DBIRTH.
using MetricCatalog = std::map<std::string, std::map<std::string, DataType>, std::less<>>;

// The metric a tag publishes.
std::pair<std::string, DataType> tag_metric(const TagConfig& tag);
// The metrics the simulator publishes for every machine.
void add_simulator_metrics(std::map<std::string, DataType>& metrics);
// The metrics one event becomes (a heartbeat: none). Timestamps are the event's (a reason event's
// `at`: the stop it names).
void append_event_metrics(const Event& e, bool historical, std::vector<Metric>& out);
// A machine path as a Sparkplug device id: '/' becomes '.' (a topic level holds no '/').
std::string device_id(std::string_view machine_path);

}  // namespace oee::edge::sparkplug
