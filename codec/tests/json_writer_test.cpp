// The JSON writer against independent parsers (nlohmann and simdjson) of what it writes: random
// trees of random values come back equal, any bytes give valid JSON, numbers exactly.
#include "oee/codec/json_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <bit>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

namespace oee::codec {
namespace {

std::string written(const auto& write) {
  std::string out;
  JsonWriter json(out);
  write(json);
  return out;
}

std::string string_text(std::string_view s) {
  return written([&](JsonWriter& j) { j.string(s); });
}

// Valid UTF-8 text of random code points from every encoded length, controls and quotes included.
std::string random_utf8(std::mt19937_64& rng) {
  static constexpr std::pair<std::uint32_t, std::uint32_t> kRanges[] = {
      {0x00, 0x7F}, {0x80, 0x7FF}, {0x800, 0xD7FF}, {0xE000, 0xFFFF}, {0x10000, 0x10FFFF}};
  std::string s;
  const int n = static_cast<int>(rng() % 12);
  for (int i = 0; i < n; ++i) {
    const auto [lo, hi] = kRanges[rng() % 5];
    const std::uint32_t c = lo + static_cast<std::uint32_t>(rng() % (hi - lo + 1));
    if (c < 0x80) {
      s += static_cast<char>(c);
    } else if (c < 0x800) {
      s += static_cast<char>(0xC0 | (c >> 6));
      s += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      s += static_cast<char>(0xE0 | (c >> 12));
      s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (c >> 18));
      s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return s;
}

double random_finite_double(std::mt19937_64& rng) {
  for (;;) {
    const double d = std::bit_cast<double>(rng());
    if (std::isfinite(d)) return d;
  }
}

// A random JSON value as nlohmann holds it; `depth` bounds the nesting.
nlohmann::json random_value(std::mt19937_64& rng, int depth) {
  switch (rng() % (depth > 0 ? 7 : 5)) {
    case 0: return random_utf8(rng);
    case 1: return static_cast<std::int64_t>(rng());
    case 2: return random_finite_double(rng);
    case 3: return rng() % 2 == 0;
    case 4: return nullptr;
    case 5: {
      auto a = nlohmann::json::array();
      for (int n = static_cast<int>(rng() % 5); n > 0; --n) a.push_back(random_value(rng, depth - 1));
      return a;
    }
    default: {
      auto o = nlohmann::json::object();
      for (int n = static_cast<int>(rng() % 5); n > 0; --n) o[random_utf8(rng)] = random_value(rng, depth - 1);
      return o;
    }
  }
}

void write_value(JsonWriter& json, const nlohmann::json& v) {
  if (v.is_string()) json.string(v.get_ref<const std::string&>());
  else if (v.is_number_integer()) json.integer(v.get<std::int64_t>());
  else if (v.is_number_float()) json.number(v.get<double>());
  else if (v.is_boolean()) json.boolean(v.get<bool>());
  else if (v.is_null()) json.null();
  else if (v.is_array()) {
    json.begin_array();
    for (const auto& e : v) write_value(json, e);
    json.end_array();
  } else {
    json.begin_object();
    for (const auto& [k, e] : v.items()) write_value(json.key(k), e);
    json.end_object();
  }
}

bool simdjson_accepts(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  return parser.parse(text).get(root) == simdjson::SUCCESS;
}

TEST(JsonWriter, RandomTreesComeBackEqual) {
  std::mt19937_64 rng(20261204);
  for (int i = 0; i < 2000; ++i) {
    const nlohmann::json tree = random_value(rng, 4);
    const std::string text = written([&](JsonWriter& j) { write_value(j, tree); });
    ASSERT_EQ(nlohmann::json::parse(text), tree) << text;
    ASSERT_TRUE(simdjson_accepts(text)) << text;
  }
}

TEST(JsonWriter, CommasOnlyBetweenMembersAndElements) {
  const std::string text = written([](JsonWriter& j) {
    j.begin_object().key("a").begin_array().end_array().key("b").begin_object().end_object();
    j.key("c").begin_array().integer(1).begin_object().bool_field("x", true).end_object().null().end_array();
    j.number_field("d", std::optional<double>()).end_object();
  });
  EXPECT_EQ(text, R"({"a":[],"b":{},"c":[1,{"x":true},null],"d":null})");
}

TEST(JsonWriter, EscapesQuotesBackslashesAndEveryControlCharacter) {
  for (int c = 0; c < 0x20; ++c) {
    const std::string s = "a" + std::string(1, static_cast<char>(c)) + "b";
    const std::string text = string_text(s);
    EXPECT_EQ(nlohmann::json::parse(text).get<std::string>(), s) << c;
    for (char ch : text) EXPECT_GE(static_cast<unsigned char>(ch), 0x20) << c;
  }
  EXPECT_EQ(string_text("\x01"), R"("\u0001")");
  EXPECT_EQ(string_text("\x1f"), R"("\u001f")");
  EXPECT_EQ(string_text("q\"b\\\n\r\t"), R"("q\"b\\\n\r\t")");
  EXPECT_EQ(string_text("\x7f"), "\"\x7f\"");  // DEL needs no escape in JSON
}

TEST(JsonWriter, KeepsWellFormedUtf8AndReplacesEveryOtherByte) {
  EXPECT_EQ(string_text("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"), "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(string_text("\x80"), "\"" + fffd + "\"");                         // lone continuation
  EXPECT_EQ(string_text("\xC0\x80"), "\"" + fffd + fffd + "\"");              // overlong NUL
  EXPECT_EQ(string_text("\xED\xA0\x80"), "\"" + fffd + fffd + fffd + "\"");   // a surrogate
  EXPECT_EQ(string_text("\xF4\x90\x80\x80x"), "\"" + fffd + fffd + fffd + fffd + "x\"");  // above U+10FFFF
  EXPECT_EQ(string_text("a\xE2\x82"), "\"a" + fffd + fffd + "\"");           // cut short
  EXPECT_EQ(string_text("\xFF"), "\"" + fffd + "\"");
}

TEST(JsonWriter, AnyBytesGiveValidJsonAndValidTextSurvives) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 16, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 3 == 0 ? 0x80 | (rng() & 0x7F) : rng());
    const std::string text = string_text(s);
    ASSERT_TRUE(simdjson_accepts(text)) << text;
    const auto back = nlohmann::json::parse(text).get<std::string>();  // throws on invalid UTF-8
    if (simdjson::validate_utf8(s.data(), s.size())) ASSERT_EQ(back, s);
    else ASSERT_NE(back.find("\xEF\xBF\xBD"), std::string::npos);
  }
}

