#include "oee/sparkplug/payload_codec.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "oee/sparkplug/payload_json.h"

namespace oee::sparkplug {
namespace {

pb::Payload::Metric* add_metric(pb::Payload& payload, const std::string& name, DataType type, const Value& value) {
  auto* metric = payload.add_metrics();
  metric->set_name(name);
  set_metric_value(*metric, type, value);
  return metric;
}

pb::Payload::DataSet two_by_two() {
  pb::Payload::DataSet set;
  set.set_num_of_columns(2);
  set.add_columns("reason");
  set.add_types(pb::String);
  set.add_columns("seconds");
  set.add_types(pb::UInt32);
  for (auto [reason, seconds] : {std::pair{"jam", 30u}, std::pair{"cleaning", 600u}}) {
    auto* row = set.add_rows();
    set_dataset_value(*row->add_elements(), pb::String, std::string(reason));
    set_dataset_value(*row->add_elements(), pb::UInt32, std::uint64_t{seconds});
  }
  return set;
}

TEST(SparkplugPayloadCodec, KeepsSeqTimestampsAliasesAndHistoricalFlags) {
  pb::Payload payload;
  payload.set_timestamp(1764892800000ULL);
  payload.set_seq(255);
  auto* metric = add_metric(payload, "Counts/Total", pb::UInt64, std::uint64_t{42});
  metric->set_alias(7);
  metric->set_timestamp(1764892799000ULL);
  metric->set_is_historical(true);
  auto decoded = decode_payload(encode_payload(payload));
  ASSERT_TRUE(decoded.payload) << decoded.error;
  EXPECT_EQ(decoded.payload->seq(), 255u);
  EXPECT_EQ(decoded.payload->timestamp(), 1764892800000ULL);
  const auto& m = decoded.payload->metrics(0);
  EXPECT_EQ(m.alias(), 7u);
  EXPECT_EQ(m.timestamp(), 1764892799000ULL);
  EXPECT_TRUE(m.is_historical());
  EXPECT_EQ(metric_value(m), Value(std::uint64_t{42}));
}

TEST(SparkplugPayloadCodec, DataSetTemplateAndPropertySetRoundTrip) {
  pb::Payload payload;
  auto* ds = payload.add_metrics();
  ds->set_name("Downtime");
  ds->set_datatype(pb::DataSet);
  *ds->mutable_dataset_value() = two_by_two();
  auto* tm = payload.add_metrics();
  tm->set_name("Filler");
  tm->set_datatype(pb::Template);
  auto* tmpl = tm->mutable_template_value();
  tmpl->set_template_ref("FillerType");
  set_parameter_value(*tmpl->add_parameters(), pb::Int32, std::int64_t{-3});
  tmpl->mutable_parameters(0)->set_name("offset");
  auto* inner = tmpl->add_metrics();
  inner->set_name("Count");
  set_metric_value(*inner, pb::Int64, std::int64_t{-9});
  auto* props = ds->mutable_properties();
  props->add_keys("engUnit");
  set_property_value(*props->add_values(), pb::String, std::string("s"));
  props->add_keys("nested");
  auto* nested = props->add_values();
  nested->set_type(pb::PropertySetList);
  auto* list_set = nested->mutable_propertysets_value()->add_propertyset();
  list_set->add_keys("q");
  set_property_value(*list_set->add_values(), pb::Boolean, true);

  auto decoded = decode_payload(encode_payload(payload));
  ASSERT_TRUE(decoded.payload) << decoded.error;
  const auto& set = decoded.payload->metrics(0).dataset_value();
  EXPECT_EQ(dataset_value(set.rows(1).elements(0), pb::String), Value(std::string("cleaning")));
  EXPECT_EQ(dataset_value(set.rows(1).elements(1), pb::UInt32), Value(std::uint64_t{600}));
  const auto& t = decoded.payload->metrics(1).template_value();
  EXPECT_EQ(t.template_ref(), "FillerType");
  EXPECT_EQ(parameter_value(t.parameters(0)), Value(std::int64_t{-3}));
  EXPECT_EQ(metric_value(t.metrics(0)), Value(std::int64_t{-9}));
  const auto& p = decoded.payload->metrics(0).properties();
  EXPECT_EQ(property_value(p.values(0)), Value(std::string("s")));
  EXPECT_EQ(property_value(p.values(1).propertysets_value().propertyset(0).values(0)), Value(true));
  auto json = payload_to_json(*decoded.payload);
  EXPECT_NE(json.find(R"(["cleaning",600])"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("template_ref":"FillerType")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("engUnit":{"type":"String","value":"s"})"), std::string::npos) << json;
}

// Each malformed payload is refused with a reason naming what is wrong.
TEST(SparkplugPayloadCodec, RefusesMalformedPayloadsWithTheReason) {
  EXPECT_NE(decode_payload(std::string("\xff\xff\xff", 3)).error.find("protobuf parse failed"), std::string::npos);
  auto refused = [](const pb::Payload& payload) { return decode_payload(encode_payload(payload)).error; };
  pb::Payload wrong_field;
  auto* m = wrong_field.add_metrics();
  m->set_name("State");
  m->set_datatype(pb::Int32);
  m->set_string_value("running");
  EXPECT_NE(refused(wrong_field).find("metric 'State': Int32"), std::string::npos) << refused(wrong_field);
  pb::Payload unknown_type;
  unknown_type.add_metrics()->set_name("x");
  unknown_type.mutable_metrics(0)->set_datatype(99);
  EXPECT_NE(refused(unknown_type).find("unknown datatype 99"), std::string::npos);
  pb::Payload nameless;
  nameless.add_metrics()->set_datatype(pb::Int32);
  EXPECT_NE(refused(nameless).find("neither name nor alias"), std::string::npos);
  pb::Payload ragged;
  auto* ds = ragged.add_metrics();
  ds->set_name("d");
  ds->set_datatype(pb::DataSet);
  *ds->mutable_dataset_value() = two_by_two();
  ds->mutable_dataset_value()->mutable_rows(0)->mutable_elements()->RemoveLast();
  EXPECT_NE(refused(ragged).find("row 0 is not as wide"), std::string::npos);
  pb::Payload short_array;
  auto* a = short_array.add_metrics();
  a->set_name("a");
  a->set_datatype(pb::Int16Array);
  a->set_bytes_value("\x01");
  EXPECT_NE(refused(short_array).find("not whole elements"), std::string::npos);
  pb::Payload unpaired;
  auto* u = unpaired.add_metrics();
  u->set_name("u");
  set_metric_value(*u, pb::Int32, std::int64_t{1});
  u->mutable_properties()->add_keys("lonely");
  EXPECT_NE(refused(unpaired).find("1 keys and 0 values"), std::string::npos);
}

TEST(SparkplugPayloadCodec, AliasOnlyMetricsAreCheckedAgainstTheirBirthType) {
  pb::Payload::Metric data;
  data.set_alias(3);
  data.set_int_value(5);
  EXPECT_EQ(check_metric(data, pb::Int32), "");
  EXPECT_NE(check_metric(data, pb::String), "");
}

}  // namespace
}  // namespace oee::sparkplug

namespace oee::sparkplug {
namespace {

// The fuzz seeds are payloads Eclipse Tahu's JavaScript encoder wrote (sparkplug-payload 1.0.3):
// our decoder reads every one, with the values Tahu was given.
pb::Payload tahu_seed(const std::string& name) {
  std::ifstream in(std::string(SPARKPLUG_SEED_DIR) + "/" + name + ".pb", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto decoded = decode_payload(bytes);
  EXPECT_TRUE(decoded.payload) << name << ": " << decoded.error;
  return decoded.payload.value_or(pb::Payload{});
}

TEST(SparkplugPayloadCodec, ReadsWhatTahusEncoderWrote) {
  auto birth = tahu_seed("dbirth");
  ASSERT_EQ(birth.metrics_size(), 5);
  EXPECT_EQ(birth.seq(), 1u);
  EXPECT_EQ(metric_value(birth.metrics(0)), Value(std::string("running")));
  EXPECT_EQ(birth.metrics(1).alias(), 2u);
  EXPECT_EQ(metric_value(birth.metrics(1)), Value(std::int64_t{1200}));
  EXPECT_EQ(metric_value(birth.metrics(2)), Value(1.5f));
  EXPECT_EQ(metric_value(birth.metrics(3)), Value(std::int64_t{-23}));
  EXPECT_EQ(metric_value(birth.metrics(4)), Value(std::uint64_t{4000000000ULL}));
  auto data = tahu_seed("ddata_alias");
  EXPECT_TRUE(data.metrics(0).is_historical());
  EXPECT_EQ(data.metrics(0).timestamp(), 1764892800900ULL);
  auto set = tahu_seed("dataset").metrics(0).dataset_value();
  EXPECT_EQ(dataset_value(set.rows(1).elements(1), pb::Int32), Value(std::int64_t{-1}));
  auto tmpl = tahu_seed("template").metrics(0).template_value();
  EXPECT_EQ(parameter_value(tmpl.parameters(0)), Value(std::int64_t{-3}));
  EXPECT_EQ(metric_value(tmpl.metrics(0)), Value(std::int64_t{7}));
  auto props = tahu_seed("properties").metrics(0).properties();
  EXPECT_EQ(property_value(props.values(0)), Value(std::string("m/s")));
}

}  // namespace
}  // namespace oee::sparkplug
