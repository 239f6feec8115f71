#pragma once
// The few Sparkplug B payload messages the edge node writes (births, data, death) and the one it
// reads (a node command), in protobuf's wire format (Sparkplug B 3.0, sparkplug_b.proto: Payload,
// Metric). Only what the edge uses: metric name, timestamp, datatype, is_historical, is_null and a
// long, double, boolean or string value, and a counter's rollover as a property. A stopgap until the edge uses the sparkplug/ codec.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oee::edge::sparkplug {

// Sparkplug B DataType numbers.
enum class DataType : std::uint32_t { int64 = 4, uint64 = 8, dbl = 10, boolean = 11, string = 12 };

struct Metric {
  std::string name;
  DataType type = DataType::string;
  std::uint64_t timestamp_ms = 0;
  bool is_historical = false;
  bool is_null = false;
  std::uint64_t long_value = 0;  // int64 (two's complement) and uint64
  double double_value = 0;
  bool boolean_value = false;
  std::string string_value;
  std::uint64_t rollover = 0;  // a counter's rollover, as the metric's property "rollover" (0: none)
};

struct Payload {
  std::uint64_t timestamp_ms = 0;
  bool has_seq = true;  // NDEATH carries none
  std::uint64_t seq = 0;
  std::vector<Metric> metrics;
};

std::string encode(const Payload& p);

// The boolean metrics of a payload (name, value): what a node command (NCMD) says. False when the
// bytes are not a readable payload.
bool decode_boolean_metrics(std::string_view bytes, std::vector<std::pair<std::string, bool>>& out);

}  // namespace oee::edge::sparkplug
