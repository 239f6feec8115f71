#pragma once
// The reason-coverage KPI of a set of stops: the share of downtime that has a reason, and the time
// from a stop's start to its reason (median and p90).
#include <optional>
#include <vector>

#include "oee/codec/json_writer.h"
#include "oee/core/machine_history.h"

namespace oee::api::detail {

class ReasonCoverage {
 public:
  // A stop (an unplanned stop, or one its reason made planned) and its part inside planned
  // production time.
  void add(const StateInterval& stop, DurationMs planned_ms);
  // {"downtime_s","with_reason_s","share","stops","stops_with_reason","time_to_reason_s":{"median","p90"}}
  void write(codec::JsonWriter& json) const;

 private:
  std::optional<double> delay_quantile_s(double q) const;

  DurationMs downtime_ms_ = 0;
  DurationMs with_reason_ms_ = 0;
  std::int64_t stops_ = 0;
  std::vector<DurationMs> delays_ms_;  // one per stop with a reason
};

}  // namespace oee::api::detail
