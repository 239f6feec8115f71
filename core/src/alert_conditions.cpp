#include "oee/core/alert_conditions.h"

#include <algorithm>

#include "oee/core/reason_losses.h"

namespace oee {

std::string_view alert_kind_name(AlertKind k) {
  switch (k) {
    case AlertKind::machine_down: return "machine_down";
    case AlertKind::oee_below_target: return "oee_below_target";
    case AlertKind::no_data: return "no_data";
    case AlertKind::edge_queue_growing: return "edge_queue_growing";
  }
  return "machine_down";
}

std::optional<AlertKind> parse_alert_kind(std::string_view name) {
  for (AlertKind k : {AlertKind::machine_down, AlertKind::oee_below_target, AlertKind::no_data,
                      AlertKind::edge_queue_growing})
    if (alert_kind_name(k) == name) return k;
  return std::nullopt;
}

bool machine_down_at(const MachineHistory& history, TimeMs now, DurationMs down_for_ms) {
  const std::ptrdiff_t i = history.interval_at(now);
  if (i < 0) return false;
  return machine_down_at(history.intervals()[static_cast<std::size_t>(i)], now, down_for_ms);
}

bool machine_down_at(const StateInterval& current, TimeMs now, DurationMs down_for_ms) {
  return is_unplanned_stop(loss_state(current)) && now - current.start >= down_for_ms;
}

bool no_data_at(TimeMs last_sign_ts, TimeMs now, DurationMs silent_for_ms) {
  if (last_sign_ts == kTimeMin) return false;
  return now - last_sign_ts > silent_for_ms;
}

bool oee_below_target_at(std::optional<double> shift_oee, TimeMs shift_start, TimeMs now, int at_minute,
                         double target) {
  if (!shift_oee || target <= 0) return false;
  if (now - shift_start < static_cast<DurationMs>(at_minute) * kMsPerMinute) return false;
  return *shift_oee < target;
}

bool edge_queue_growing_at(std::span<const QueueDepthReport> reports, TimeMs now, DurationMs growing_for_ms) {
  const TimeMs since = now - growing_for_ms;
  // The last report at or before `since` is where the window's growth is measured from.
  auto first = std::upper_bound(reports.begin(), reports.end(), since,
                                [](TimeMs t, const QueueDepthReport& r) { return t < r.ts; });
  if (first == reports.begin()) return false;  // not watched long enough
  --first;
  auto end = std::upper_bound(first, reports.end(), now,
                              [](TimeMs t, const QueueDepthReport& r) { return t < r.ts; });
  for (auto it = first + 1; it < end; ++it)
    if (it->depth < (it - 1)->depth) return false;
  return (end - 1)->depth > first->depth;
}

}  // namespace oee
