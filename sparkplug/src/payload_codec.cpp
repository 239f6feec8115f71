#include "oee/sparkplug/payload_codec.h"

namespace oee::sparkplug {
namespace {

std::string check_property_set(const pb::Payload::PropertySet& set);

std::string type_error(std::uint32_t code) { return "unknown datatype " + std::to_string(code); }

std::string check_property(const pb::Payload::PropertyValue& property) {
  auto type = datatype_from_code(property.type());
  if (!type) return type_error(property.type());
  if (property.is_null() || property.value_case() == pb::Payload::PropertyValue::VALUE_NOT_SET) return "";
  if (*type == pb::PropertySet) {
    if (!property.has_propertyset_value()) return "PropertySet: value is not in propertyset_value";
    return check_property_set(property.propertyset_value());
  }
  if (*type == pb::PropertySetList) {
    if (!property.has_propertysets_value()) return "PropertySetList: value is not in propertysets_value";
    for (const auto& set : property.propertysets_value().propertyset()) {
      if (auto error = check_property_set(set); !error.empty()) return error;
    }
    return "";
  }
  try {
    property_value(property);
  } catch (const ValueError& e) {
    return e.what();
  }
  return "";
}

std::string check_property_set(const pb::Payload::PropertySet& set) {
  if (set.keys_size() != set.values_size()) {
    return "PropertySet has " + std::to_string(set.keys_size()) + " keys and " + std::to_string(set.values_size()) +
           " values";
  }
  for (int i = 0; i < set.values_size(); ++i) {
    if (auto error = check_property(set.values(i)); !error.empty()) return "property '" + set.keys(i) + "': " + error;
  }
  return "";
}

bool is_cell_type(DataType type) {
  return is_signed_integer(type) || is_unsigned_integer(type) || (type >= pb::Float && type <= pb::UUID);
}

std::string check_dataset(const pb::Payload::DataSet& set) {
  auto columns = static_cast<std::uint64_t>(set.columns_size());
  if (set.num_of_columns() != columns || set.types_size() != set.columns_size()) {
    return "DataSet: num_of_columns " + std::to_string(set.num_of_columns()) + ", " + std::to_string(columns) +
           " columns, " + std::to_string(set.types_size()) + " types";
  }
  for (auto code : set.types()) {
    auto type = datatype_from_code(code);
    if (!type || !is_cell_type(*type)) return "DataSet: column type " + std::to_string(code) + " is not a scalar type";
  }
  for (int r = 0; r < set.rows_size(); ++r) {
    const auto& row = set.rows(r);
    if (row.elements_size() != set.columns_size()) return "DataSet: row " + std::to_string(r) + " is not as wide as the columns";
    for (int c = 0; c < row.elements_size(); ++c) {
      try {
        dataset_value(row.elements(c), static_cast<DataType>(set.types(c)));
      } catch (const ValueError& e) {
        return "DataSet row " + std::to_string(r) + " column '" + set.columns(c) + "': " + e.what();
      }
    }
  }
  return "";
}

std::string check_template(const pb::Payload::Template& tmpl) {
  for (const auto& parameter : tmpl.parameters()) {
    auto type = datatype_from_code(parameter.type());
    if (!type || !is_cell_type(*type)) return "Template parameter '" + parameter.name() + "': not a scalar type";
    try {
      parameter_value(parameter);
    } catch (const ValueError& e) {
      return "Template parameter '" + parameter.name() + "': " + e.what();
    }
  }
  for (const auto& metric : tmpl.metrics()) {
    auto type = datatype_from_code(metric.datatype());
    if (!type) return "Template metric '" + metric.name() + "': " + type_error(metric.datatype());
    if (auto error = check_metric(metric, *type); !error.empty()) return "Template metric '" + metric.name() + "': " + error;
  }
  return "";
}

std::string check_value(const pb::Payload::Metric& metric, DataType type) {
  if (metric.is_null() || metric.value_case() == pb::Payload::Metric::VALUE_NOT_SET) return "";
  if (type == pb::DataSet) {
    return metric.has_dataset_value() ? check_dataset(metric.dataset_value()) : "DataSet: value is not in dataset_value";
  }
  if (type == pb::Template) {
    return metric.has_template_value() ? check_template(metric.template_value()) : "Template: value is not in template_value";
  }
  if (type == pb::PropertySet || type == pb::PropertySetList) return "a metric cannot carry a " + std::string(datatype_name(type));
  try {
    metric_value(metric);
  } catch (const ValueError& e) {
    return e.what();
  }
  return "";
}

std::string metric_label(const pb::Payload::Metric& metric) {
  return metric.has_name() ? "metric '" + metric.name() + "'" : "metric alias " + std::to_string(metric.alias());
}

}  // namespace

std::string check_metric(const pb::Payload::Metric& metric, DataType type) {
  if (metric.has_properties()) {
    if (auto error = check_property_set(metric.properties()); !error.empty()) return error;
  }
  if (metric.has_datatype() && metric.datatype() != static_cast<std::uint32_t>(type)) {
    return "datatype " + std::string(datatype_name(static_cast<DataType>(metric.datatype()))) + " where " +
           std::string(datatype_name(type)) + " was born";
  }
  if (metric.has_datatype()) return check_value(metric, type);
  pb::Payload::Metric typed = metric;  // an alias-only data metric: read it with its birth's datatype
  typed.set_datatype(type);
  return check_value(typed, type);
}

DecodedPayload decode_payload(std::string_view bytes) {
  pb::Payload payload;
  if (!payload.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return {std::nullopt, "not a Sparkplug B payload (protobuf parse failed)"};
  }
  for (int i = 0; i < payload.metrics_size(); ++i) {
    const auto& metric = payload.metrics(i);
    if (!metric.has_name() && !metric.has_alias()) return {std::nullopt, "metric " + std::to_string(i) + " has neither name nor alias"};
    if (!metric.has_datatype()) continue;  // checked against its birth by the receiver
    auto type = datatype_from_code(metric.datatype());
    if (!type) return {std::nullopt, metric_label(metric) + ": " + type_error(metric.datatype())};
    if (auto error = check_metric(metric, *type); !error.empty()) return {std::nullopt, metric_label(metric) + ": " + error};
  }
  return {std::move(payload), ""};
}

std::string encode_payload(const pb::Payload& payload) { return payload.SerializeAsString(); }

}  // namespace oee::sparkplug
