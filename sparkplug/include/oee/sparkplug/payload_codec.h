#pragma once
// Sparkplug B payload bytes <-> the protobuf message, with every metric checked against its
// datatype so what decodes can be read with metric_value() without surprises.
#include <optional>
#include <string>
#include <string_view>

#include "oee/sparkplug/metric_value.h"

namespace oee::sparkplug {

struct DecodedPayload {
  std::optional<pb::Payload> payload;  // set when the bytes are a valid payload
  std::string error;                   // why not, otherwise (for the dead letter)
};

// Parses and validates: protobuf well-formed; each metric has a name or an alias, a known datatype
// (in NBIRTH/DBIRTH the datatype is required; in data messages a metric that names only an alias
// may leave it to the birth: then its value is not checked here); the value in the field its
// datatype uses; arrays of whole elements; DataSet rows as wide as its columns, each cell of its
// column's type; PropertySet keys and values paired; Templates checked recursively.
DecodedPayload decode_payload(std::string_view bytes);
// The error of a metric whose datatype is known (from the payload or the birth), "" when valid.
std::string check_metric(const pb::Payload::Metric& metric, DataType type);

std::string encode_payload(const pb::Payload& payload);

}  // namespace oee::sparkplug
