// libFuzzer target: any bytes given to the Sparkplug B payload decoder are either refused with a
// reason or decode into a payload whose every value reads back and prints as JSON.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "oee/sparkplug/payload_codec.h"
#include "oee/sparkplug/payload_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto decoded = oee::sparkplug::decode_payload(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!decoded.payload) {
    if (decoded.error.empty()) __builtin_trap();  // a refusal always has its reason
    return 0;
  }
  for (const auto& metric : decoded.payload->metrics()) {
    auto type = static_cast<oee::sparkplug::DataType>(metric.datatype());
    if (metric.has_datatype() && type != oee::sparkplug::pb::DataSet && type != oee::sparkplug::pb::Template) {
      (void)oee::sparkplug::metric_value(metric);  // validated: must not throw
    }
  }
  (void)oee::sparkplug::payload_to_json(*decoded.payload);
  return 0;
}
