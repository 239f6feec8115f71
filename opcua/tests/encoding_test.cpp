// OPC UA Binary encoding and NodeId syntax: round trips, known byte patterns, hostile input.
#include <gtest/gtest.h>

#include "oee/opcua/binary_encoding.h"

namespace oee::opcua {
namespace {

std::vector<uint8_t> encode_variant(const Variant& v) {
  std::vector<uint8_t> out;
  BinaryWriter(out).variant(v);
  return out;
}

Variant decode_variant(const std::vector<uint8_t>& bytes) {
  BinaryReader r(bytes);
  Variant v = r.variant();
  EXPECT_EQ(r.remaining(), 0u);
  return v;
}

TEST(NodeIdSyntax, ParsesAndFormatsEveryIdentifierType) {
  for (const char* text : {"i=2258", "ns=2;s=Line1.State", "ns=3;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63",
                           "ns=1;b=AQID", "ns=65535;i=4294967295", "s=with;semicolon"}) {
    auto id = NodeId::parse(text);
    ASSERT_TRUE(id) << text;
    EXPECT_EQ(id->to_string(), text);
  }
  EXPECT_EQ(NodeId::parse("ns=1;b=AQID")->text, std::string("\x01\x02\x03"));
  EXPECT_EQ(NodeId::parse("ns=2;s=Line1.State")->kind, NodeId::Kind::string);
  for (const char* bad : {"", "x=1", "i=", "i=abc", "ns=70000;i=1", "ns=1", "ns=1;g=123", "ns=1;b=!!", "i=99999999999"}) {
    EXPECT_FALSE(NodeId::parse(bad)) << bad;
  }
}

TEST(BinaryEncoding, NodeIdUsesTheCompactForms) {
  auto encode = [](const NodeId& id) {
    std::vector<uint8_t> out;
    BinaryWriter(out).node_id(id);
    return out;
  };
  EXPECT_EQ(encode(NodeId(0, 85)), (std::vector<uint8_t>{0x00, 85}));
  EXPECT_EQ(encode(NodeId(2, 1000)), (std::vector<uint8_t>{0x01, 2, 0xE8, 0x03}));
  EXPECT_EQ(encode(NodeId(300, 5)), (std::vector<uint8_t>{0x02, 0x2C, 0x01, 5, 0, 0, 0}));
  EXPECT_EQ(encode(NodeId(1, "ab")), (std::vector<uint8_t>{0x03, 1, 0, 2, 0, 0, 0, 'a', 'b'}));
  for (const char* text : {"i=1", "ns=2;i=70000", "ns=3;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63", "ns=1;b=AQID",
                           "ns=4;s=x"}) {
    const auto bytes = encode(*NodeId::parse(text));
    BinaryReader r(bytes);
    EXPECT_EQ(r.node_id().to_string(), text);
  }
}

TEST(BinaryEncoding, ExpandedNodeIdCarriesNamespaceUriAndServerIndex) {
  ExpandedNodeId id{NodeId(0, "x"), "http://oee/ns", 3};
  std::vector<uint8_t> out;
  BinaryWriter(out).expanded_node_id(id);
  EXPECT_EQ(out[0], 0x03 | 0x80 | 0x40);
  BinaryReader r(out);
  EXPECT_EQ(r.expanded_node_id(), id);
  EXPECT_EQ(id.to_string(), "svr=3;nsu=http://oee/ns;s=x");
}

TEST(BinaryEncoding, VariantRoundTripsEveryBuiltinType) {
  auto dv = std::make_shared<DataValue>();
  dv->has_value = true;
  dv->value = Variant::scalar(BuiltinType::int32, int32_t{7});
  dv->status = StatusCode{0x80340000u};
  dv->source_timestamp = DateTime{1234};
  auto inner = std::make_shared<Variant>(Variant::scalar(BuiltinType::string, std::string("nested")));
  auto diag = std::make_shared<DiagnosticInfo>();
  diag->symbolic_id = 3;
  diag->additional_info = "why";
  diag->inner = std::make_shared<DiagnosticInfo>();
  const std::vector<Variant> samples = {
      Variant::scalar(BuiltinType::boolean, true),
      Variant::scalar(BuiltinType::sbyte, int8_t{-5}),
      Variant::scalar(BuiltinType::byte, uint8_t{250}),
      Variant::scalar(BuiltinType::int16, int16_t{-300}),
      Variant::scalar(BuiltinType::uint16, uint16_t{60000}),
      Variant::scalar(BuiltinType::int32, int32_t{-70000}),
      Variant::scalar(BuiltinType::uint32, uint32_t{4000000000u}),
      Variant::scalar(BuiltinType::int64, int64_t{-1} << 40),
      Variant::scalar(BuiltinType::uint64, uint64_t{1} << 63),
      Variant::scalar(BuiltinType::float_, 1.25f),
      Variant::scalar(BuiltinType::double_, -0.5),
      Variant::scalar(BuiltinType::string, std::string("ü")),
      Variant::scalar(BuiltinType::date_time, DateTime::from_unix_ms(1700000000000)),
      Variant::scalar(BuiltinType::guid, *Guid::parse("72962B91-FA75-4AE6-8D28-B404DC7DAF63")),
      Variant::scalar(BuiltinType::byte_string, std::string("\x00\xff", 2)),
      Variant::scalar(BuiltinType::xml_element, std::string("<x/>")),
      Variant::scalar(BuiltinType::node_id, *NodeId::parse("ns=2;s=a")),
      Variant::scalar(BuiltinType::expanded_node_id, ExpandedNodeId{NodeId(0, 5), "u", 0}),
      Variant::scalar(BuiltinType::status_code, StatusCode{0x80AB0000u}),
      Variant::scalar(BuiltinType::qualified_name, QualifiedName{2, "n"}),
      Variant::scalar(BuiltinType::localized_text, LocalizedText{"en", "t"}),
      Variant::scalar(BuiltinType::extension_object,
                      ExtensionObject{NodeId(0, 999), ExtensionObject::Encoding::binary, "abc"}),
      Variant::scalar(BuiltinType::data_value, dv),
      Variant::scalar(BuiltinType::variant, inner),
      Variant::scalar(BuiltinType::diagnostic_info, diag),
  };
  for (const auto& v : samples) {
    const auto bytes = encode_variant(v);
    const Variant back = decode_variant(bytes);
    EXPECT_EQ(back.type, v.type) << builtin_type_name(v.type);
    EXPECT_EQ(encode_variant(back), bytes) << builtin_type_name(v.type);  // byte-identical re-encoding
  }
}

TEST(BinaryEncoding, MultiDimensionalArraysKeepTheirDimensions) {
  Variant m = Variant::array(BuiltinType::int32, {1, 2, 3, 4, 5, 6});
  m.dimensions = {2, 3};
  const auto bytes = encode_variant(m);
  EXPECT_EQ(bytes[0], 6 | 0x80 | 0x40);
  const Variant back = decode_variant(bytes);
  EXPECT_EQ(back.dimensions, (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(back.values.size(), 6u);
}

TEST(BinaryEncoding, RejectsHostileLengthsBeforeAllocating) {
  // A String claiming 2 GB in a 9-byte message.
  std::vector<uint8_t> s = {0x0C, 0xFF, 0xFF, 0xFF, 0x7F, 'a', 'b', 'c', 'd'};
  EXPECT_THROW(decode_variant(s), DecodeError);
  // An Int32 array claiming 1e9 elements.
  std::vector<uint8_t> a = {0x86, 0x00, 0xCA, 0x9A, 0x3B, 1, 0, 0, 0};
  EXPECT_THROW(decode_variant(a), DecodeError);
  // Dimensions that do not multiply to the length.
  Variant m = Variant::array(BuiltinType::byte, {uint8_t{1}, uint8_t{2}});
  m.dimensions = {3, 1};
  EXPECT_THROW(decode_variant(encode_variant(m)), DecodeError);
  // Variants nested deeper than the limit.
  std::vector<uint8_t> deep(100, 24);  // Variant in Variant in ...
  EXPECT_THROW(decode_variant(deep), DecodeError);
  // Unknown type id and NodeId encoding.
  EXPECT_THROW(decode_variant({0x3F}), DecodeError);
  EXPECT_THROW(decode_variant({0x11, 0x07}), DecodeError);
  // Truncated.
  EXPECT_THROW(decode_variant({0x0B, 0, 0}), DecodeError);
}

TEST(StatusCodes, NamesComeFromTheStandardTable) {
  EXPECT_EQ(status_name(StatusCode{0}), "Good");
  EXPECT_EQ(status_name(StatusCode{0x80340000u}), "BadNodeIdUnknown");
  EXPECT_EQ(status_name(StatusCode{0x801F0000u}), "BadUserAccessDenied");
  EXPECT_EQ(status_name(StatusCode{0x80340400u}), "BadNodeIdUnknown");  // info bits ignored
  EXPECT_EQ(status_name(StatusCode{0x40920000u}), "UncertainInitialValue");
  EXPECT_EQ(status_name(StatusCode{0x8FFF0000u}), "0x8FFF0000");
  EXPECT_EQ(status_code_from_name("BadTimeout"), 0x800A0000u);
  EXPECT_EQ(status_name(status::bad_connection_closed), "BadConnectionClosed");
  EXPECT_EQ(status_name(status::bad_tcp_message_too_large), "BadTcpMessageTooLarge");
  EXPECT_EQ(status_name(status::bad_secure_channel_closed), "BadSecureChannelClosed");
}

TEST(DateTimes, ConvertToIso8601) {
  EXPECT_EQ(DateTime::from_unix_ms(0).to_iso8601(), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(DateTime::from_unix_ms(1711848600123).to_iso8601(), "2024-03-31T01:30:00.123Z");
  EXPECT_EQ(DateTime{}.to_iso8601(), "");
}

}  // namespace
}  // namespace oee::opcua
