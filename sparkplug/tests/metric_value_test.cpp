#include "oee/sparkplug/metric_value.h"

#include <gtest/gtest.h>

#include <limits>

#include "oee/sparkplug/payload_codec.h"

namespace oee::sparkplug {
namespace {

// Encodes one metric of `type` with `value` into payload bytes, decodes them, and reads the value.
Value round_trip(DataType type, const Value& value) {
  pb::Payload payload;
  auto* metric = payload.add_metrics();
  metric->set_name("m");
  set_metric_value(*metric, type, value);
  auto decoded = decode_payload(encode_payload(payload));
  EXPECT_TRUE(decoded.payload) << decoded.error;
  if (!decoded.payload) return std::monostate{};
  EXPECT_EQ(decoded.payload->metrics(0).datatype(), static_cast<std::uint32_t>(type));
  return metric_value(decoded.payload->metrics(0));
}

TEST(SparkplugMetricValue, ScalarsRoundTripAtTheirLimits) {
  const std::int64_t i64min = std::numeric_limits<std::int64_t>::min();
  const std::uint64_t u64max = std::numeric_limits<std::uint64_t>::max();
  std::vector<std::pair<DataType, Value>> cases = {
      {pb::Int8, std::int64_t{-128}},        {pb::Int8, std::int64_t{127}},
      {pb::Int16, std::int64_t{-32768}},     {pb::Int32, std::int64_t{-2147483648LL}},
      {pb::Int64, i64min},                   {pb::UInt8, std::uint64_t{255}},
      {pb::UInt16, std::uint64_t{65535}},    {pb::UInt32, std::uint64_t{4294967295ULL}},
      {pb::UInt64, u64max},                  {pb::DateTime, std::uint64_t{1764892800123ULL}},
      {pb::Float, 1.5f},                     {pb::Double, -2.25},
      {pb::Boolean, true},                   {pb::String, std::string("Running")},
      {pb::Text, std::string("long text")},  {pb::UUID, std::string("0f8fad5b-d9cb-469f-a165-70867728950e")},
      {pb::Bytes, Bytes{0, 1, 255}},         {pb::File, Bytes{'%', 'P', 'D', 'F'}},
      {pb::Int32, std::monostate{}},
  };
  for (const auto& [type, value] : cases) {
    EXPECT_EQ(round_trip(type, value), value) << datatype_name(type);
  }
}

TEST(SparkplugMetricValue, ArraysRoundTrip) {
  std::vector<std::pair<DataType, Value>> cases = {
      {pb::Int8Array, std::vector<std::int64_t>{-128, 0, 127}},
      {pb::Int16Array, std::vector<std::int64_t>{-32768, 32767}},
      {pb::Int32Array, std::vector<std::int64_t>{-2147483648LL, 7}},
      {pb::Int64Array, std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(), 1}},
      {pb::UInt8Array, std::vector<std::uint64_t>{0, 255}},
      {pb::UInt16Array, std::vector<std::uint64_t>{65535}},
      {pb::UInt32Array, std::vector<std::uint64_t>{4294967295ULL, 3}},
      {pb::UInt64Array, std::vector<std::uint64_t>{std::numeric_limits<std::uint64_t>::max()}},
      {pb::DateTimeArray, std::vector<std::uint64_t>{1764892800000ULL, 1764892801000ULL}},
      {pb::FloatArray, std::vector<float>{1.5f, -0.25f}},
      {pb::DoubleArray, std::vector<double>{3.125, -1e300}},
      {pb::BooleanArray, std::vector<bool>{true, false, true, true, false, false, false, false, true}},
      {pb::StringArray, std::vector<std::string>{"a", "", "ABC"}},
      {pb::Int32Array, std::vector<std::int64_t>{}},
  };
  for (const auto& [type, value] : cases) {
    EXPECT_EQ(round_trip(type, value), value) << datatype_name(type);
  }
}

// The specification's worked examples of the packed array encodings.
TEST(SparkplugMetricValue, ArrayBytesAreTheSpecificationsExamples) {
  EXPECT_EQ(pack_array(pb::Int8Array, std::vector<std::int64_t>{-23, 123}), std::string("\xE9\x7B"));
  EXPECT_EQ(pack_array(pb::UInt16Array, std::vector<std::uint64_t>{30, 52360}), std::string("\x1E\x00\x88\xCC", 4));
  auto bits = pack_array(pb::BooleanArray, std::vector<bool>{false, false, true, true, false, true, false, false, true, true,
                                                             false, true});
  EXPECT_EQ(bits, std::string("\x0C\x00\x00\x00\x34\xD0", 6));
  EXPECT_EQ(pack_array(pb::StringArray, std::vector<std::string>{"ABC", "hello"}), std::string("ABC\0hello\0", 10));
}

TEST(SparkplugMetricValue, NarrowSignedIntegersReadFromEitherExtension) {
  pb::Payload::Metric metric;
  metric.set_datatype(pb::Int8);
  metric.set_int_value(233);  // -23 zero-extended, as the 3.0 specification shows it
  EXPECT_EQ(metric_value(metric), Value(std::int64_t{-23}));
  metric.set_int_value(4294967273U);  // -23 sign-extended to 32 bits, as Tahu writes it
  EXPECT_EQ(metric_value(metric), Value(std::int64_t{-23}));
  metric.set_datatype(pb::UInt32);
  metric.set_long_value(4000000000ULL);  // Tahu's JavaScript puts UInt32 in long_value
  EXPECT_EQ(metric_value(metric), Value(std::uint64_t{4000000000ULL}));
}

TEST(SparkplugMetricValue, ValuesThatDoNotFitTheirTypeAreRefused) {
  pb::Payload::Metric metric;
  EXPECT_THROW(set_metric_value(metric, pb::Int8, std::int64_t{128}), ValueError);
  EXPECT_THROW(set_metric_value(metric, pb::UInt16, std::uint64_t{65536}), ValueError);
  EXPECT_THROW(set_metric_value(metric, pb::Int32, std::string("7")), ValueError);
  EXPECT_THROW(set_metric_value(metric, pb::StringArray, std::vector<std::string>{std::string("a\0b", 3)}), ValueError);
  EXPECT_THROW(unpack_array(pb::Int32Array, std::string("\x01\x02\x03", 3)), ValueError);
  EXPECT_THROW(unpack_array(pb::BooleanArray, std::string("\x09\x00\x00\x00\xFF", 5)), ValueError);
  EXPECT_THROW(unpack_array(pb::StringArray, std::string("abc")), ValueError);
}

TEST(SparkplugMetricValue, PropertyDataSetAndParameterCellsRoundTrip) {
  pb::Payload::PropertyValue property;
  set_property_value(property, pb::Int16, std::int64_t{-5});
  EXPECT_EQ(property_value(property), Value(std::int64_t{-5}));
  set_property_value(property, pb::String, std::monostate{});
  EXPECT_TRUE(property.is_null());
  pb::Payload::DataSet::DataSetValue cell;
  set_dataset_value(cell, pb::UInt64, std::uint64_t{9});
  EXPECT_EQ(dataset_value(cell, pb::UInt64), Value(std::uint64_t{9}));
  pb::Payload::Template::Parameter parameter;
  set_parameter_value(parameter, pb::Double, 0.5);
  EXPECT_EQ(parameter_value(parameter), Value(0.5));
}

}  // namespace
}  // namespace oee::sparkplug
