#include "reason_coverage.h"

#include <algorithm>
#include <cmath>

namespace oee::api::detail {

void ReasonCoverage::add(const StateInterval& stop, DurationMs planned_ms) {
  if (planned_ms <= 0) return;
  downtime_ms_ += planned_ms;
  ++stops_;
  if (stop.reason.empty()) return;
  with_reason_ms_ += planned_ms;
  // A reason sent with the state comes with the stop; a reason given later took that long.
  delays_ms_.push_back(stop.reason_ts == kTimeMin ? 0 : std::max<DurationMs>(0, stop.reason_ts - stop.start));
}

// Nearest rank, so the figure is one of the stops' own delays.
std::optional<double> ReasonCoverage::delay_quantile_s(double q) const {
  if (delays_ms_.empty()) return std::nullopt;
  std::vector<DurationMs> sorted = delays_ms_;
  std::sort(sorted.begin(), sorted.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[std::max<std::size_t>(rank, 1) - 1]) / 1000.0;
}

void ReasonCoverage::write(codec::JsonWriter& json) const {
  json.begin_object().number_field("downtime_s", static_cast<double>(downtime_ms_) / 1000.0);
  json.number_field("with_reason_s", static_cast<double>(with_reason_ms_) / 1000.0);
  json.number_field("share", downtime_ms_ > 0 ? std::optional<double>(static_cast<double>(with_reason_ms_) / static_cast<double>(downtime_ms_))
                                              : std::nullopt);
  json.int_field("stops", stops_).int_field("stops_with_reason", static_cast<std::int64_t>(delays_ms_.size()));
  json.key("time_to_reason_s").begin_object().number_field("median", delay_quantile_s(0.5));
  json.number_field("p90", delay_quantile_s(0.9)).end_object().end_object();
}

}  // namespace oee::api::detail
