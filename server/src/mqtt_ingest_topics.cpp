#include "oee/server/mqtt_ingest_topics.h"

#include "oee/transport/topic_filter.h"

namespace oee::server {

std::string check_ingest_topic_filter(std::string_view filter) {
  if (std::string why = transport::check_topic_filter(filter); !why.empty()) return why;
  const std::string_view plain = transport::split_shared_subscription(filter).filter;
  if (!plain.starts_with("oee/v1/"))
    return "the filter must lie under oee/v1/ (for example oee/v1/<site>/<area>/# or $share/<group>/oee/v1/#)";
  return {};
}

std::vector<const MachineSpec*> machines_ingested_elsewhere(const PlantModel& plant, std::span<const std::string> filters) {
  const std::vector<std::string> defaults{std::string(kDefaultIngestTopicFilter)};
  if (filters.empty()) filters = defaults;
  std::vector<const MachineSpec*> out;
  for (const MachineSpec* m : plant.machines()) {
    const std::string topic = "oee/v1/" + m->path + "/events";
    bool wholly_here = false;
    for (const std::string& f : filters)
      wholly_here = wholly_here || (!f.starts_with("$share/") && transport::topic_matches_filter(f, topic));
    if (!wholly_here) out.push_back(m);
  }
  return out;
}

}  // namespace oee::server