TEST(JsonWriter, IntegersExactOverTheWholeRange) {
  std::mt19937_64 rng(11);
  std::vector<std::int64_t> values = {0, -1, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()};
  for (int i = 0; i < 10000; ++i) values.push_back(static_cast<std::int64_t>(rng()) >> (rng() % 64));
  for (const std::int64_t v : values) {
    const std::string text = written([&](JsonWriter& j) { j.integer(v); });
    ASSERT_EQ(text, std::to_string(v));
    ASSERT_EQ(nlohmann::json::parse(text).get<std::int64_t>(), v);
  }
}

TEST(JsonWriter, DoublesShortestAndExactNonFiniteNull) {
  std::mt19937_64 rng(13);
  for (int i = 0; i < 20000; ++i) {
    const double d = random_finite_double(rng);
    const std::string text = written([&](JsonWriter& j) { j.number(d); });
    ASSERT_EQ(nlohmann::json::parse(text).get<double>(), d) << text;
    double back = 0;
    simdjson::dom::parser parser;
    ASSERT_EQ(parser.parse(text).get(back), simdjson::SUCCESS) << text;
    ASSERT_EQ(back, d) << text;
  }
  const auto number = [](double d) { return written([&](JsonWriter& j) { j.number(d); }); };
  EXPECT_EQ(number(0.1), "0.1");
  EXPECT_EQ(number(3.0), "3");
  EXPECT_EQ(number(-2.5e-300), "-2.5e-300");
  EXPECT_EQ(number(999999999999999.0), "999999999999999");
  EXPECT_EQ(number(1e15), "1e+15");  // integers from 1e15 on are written with an exponent
  EXPECT_EQ(number(-3.5984566985955226e19), "-3.5984566985955226e+19");
  EXPECT_EQ(number(std::nan("")), "null");
  EXPECT_EQ(number(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(number(-std::numeric_limits<double>::infinity()), "null");
}

}  // namespace
}  // namespace oee::codec
