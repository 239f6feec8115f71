#pragma once
// Which topics `oee serve --mqtt-topic FILTER` may subscribe to, and what that leaves to the other
// servers of a deployment that shares one database: a server ingests the machines its ordinary
// filters match; a machine matched by none, or only through a shared subscription
// ("$share/<group>/…", where each message goes to one server of the group), is ingested (wholly or
// partly) elsewhere, so this server reads its live state from the shared store.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oee/core/plant_model.h"

namespace oee::server {

inline constexpr std::string_view kDefaultIngestTopicFilter = "oee/v1/#";

// Why `filter` cannot be an ingest subscription, or empty: a valid MQTT topic filter (or shared
// subscription) under oee/v1/ (docs/mqtt.md), which every server's messages live under.
std::string check_ingest_topic_filter(std::string_view filter);

// The machines of `plant` whose events topic (oee/v1/<path>/events) no ordinary filter of
// `filters` matches (empty `filters` = the default, oee/v1/#, which matches all).
std::vector<const MachineSpec*> machines_ingested_elsewhere(const PlantModel& plant, std::span<const std::string> filters);

}  // namespace oee::server
