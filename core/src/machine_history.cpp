#include "oee/core/machine_history.h"

#include <algorithm>
#include <array>

#include "oee/core/counter_production.h"
#include "oee/core/history_corrections.h"
#include "oee/core/reason_losses.h"

namespace oee {

namespace {

struct Entry {
  TimeMs ts;
  std::uint64_t fingerprint;
  std::uint64_t identity;
  std::uint32_t index;
  std::uint8_t rank;
};

bool by_time(const Entry& a, const Entry& b) {
  if (a.ts != b.ts) return a.ts < b.ts;
  if (a.rank != b.rank) return a.rank < b.rank;
  if (a.fingerprint != b.fingerprint) return a.fingerprint < b.fingerprint;
  return a.identity < b.identity;
}

// Sorted by time and free of duplicates. Among events sharing src+seq the one with the smallest
// content fingerprint is kept, so even conflicting duplicates resolve the same way in any order.
std::vector<Entry> canonical_order(std::span<const Event> events) {
  std::vector<Entry> entries;
  entries.reserve(events.size());
  for (std::uint32_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const std::uint64_t fp = content_fingerprint(e);
    entries.push_back({e.ts, fp, e.has_identity() ? identity_key(e) : fp, i,
                       static_cast<std::uint8_t>(event_type_rank(e.type))});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.identity != b.identity ? a.identity < b.identity : a.fingerprint < b.fingerprint;
  });
  entries.erase(std::unique(entries.begin(), entries.end(),
                            [](const Entry& a, const Entry& b) { return a.identity == b.identity; }),
                entries.end());
  std::sort(entries.begin(), entries.end(), by_time);
  return entries;
}

// The instant of each counter's first reading: a counter takes part from the instant after it.
std::array<TimeMs, 3> first_reading_ts(std::span<const Event> events, const std::vector<Entry>& order,
                                       const VoidedReadings& voided) {
  std::array<TimeMs, 3> first{kTimeMax, kTimeMax, kTimeMax};
  for (const Entry& en : order) {
    const Event& e = events[en.index];
    if (e.type != EventType::counter || !counts_within_bounds(e) || voided.contains(e)) continue;
    TimeMs& f = first[static_cast<std::size_t>(e.counter)];
    if (f == kTimeMax) f = e.ts;
  }
  return first;
}

// Whether the counter reading at order[i] is the last of its instant (they are adjacent: the
// canonical order sorts by time, then type).
bool last_of_instant(std::span<const Event> events, const std::vector<Entry>& order, std::size_t i) {
  if (i + 1 == order.size()) return true;
  const Event& next = events[order[i + 1].index];
  return next.type != EventType::counter || next.ts != events[order[i].index].ts;
}

// Takes the corrections out of `order` (they are no sign of the machine's life), in order; those
// the engine cannot apply are left out (counted in `ignored`).
std::vector<const Event*> take_corrections(const MachineSpec& machine, std::span<const Event> events,
                                           std::vector<Entry>& order, std::size_t& ignored) {
  std::vector<const Event*> out;
  std::erase_if(order, [&](const Entry& en) {
    const Event& e = events[en.index];
    if (e.type != EventType::correction) return false;
    if (correction_is_applicable(machine, e))
      out.push_back(&e);
    else
      ++ignored;
    return true;
  });
  return out;
}

}  // namespace

void MachineHistory::leave_out_of_range(const Event& e) {
  ++ignored_events_;
  const CounterName counter = e.type == EventType::counter ? e.counter : CounterName::total;
  data_quality_.push_back({e.ts, DataQualityKind::out_of_range, counter, out_of_range_value(e)});
}

bool MachineHistory::is_small_stop(const StateInterval& iv, TimeMs horizon) const {
  if (!is_unplanned_stop(iv.state)) return false;
  // A reason with a loss decides, whatever the stop's length.
  if (iv.loss != ReasonLoss::none) return iv.loss == ReasonLoss::small_stop;
  const TimeMs end = std::min(iv.end, std::max(horizon, iv.start));
  return end - iv.start < machine_->micro_stop_threshold_ms;
}

std::ptrdiff_t MachineHistory::interval_at(TimeMs t) const {
  auto it = std::upper_bound(intervals_.begin(), intervals_.end(), t,
                             [](TimeMs v, const StateInterval& iv) { return v < iv.start; });
  if (it == intervals_.begin()) return -1;
  return std::distance(intervals_.begin(), it) - 1;
}

bool MachineHistory::is_no_data(const Silence& silence, TimeMs horizon) const {
  return machine_->no_data_after_ms > 0 && silence.start < std::min(silence.end, horizon) - machine_->no_data_after_ms;
}

namespace {
// Silences longer than the threshold between consecutive signs of life (every distinct event),
// and the open one after the last: which of them is no data depends on the horizon.
std::vector<Silence> find_silences(const std::vector<Entry>& order, DurationMs threshold) {
  std::vector<Silence> out;
  if (threshold <= 0 || order.empty()) return out;
  for (std::size_t i = 1; i < order.size(); ++i)
    if (order[i].ts - order[i - 1].ts > threshold) out.push_back({order[i - 1].ts, order[i].ts});
  out.push_back({order.back().ts, kTimeMax});
  return out;
}
}  // namespace

