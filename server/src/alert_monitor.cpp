#include "oee/server/alert_monitor.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "oee/core/unwatched_alerts.h"

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
  if (!unwatched_resolved_.load()) changes = resolve_unwatched();  // throws when the store fails: tried again next time
  const TimeMs now = service_.now();
  Observations observations;
  for (const AlertRule& rule : service_.plant().alert_rules) {
    switch (rule.kind) {
      case AlertKind::machine_down:
      case AlertKind::no_data: evaluate_machines(rule, now, observations); break;
      case AlertKind::oee_below_target: evaluate_shift_oee(rule, now, observations); break;
      case AlertKind::edge_queue_growing: evaluate_edges(rule, now, observations); break;
    }
  }
  std::vector<AlertChange> evaluated = apply(observations, now);
  for (const AlertChange& c : evaluated) tell(c);
  changes.insert(changes.end(), std::make_move_iterator(evaluated.begin()), std::make_move_iterator(evaluated.end()));
  return changes;
}

// Fires what holds and is not firing, resolves what fires and no longer holds. The store takes
// each change once: a change another server made first is neither returned nor told. A condition
// that began no later than the episode of the newest alert of its id is that episode (or an older
// one): another server, which saw it end, resolved it, and this one has not yet seen the end (its
// live state is a moment older). It is not fired again. Both starts are in the condition's own
// clock (Alert::since: the machine's for a stop or a silence), never the machine's against the
// server's: with a machine clock D behind the server's, a new episode starting within D of the
// last firing would look older than that firing and never fire.
std::vector<AlertChange> AlertMonitor::apply(const Observations& observations, TimeMs now) {
  std::set<std::string> firing;
  std::map<std::string, TimeMs> last_episode;
  for (const Alert& a : alerts()) {
    if (a.active()) firing.insert(a.id);
    last_episode.emplace(a.id, a.since);  // the newest first: emplace keeps it
  }
  std::vector<AlertChange> changes;
  for (const Observation& o : observations) {
    const std::string id = o.rule->name + "/" + o.subject;
    if (o.holds == firing.contains(id)) continue;
    if (o.holds && last_episode.contains(id) && o.since <= last_episode[id]) continue;
    if (o.holds) {
      Alert a;
      a.id = id;
      a.rule = o.rule->name;
      a.kind = o.rule->kind;
      a.subject = o.subject;
      a.fired_ts = now;
      a.since = o.since;
      if (service_.with_store([&](storage::EventStore& s) { return s.fire_alert(a); }))
        changes.push_back({AlertTransition::fired, std::move(a)});
    } else if (auto a = resolve(id, now, AlertResolution::cleared)) {
      changes.push_back(std::move(*a));
    }
  }
  return changes;
}

std::optional<AlertChange> AlertMonitor::resolve(const std::string& id, TimeMs now, AlertResolution why) {
  auto a = service_.with_store([&](storage::EventStore& s) { return s.resolve_alert(id, now, why); });
  if (!a) return std::nullopt;
  return AlertChange{AlertTransition::resolved, std::move(*a)};
}

std::vector<AlertChange> AlertMonitor::resolve_unwatched() {
  const TimeMs now = service_.now();
  std::vector<AlertChange> changes;
  for (const Alert& a : alerts()) {
    if (!a.active()) continue;
    const auto why = unwatched_reason(service_.plant(), a);
    if (!why) continue;
    if (auto change = resolve(a.id, now, *why)) {
      tell(*change);  // at once: a store failing at the next one must not leave this one untold
      changes.push_back(std::move(*change));
    }
  }
  unwatched_resolved_ = true;
  return changes;
}

void AlertMonitor::tell(const AlertChange& change) const {
  for (const Listener& l : listeners_) l(change);
}

void AlertMonitor::evaluate_machines(const AlertRule& rule, TimeMs now, Observations& out) const {
  for (const MachineSpec* m : service_.plant().machines_under(rule.node)) {
    const MachineLiveState live = service_.live_state(m->path);
    const bool heard = live.last_event != 0;
    const bool no_data = rule.kind == AlertKind::no_data;
    const bool holds = no_data ? no_data_at(heard ? live.last_event : kTimeMin, now, rule.for_ms)
                               : heard && machine_down_at(current_interval(*m, live), now, rule.for_ms);
    out.push_back({&rule, m->path, holds, no_data ? live.last_event : live.since});
  }
}

void AlertMonitor::evaluate_shift_oee(const AlertRule& rule, TimeMs now, Observations& out) const {
  // The node's own shift: its line's or site's shifts in its site's zone (ShiftCalendar::for_node).
  ShiftOccurrence shift;
  if (!service_.current_shift(shift, rule.node)) {
    out.push_back({&rule, rule.node, false, now});  // between shifts the last shift's alert resolves
    return;
  }
  const auto rows = service_.node_kpis(rule.node, Grouping::none, shift.start, now);
  const std::optional<double> oee = rows.empty() ? std::nullopt : derive_figures(rows.front().totals).oee;
  out.push_back({&rule, rule.node, oee_below_target_at(oee, shift.start, now, rule.at_minute, rule.target), now});
}

void AlertMonitor::evaluate_edges(const AlertRule& rule, TimeMs now, Observations& out) {
  std::lock_guard lock(edges_mutex_);
  record_edge_reports();
  for (const auto& [edge, reports] : queue_reports_)
    if (rule.node.empty() || rule.node == edge) out.push_back({&rule, edge, edge_queue_growing_at(reports, now, rule.for_ms), now});
}

// Each new status report (a new `ts`) adds a point to its edge's queue depth series. Called with
// edges_mutex_ held.
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

std::optional<AlertChange> AlertMonitor::acknowledge(const std::string& id, std::optional<TimeMs> fired, const std::string& user) {
  const TimeMs now = service_.now();
  auto a = service_.with_store([&](storage::EventStore& s) { return s.acknowledge_alert(id, fired, user, now); });
  if (!a) return std::nullopt;
  AlertChange change{AlertTransition::acknowledged, std::move(*a)};
  tell(change);
  return change;
}

std::vector<Alert> AlertMonitor::alerts() const {
  return service_.read_store([](storage::EventStore& s) { return s.alerts(); });
}

}  // namespace oee::server
