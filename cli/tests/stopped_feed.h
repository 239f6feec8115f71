#pragma once
// A feed stopped for a while, made from an `oee simulate` file (cli/tests): the events without
// those of the stop, and the silence that leaves, which the engine must count as no data.
#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include "oee/core/time.h"

namespace oee::testing {

// The value of "field":"..." in a JSON line of `oee simulate`.
inline std::string text_field(const std::string& line, const std::string& field) {
  const std::string key = "\"" + field + "\":\"";
  const auto at = line.find(key);
  if (at == std::string::npos) throw std::runtime_error("no " + field + " in " + line);
  return line.substr(at + key.size(), line.find('"', at + key.size()) - at - key.size());
}

// Copies the events of `in` but those in [from, to) (the feed stopped) to `out`; returns the
// silence that leaves, summed over the machines: from each one's last event before the stop to its
// first after it, which the engine must count as no data when longer than the plant's threshold.
inline DurationMs stop_feed(const std::string& in, const std::string& out, TimeMs from, TimeMs to) {
  std::ifstream events(in);
  std::ofstream kept(out);
  std::map<std::string, std::pair<TimeMs, TimeMs>> around;  // machine: last before, first after
  for (std::string line; std::getline(events, line);) {
    const TimeMs ts = parse_timestamp(text_field(line, "ts")).value();
    auto& [before, after] = around.try_emplace(text_field(line, "machine"), kTimeMin, kTimeMax).first->second;
    if (ts < from) before = std::max(before, ts);
    if (ts >= to) after = std::min(after, ts);
    if (ts < from || ts >= to) kept << line << '\n';
  }
  DurationMs silence = 0;
  for (const auto& [machine, span] : around) silence += span.second - span.first;
  return silence;
}

}  // namespace oee::testing