MachineHistory MachineHistory::build(const MachineSpec& machine, std::span<const Event> events) {
  MachineHistory h;
  h.machine_ = &machine;
  std::vector<Entry> order = canonical_order(events);
  h.distinct_events_ = order.size();
  const std::vector<const Event*> corrections = take_corrections(machine, events, order, h.ignored_events_);
  const VoidedReadings voided(corrections);
  h.silences_ = find_silences(order, machine.no_data_after_ms);
  if (!order.empty()) h.last_sign_ts_ = order.back().ts;

  CounterProduction counters(first_reading_ts(events, order, voided));
  std::vector<std::uint32_t> reasons;  // indexes of reason events, applied once intervals exist
  std::string current_product;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Entry& en = order[i];
    const Event& e = events[en.index];
    // A sample is the history of a process value, a heartbeat a sign of life, a run the order being
    // made (production_run.h): no OEE signal. Each is still a sign of life, as every event is
    // (find_silences above; docs/oee-model.md, "No data").
    if (e.type == EventType::sample || e.type == EventType::heartbeat || e.type == EventType::run) continue;
    h.last_event_ts_ = std::max(h.last_event_ts_, e.ts);
    switch (e.type) {
      case EventType::state: {
        const auto state = machine.resolve_state(e.state);
        if (!state || *state == State::unknown) {
          ++h.ignored_events_;
          break;
        }
        if (!h.intervals_.empty() && h.intervals_.back().state == *state) {
          // A repeated state (a PLC re-sending its state) continues the interval.
          if (h.intervals_.back().reason.empty() && !e.reason.empty()) {
            h.intervals_.back().reason = e.reason;
            h.intervals_.back().reason_ts = e.ts;
          }
          break;
        }
        if (!h.intervals_.empty()) h.intervals_.back().end = e.ts;
        h.intervals_.push_back({e.ts, kTimeMax, *state, e.reason, ReasonLoss::none, e.reason.empty() ? kTimeMin : e.ts});
        break;
      }
      case EventType::product:
        if (e.product != current_product) {
          current_product = e.product;
          h.products_.push_back({e.ts, e.product});
        }
        break;
      case EventType::count:
        if (!counts_within_bounds(e)) {
          h.leave_out_of_range(e);
        } else if (e.good != 0 || e.reject != 0) {
          h.counts_.push_back({e.ts, e.good, e.reject, 0, 0});
        }
        break;
      case EventType::counter:
        if (!counts_within_bounds(e))
          h.leave_out_of_range(e);
        else if (!voided.contains(e))
          counters.read(e, machine.cycle_us_for(current_product), h.data_quality_);
        if (last_of_instant(events, order, i)) {
          const PartIncrement p = counters.finish_instant(e.ts, h.data_quality_);
          if (p.good != 0 || p.reject != 0) h.counts_.push_back({e.ts, p.good, p.reject, 0, 0});
        }
        break;
      case EventType::reason:
        reasons.push_back(en.index);
        break;
      case EventType::sample:
      case EventType::heartbeat:
      case EventType::run:  // runs are read by production_runs(), beside the history
      case EventType::correction:  // taken out above
        break;
    }
  }

  // Reasons apply in time order, so the latest reason for a stop wins.
  for (std::uint32_t index : reasons) {
    const Event& e = events[index];
    const std::ptrdiff_t i = h.interval_at(e.at);
    if (i >= 0 && is_unplanned_stop(h.intervals_[static_cast<std::size_t>(i)].state)) {
      h.intervals_[static_cast<std::size_t>(i)].reason = e.reason;
      h.intervals_[static_cast<std::size_t>(i)].reason_ts = e.ts;
    }
  }
  apply_reclassifications(machine, corrections, h.intervals_);
  apply_reason_losses(machine, h.intervals_);
  add_found_rejects(corrections, h.counts_);

  // Ideal cycle of the product in effect, and start-up rejects: rejects within the start-up window
  // after the end of a setup or of a stop longer than the micro-stop threshold.
  std::size_t product_index = 0;
  std::size_t interval_index = 0;
  TimeMs restart_ts = kTimeMin;
  for (CountRecord& c : h.counts_) {
    while (product_index < h.products_.size() && h.products_[product_index].ts <= c.ts) ++product_index;
    c.cycle_us = machine.cycle_us_for(product_index == 0 ? std::string_view{} : std::string_view{h.products_[product_index - 1].product});
    while (interval_index < h.intervals_.size() && h.intervals_[interval_index].end <= c.ts) {
      const StateInterval& iv = h.intervals_[interval_index];
      if (iv.state == State::setup ||
          (is_unplanned_stop(iv.state) && iv.end - iv.start >= machine.micro_stop_threshold_ms))
        restart_ts = iv.end;
      ++interval_index;
    }
    if (machine.startup_window_ms > 0 && c.reject > 0 && restart_ts != kTimeMin &&
        c.ts - restart_ts < machine.startup_window_ms)
      c.startup_reject = c.reject;
  }
  return h;
}

}  // namespace oee
