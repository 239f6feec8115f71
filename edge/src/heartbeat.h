#pragma once
// The heartbeats of the machines one source reads: a sign of life per machine every interval
// while the source's reads succeed (the plant's no_data_after_s tells silence from a quiet machine).
// A source calls it only after a successful read, so a failing source sends none. (The simulator
// source's heartbeats come from the simulator itself, in simulated time.)
#include <algorithm>
#include <string>
#include <vector>

#include "oee/core/event.h"
#include "oee/edge/edge_config.h"

namespace oee::edge {

class Heartbeats {
 public:
  Heartbeats(DurationMs interval_ms, std::vector<std::string> machines)
      : interval_ms_(interval_ms), machines_(std::move(machines)) {}

  // After a successful read at `now`: one heartbeat per machine when the last is an interval old.
  void after_read(TimeMs now, std::vector<Event>& out) {
    if (interval_ms_ <= 0 || (last_ != kTimeMin && now - last_ < interval_ms_)) return;
    last_ = now;
    append(now, out);
  }

 private:
  void append(TimeMs ts, std::vector<Event>& out) const {
    for (const std::string& machine : machines_) {
      Event& e = out.emplace_back();
      e.ts = ts;
      e.machine = machine;
      e.type = EventType::heartbeat;
    }
  }

  DurationMs interval_ms_;
  std::vector<std::string> machines_;
  TimeMs last_ = kTimeMin;
};

// The machines a source's tags read, each once.
inline std::vector<std::string> tag_machines(const SourceConfig& config) {
  std::vector<std::string> out;
  for (const TagConfig& t : config.tags) out.push_back(t.machine);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace oee::edge
