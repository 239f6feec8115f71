#include "oee/server/alert_monitor.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace oee::server {

namespace {

// The longest window an edge rule looks back over: older reports are dropped.
DurationMs longest_edge_window(const PlantModel& plant) {
  DurationMs longest = 0;
  for (const AlertRule& r : plant.alert_rules)
    if (r.kind == AlertKind::edge_queue_growing) longest = std::max(longest, r.for_ms);
  return longest;
}

StateInterval current_interval(const MachineSpec& m, const MachineLiveState& live) {
  StateInterval iv;
  iv.start = live.since;
  iv.state = live.state;
  iv.reason = live.reason;
  if (m.reasons && !live.reason.empty())
    if (const ReasonNode* node = m.reasons->find(live.reason)) iv.loss = node->loss;
  return iv;
}

}  // namespace

AlertMonitor::AlertMonitor(PlantService& service, EdgeStatuses edge_statuses)
    : service_(service), edge_statuses_(std::move(edge_statuses)) {}

std::vector<AlertChange> AlertMonitor::evaluate() {
  std::vector<AlertChange> changes;
  {
    std::lock_guard lock(mutex_);
    const TimeMs now = service_.now();
    record_edge_reports();
    for (const AlertRule& rule : service_.plant().alert_rules) {
      switch (rule.kind) {
        case AlertKind::machine_down:
        case AlertKind::no_data: evaluate_machines(rule, now, changes); break;
        case AlertKind::oee_below_target: evaluate_shift_oee(rule, now, changes); break;
        case AlertKind::edge_queue_growing: evaluate_edges(rule, now, changes); break;
      }
    }
  }
  for (const AlertChange& c : changes)
    for (const Listener& l : listeners_) l(c);
  return changes;
}

void AlertMonitor::observe(const AlertRule& rule, const std::string& subject, bool holds, TimeMs now,
                           std::vector<AlertChange>& out) {
  if (auto change = book_.observe(rule, subject, holds, now)) out.push_back(std::move(*change));
}

void AlertMonitor::evaluate_machines(const AlertRule& rule, TimeMs now, std::vector<AlertChange>& out) {
  for (const MachineSpec* m : service_.plant().machines_under(rule.node)) {
    const MachineLiveState live = service_.live_state(m->path);
    const bool heard = live.last_event != 0;
    const bool holds = rule.kind == AlertKind::no_data
                           ? no_data_at(heard ? live.last_event : kTimeMin, now, rule.for_ms)
                           : heard && machine_down_at(current_interval(*m, live), now, rule.for_ms);
    observe(rule, m->path, holds, now, out);
  }
}

void AlertMonitor::evaluate_shift_oee(const AlertRule& rule, TimeMs now, std::vector<AlertChange>& out) {
  ShiftOccurrence shift;
  if (!service_.current_shift(shift)) {
    observe(rule, rule.node, false, now, out);  // between shifts the last shift's alert resolves
    return;
  }
  const auto rows = service_.node_kpis(rule.node, Grouping::none, shift.start, now);
  const std::optional<double> oee = rows.empty() ? std::nullopt : derive_figures(rows.front().totals).oee;
  observe(rule, rule.node, oee_below_target_at(oee, shift.start, now, rule.at_minute, rule.target), now, out);
}

void AlertMonitor::evaluate_edges(const AlertRule& rule, TimeMs now, std::vector<AlertChange>& out) {
  for (const auto& [edge, reports] : queue_reports_)
    if (rule.node.empty() || rule.node == edge) observe(rule, edge, edge_queue_growing_at(reports, now, rule.for_ms), now, out);
}

// Each new status report (a new `ts`) adds a point to its edge's queue depth series.
void AlertMonitor::record_edge_reports() {
  if (!edge_statuses_) return;
  const DurationMs keep_ms = longest_edge_window(service_.plant());
  if (keep_ms == 0) return;
  for (const auto& [edge, payload] : edge_statuses_()) {
    const auto j = nlohmann::json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("queue_depth") || !j["queue_depth"].is_number_integer() ||
        !j.contains("ts") || !j["ts"].is_string())
      continue;  // the ingest dead-letters malformed statuses; an old edge may not report its depth
    const auto ts = parse_timestamp(j["ts"].get<std::string>());
    if (!ts) continue;
    auto& series = queue_reports_[edge];
    if (!series.empty() && series.back().ts >= *ts) continue;
    series.push_back({*ts, j["queue_depth"].get<std::int64_t>()});
    // Keep one report older than the window: the growth is measured from it.
    auto first_inside = std::upper_bound(series.begin(), series.end(), *ts - keep_ms,
                                         [](TimeMs t, const QueueDepthReport& r) { return t < r.ts; });
    if (first_inside - series.begin() > 1) series.erase(series.begin(), first_inside - 1);
  }
}

const std::vector<AlertRule>& AlertMonitor::rules() const { return service_.plant().alert_rules; }

std::optional<AlertChange> AlertMonitor::acknowledge(const std::string& id, const std::string& user) {
  std::optional<AlertChange> change;
  {
    std::lock_guard lock(mutex_);
    change = book_.acknowledge(id, user, service_.now());
  }
  if (change)
    for (const Listener& l : listeners_) l(*change);
  return change;
}

std::vector<Alert> AlertMonitor::alerts() const {
  std::lock_guard lock(mutex_);
  return book_.list();
}

}  // namespace oee::server
