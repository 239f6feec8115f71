#pragma once
// A payload as JSON, for `oee sparkplug decode` (troubleshooting a captured payload).
#include <string>

#include "oee/sparkplug/metric_value.h"

namespace oee::sparkplug {

// {"timestamp":…,"seq":…,"uuid":…,"metrics":[{"name","alias","timestamp","datatype":"Int32",
//  "is_historical","is_transient","value",…}]} with DataSets, Templates and PropertySets nested.
// 64-bit integers are written as JSON integers, exact.
std::string payload_to_json(const pb::Payload& payload);

}  // namespace oee::sparkplug
