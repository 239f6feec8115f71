#include "oee/core/alert.h"

namespace oee {

std::string_view alert_resolution_name(AlertResolution r) {
  switch (r) {
    case AlertResolution::cleared: return "cleared";
    case AlertResolution::rule_removed: return "rule_removed";
    case AlertResolution::node_removed: return "node_removed";
  }
  return "cleared";
}

std::optional<AlertResolution> parse_alert_resolution(std::string_view name) {
  for (AlertResolution r : {AlertResolution::cleared, AlertResolution::rule_removed, AlertResolution::node_removed})
    if (alert_resolution_name(r) == name) return r;
  return std::nullopt;
}

}  // namespace oee
