#include "oee/sparkplug/payload_json.h"

#include "oee/codec/json_writer.h"

namespace oee::sparkplug {
namespace {

using codec::JsonWriter;

void write_metric(JsonWriter& w, const pb::Payload::Metric& metric);
void write_property_set(JsonWriter& w, const pb::Payload::PropertySet& set);

void write_unsigned(JsonWriter& w, std::uint64_t v) { w.raw(std::to_string(v)); }

std::string hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

void write_value(JsonWriter& w, const Value& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          w.null();
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          w.integer(v);
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          write_unsigned(w, v);
        } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
          w.number(static_cast<double>(v));
        } else if constexpr (std::is_same_v<T, bool>) {
          w.boolean(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          w.string(v);
        } else if constexpr (std::is_same_v<T, Bytes>) {
          w.string(hex(std::string(v.begin(), v.end())));
        } else {
          w.begin_array();
          for (const auto& e : v) write_value(w, Value(static_cast<typename T::value_type>(e)));
          w.end_array();
        }
      },
      value);
}

// A structured value's reader threw (decode_payload lets no such payload through; this is for
// payloads built in memory): show the reason instead of the value.
template <class Read>
void write_checked(JsonWriter& w, Read read) {
  try {
    write_value(w, read());
  } catch (const ValueError& e) {
    w.begin_object().string_field("error", e.what()).end_object();
  }
}

void write_dataset(JsonWriter& w, const pb::Payload::DataSet& set) {
  w.begin_object().key("columns").begin_array();
  for (const auto& c : set.columns()) w.string(c);
  w.end_array().key("types").begin_array();
  for (auto t : set.types()) w.string(datatype_name(static_cast<DataType>(t)));
  w.end_array().key("rows").begin_array();
  for (const auto& row : set.rows()) {
    w.begin_array();
    for (int c = 0; c < row.elements_size(); ++c) {
      auto type = c < set.types_size() ? static_cast<DataType>(set.types(c)) : pb::Unknown;
      write_checked(w, [&] { return dataset_value(row.elements(c), type); });
    }
    w.end_array();
  }
  w.end_array().end_object();
}

void write_template(JsonWriter& w, const pb::Payload::Template& tmpl) {
  w.begin_object();
  if (tmpl.has_version()) w.string_field("version", tmpl.version());
  if (tmpl.has_template_ref()) w.string_field("template_ref", tmpl.template_ref());
  w.bool_field("is_definition", tmpl.is_definition()).key("parameters").begin_array();
  for (const auto& p : tmpl.parameters()) {
    w.begin_object().string_field("name", p.name()).string_field("type", datatype_name(static_cast<DataType>(p.type())));
    w.key("value");
    write_checked(w, [&] { return parameter_value(p); });
    w.end_object();
  }
  w.end_array().key("metrics").begin_array();
  for (const auto& m : tmpl.metrics()) write_metric(w, m);
  w.end_array().end_object();
}

void write_property(JsonWriter& w, const pb::Payload::PropertyValue& property) {
  auto type = static_cast<DataType>(property.type());
  w.begin_object().string_field("type", datatype_name(type)).key("value");
  if (property.has_propertyset_value()) {
    write_property_set(w, property.propertyset_value());
  } else if (property.has_propertysets_value()) {
    w.begin_array();
    for (const auto& set : property.propertysets_value().propertyset()) write_property_set(w, set);
    w.end_array();
  } else {
    write_checked(w, [&] { return property_value(property); });
  }
  w.end_object();
}

void write_property_set(JsonWriter& w, const pb::Payload::PropertySet& set) {
  w.begin_object();
  for (int i = 0; i < set.keys_size() && i < set.values_size(); ++i) {
    w.key(set.keys(i));
    write_property(w, set.values(i));
  }
  w.end_object();
}

void write_metric_value(JsonWriter& w, const pb::Payload::Metric& metric) {
  w.key("value");
  if (metric.is_null()) {
    w.null();
  } else if (metric.has_dataset_value()) {
    write_dataset(w, metric.dataset_value());
  } else if (metric.has_template_value()) {
    write_template(w, metric.template_value());
  } else if (!metric.has_datatype()) {
    w.null();  // an alias-only data metric: its datatype is in the birth
  } else {
    write_checked(w, [&] { return metric_value(metric); });
  }
}

void write_metric(JsonWriter& w, const pb::Payload::Metric& metric) {
  w.begin_object();
  if (metric.has_name()) w.string_field("name", metric.name());
  if (metric.has_alias()) write_unsigned(w.key("alias"), metric.alias());
  if (metric.has_timestamp()) write_unsigned(w.key("timestamp"), metric.timestamp());
  if (metric.has_datatype()) w.string_field("datatype", datatype_name(static_cast<DataType>(metric.datatype())));
  if (metric.is_historical()) w.bool_field("is_historical", true);
  if (metric.is_transient()) w.bool_field("is_transient", true);
  if (metric.has_properties()) {
    w.key("properties");
    write_property_set(w, metric.properties());
  }
  write_metric_value(w, metric);
  w.end_object();
}

}  // namespace

std::string payload_to_json(const pb::Payload& payload) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  if (payload.has_timestamp()) write_unsigned(w.key("timestamp"), payload.timestamp());
  if (payload.has_seq()) write_unsigned(w.key("seq"), payload.seq());
  if (payload.has_uuid()) w.string_field("uuid", payload.uuid());
  if (payload.has_body()) w.string_field("body", hex(payload.body()));
  w.key("metrics").begin_array();
  for (const auto& m : payload.metrics()) write_metric(w, m);
  w.end_array().end_object();
  return out;
}

}  // namespace oee::sparkplug
