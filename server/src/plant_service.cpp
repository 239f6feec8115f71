#include "oee/server/plant_service.h"

#include <chrono>

#include "oee/codec/event_json.h"
#include "oee/core/constraint_line_kpis.h"
#include "oee/core/crew_kpis.h"
#include "oee/server/log.h"
#include "oee/storage/conflicts.h"

namespace oee::server {

TimeMs system_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

PlantService::PlantService(plant::LoadedPlant plant, const StoreFactory& open_store, Clock clock, double clock_rate)
    : plant_(std::move(plant)),
      calendar_(plant_.model, *plant_.zone),
      store_(open_store(plant_.model, calendar_)),
      clock_(std::move(clock)),
      clock_rate_(clock_rate) {
  // Live state from what is stored: the state in effect now and its start.
  const TimeMs t = now();
  for (const MachineSpec* m : plant_.model.machines()) live_.emplace(m->path, stored_live_state(*m, t));
}

MachineLiveState PlantService::stored_live_state(const MachineSpec& m, TimeMs t) {
  MachineLiveState live;
  const MachineHistory h = store_->machine_history(m, t, t + 1);
  if (const auto i = h.interval_at(t); i >= 0) {
    const StateInterval& iv = h.intervals()[static_cast<std::size_t>(i)];
    live.state = iv.state;
    live.reason = iv.reason;
    live.since = iv.start;
  }
  if (!h.products().empty()) live.product = h.products().back().product;
  const TimeMs last = std::max(h.last_event_ts(), h.last_sign_ts());  // heartbeats and samples too
  live.last_event = last == kTimeMin ? 0 : last;
  return live;
}

void PlantService::refresh_live_states(std::span<const MachineSpec* const> machines) {
  std::vector<std::string> changed;
  for (const MachineSpec* m : machines) {
    // The store lock is held until the new state is in place: an ingest of this server cannot
    // slip in between and be overwritten by an older reading (its own live update comes after).
    std::lock_guard store_lock(store_mutex_);
    MachineLiveState stored = stored_live_state(*m, now());
    std::lock_guard lock(live_mutex_);
    MachineLiveState& live = live_[m->path];
    if (stored.state != live.state || stored.since != live.since || stored.reason != live.reason) changed.push_back(m->path);
    live = std::move(stored);
  }
  if (!changed.empty())
    for (const auto& listener : live_listeners_) listener(changed);
}

std::string PlantService::validate(const Event& e) const {
  const MachineSpec* m = plant_.model.find_machine(e.machine);
  if (!m) return "unknown machine '" + e.machine + "'";
  if (e.type == EventType::state && !m->resolve_state(e.state))
    return "state '" + e.state + "' is neither canonical nor in " + e.machine + "'s states map";
  return {};
}

IngestReport PlantService::ingest(std::vector<Event> events, std::string_view origin) {
  IngestReport report;
  const TimeMs received = now();
  std::vector<Event> valid;
  valid.reserve(events.size());
  std::vector<std::pair<std::string, std::string>> rejected;  // payload, reason
  for (Event& e : events) {
    std::string why = validate(e);
    if (why.empty()) {
      valid.push_back(std::move(e));
    } else {
      rejected.emplace_back(codec::event_to_json(e), std::move(why));
    }
  }
  {
    std::lock_guard lock(store_mutex_);
    for (auto& [payload, reason] : rejected) store_->add_dead_letter({0, received, std::string(origin), payload, reason});
    if (!valid.empty()) {
      const storage::AppendResult r = store_->append(valid, received);
      report.inserted = r.inserted;
      report.duplicates = r.duplicates;
      report.older_than_retention = r.older_than_retention;  // dead-lettered by the store
      if (!r.identity_duplicates.empty()) {
        const auto conflicts = storage::find_conflicts(*store_, valid, r.identity_duplicates, received);
        store_->add_conflicts(conflicts);
        report.conflicts = conflicts.size();
      }
    }
  }
  report.accepted = valid.size();
  report.dead_lettered = rejected.size() + report.older_than_retention;
  for (const Event& e : valid) update_live_state(e);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  TimeMs newest = kTimeMin;
  for (const Event& e : valid) newest = std::max(newest, e.ts);
  metrics_.ingest_conflicts += report.conflicts;
  if (report.conflicts > 0)
    log_line("warn", "conflicting events kept apart", {{"origin", std::string(origin)}, {"count", std::to_string(report.conflicts)}});
  metrics_.add_ingest(events.size(), report.inserted, report.duplicates, report.dead_lettered,
                      newest == kTimeMin ? 0 : std::max<TimeMs>(0, received - newest));
  if (!valid.empty())
    for (const auto& listener : listeners_) listener(valid);
  return report;
}

void PlantService::dead_letter(std::string_view origin, std::string_view payload, std::string_view reason) {
  std::string bounded(payload.substr(0, storage::kMaxDeadLetterPayloadBytes));
  if (payload.size() > bounded.size()) bounded += "…[truncated from " + std::to_string(payload.size()) + " bytes]";
  std::lock_guard lock(store_mutex_);
  store_->add_dead_letter({0, now(), std::string(origin), std::move(bounded), std::string(reason)});
}

void PlantService::update_live_state(const Event& e) {
  std::lock_guard lock(live_mutex_);
  auto it = live_.find(e.machine);
  if (it == live_.end()) return;
  MachineLiveState& live = it->second;
  // A run often comes from the ERP, not the machine, and a correction from a supervisor: no sign
  // of its life (docs/events.md).
  if (e.type != EventType::run && e.type != EventType::correction) live.last_event = std::max(live.last_event, e.ts);
  const MachineSpec* m = plant_.model.find_machine(e.machine);
  switch (e.type) {
    case EventType::state:
      if (e.ts >= live.since) {
        const State s = *m->resolve_state(e.state);
        if (s != live.state || live.since == 0) {
          live.state = s;
          live.since = e.ts;
          live.reason = e.reason;
        } else if (live.reason.empty()) {
          live.reason = e.reason;
        }
      }
      break;
    case EventType::reason:
      if (e.at >= live.since && is_unplanned_stop(live.state)) live.reason = e.reason;
      break;
    case EventType::product:
      live.product = e.product;
      break;
    default:
      break;
  }
}

MachineLiveState PlantService::live_state(std::string_view machine_path) const {
  std::lock_guard lock(live_mutex_);
  auto it = live_.find(machine_path);
  return it == live_.end() ? MachineLiveState{} : it->second;
}

std::vector<KpiRow> PlantService::node_kpis(std::string_view node, Grouping by, TimeMs from, TimeMs to) {
  const TimeMs horizon = now();
  std::vector<KpiRow> rows;
  for (Bucket& b : make_buckets(calendar_.for_node(node), by, from, to)) rows.push_back({std::move(b), {}});
  read_store([&](storage::EventStore& store) {
    for (KpiRow& row : rows) row.totals = node_totals(store, node, row.bucket.range.start, row.bucket.range.end, horizon);
  });
  return by == Grouping::crew ? sum_rows_by_crew(std::move(rows)) : rows;
}

KpiTotals PlantService::node_totals(storage::EventStore& store, std::string_view node, TimeMs from, TimeMs to,
                                    TimeMs horizon) const {
  const LineSpec* line = plant_.model.find_line(node);
  if (line && line->constraint_machine() && line->outfeed_machine()) {
    const MachineSpec& c = *line->constraint_machine();
    const MachineSpec& o = *line->outfeed_machine();
    return constraint_line_totals(store.machine_totals(c, from, to, horizon), store.machine_totals(o, from, to, horizon),
                                  c.ideal_cycle_us, static_cast<std::int64_t>(line->machines.size()));
  }
  if (const MachineSpec* m = plant_.model.find_machine(node)) return store.machine_totals(*m, from, to, horizon);
  const auto machines = plant_.model.machines_under(node);
  return store.machines_totals(machines, from, to, horizon);
}

bool PlantService::current_shift(ShiftOccurrence& out, std::string_view node) const {
  return calendar_.for_node(node).shift_at(now(), out);
}

}  // namespace oee::server
