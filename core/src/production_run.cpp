#include "oee/core/production_run.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace oee {

namespace {

// The distinct run events in the engine's canonical order. Among events sharing an identity the
// one with the smallest fingerprint stays, as in MachineHistory, so conflicting duplicates resolve
// the same way whatever their order.
std::vector<const Event*> distinct_run_events(std::span<const Event> events) {
  std::map<std::uint64_t, const Event*> by_identity;
  for (const Event& e : events) {
    if (e.type != EventType::run) continue;
    auto [it, fresh] = by_identity.try_emplace(identity_key(e), &e);
    if (!fresh && content_fingerprint(e) < content_fingerprint(*it->second)) it->second = &e;
  }
  std::vector<const Event*> out;
  out.reserve(by_identity.size());
  for (const auto& [identity, e] : by_identity) out.push_back(e);
  std::sort(out.begin(), out.end(), [](const Event* a, const Event* b) {
    return canonical_order_key(*a) < canonical_order_key(*b);
  });
  return out;
}

}  // namespace

std::vector<ProductionRun> production_runs(std::span<const Event> events) {
  std::vector<ProductionRun> runs;
  auto open = [&]() { return !runs.empty() && runs.back().end == kTimeMax; };
  for (const Event* e : distinct_run_events(events)) {
    if (e->run_action == RunAction::end) {
      if (open() && runs.back().run == e->run) runs.back().end = e->ts;
      continue;
    }
    if (open() && runs.back().run == e->run) continue;
    if (open()) runs.back().end = e->ts;
    runs.push_back({e->run, e->product, e->quantity, e->run_cycle_us, e->ts, kTimeMax});
  }
  return runs;
}

namespace {

struct Tally {
  std::size_t report = 0;
  std::optional<TimeMs> first_good_ts, last_good_ts;
};

// Adds the counts of one stretch (those before the horizon) to its report.
void add_counts(const ProductionRun& stretch, std::span<const CountRecord> counts, TimeMs horizon, RunReport& r,
                Tally& t) {
  const TimeMs end = std::min(stretch.end, horizon);
  auto it = std::lower_bound(counts.begin(), counts.end(), stretch.start,
                             [](const CountRecord& c, TimeMs ts) { return c.ts < ts; });
  for (; it != counts.end() && it->ts < end; ++it) {
    const bool reached_before = r.quantity > 0 && r.good >= r.quantity;
    r.good += it->good;
    r.reject += it->reject;
    if (!reached_before && r.quantity > 0 && r.good >= r.quantity) r.expected_finish = it->ts;
    if (it->good > 0) {
      if (!t.first_good_ts) t.first_good_ts = it->ts;
      t.last_good_ts = it->ts;
    }
  }
  if (end > stretch.start) r.run_ms += end - stretch.start;
}

// While open and short of its quantity: the remaining parts at the rate so far.
void project_finish(RunReport& r, TimeMs horizon) {
  r.remaining = std::max<std::int64_t>(0, r.quantity - r.good);
  if (r.expected_finish || r.remaining == 0 || r.end < horizon || r.good == 0 || r.run_ms == 0) return;
  const double ms = std::ceil(static_cast<double>(r.remaining) * static_cast<double>(r.run_ms) /
                              static_cast<double>(r.good));
  r.expected_finish = horizon + static_cast<TimeMs>(ms);
}

}  // namespace

std::vector<RunReport> run_reports(std::span<const ProductionRun> runs, std::span<const CountRecord> counts,
                                   TimeMs horizon) {
  std::vector<RunReport> reports;
  std::vector<Tally> tallies;
  std::map<std::string, std::size_t> index;
  for (const ProductionRun& stretch : runs) {
    if (stretch.start >= horizon) continue;
    auto [it, fresh] = index.try_emplace(stretch.run, reports.size());
    if (fresh) {
      RunReport& r = reports.emplace_back();
      r.run = stretch.run;
      r.product = stretch.product;
      r.quantity = stretch.quantity;
      r.cycle_us = stretch.cycle_us;
      r.start = stretch.start;
      tallies.push_back({});
    }
    RunReport& r = reports[it->second];
    r.end = stretch.end;
    add_counts(stretch, counts, horizon, r, tallies[it->second]);
  }
  for (std::size_t i = 0; i < reports.size(); ++i) {
    project_finish(reports[i], horizon);
    if (i == 0 || !tallies[i].first_good_ts || !tallies[i - 1].last_good_ts) continue;
    const TimeMs gap = *tallies[i].first_good_ts - *tallies[i - 1].last_good_ts;
    if (gap >= 0) reports[i].changeover_ms = gap;
  }
  return reports;
}

}  // namespace oee
