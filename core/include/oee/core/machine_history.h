#pragma once
// The history of one machine derived from the set of its events: state intervals with their stop
// classification and reasons, and production counts with their ideal time. A pure function of the
// set: the same events in any order, with any duplicates, give the same history.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "oee/core/counter_production.h"
#include "oee/core/event.h"
#include "oee/core/plant_model.h"
#include "oee/core/reason_tree.h"
#include "oee/core/state.h"
#include "oee/core/time.h"

namespace oee {

struct StateInterval {
  TimeMs start = 0;
  TimeMs end = kTimeMax;  // kTimeMax: still open (the machine's current state)
  State state = State::unknown;
  std::string reason;
  // The loss its reason gives (the reason tree's), none: its state's; when its reason was given.
  ReasonLoss loss = ReasonLoss::none;
  TimeMs reason_ts = kTimeMin;
  bool operator==(const StateInterval&) const = default;
};

struct CountRecord {
  TimeMs ts = 0;
  std::int64_t good = 0;
  std::int64_t reject = 0;
  std::int64_t cycle_us = 0;      // ideal cycle time of the product in effect
  std::int64_t startup_reject = 0;  // rejects of this record within a start-up window
  bool operator==(const CountRecord&) const = default;
};

// A time with no event at all, from one sign of life to the next (or on, after the last).
struct Silence {
  TimeMs start = 0;
  TimeMs end = kTimeMax;
  bool operator==(const Silence&) const = default;
};

struct ProductChange {
  TimeMs ts = 0;
  std::string product;
  bool operator==(const ProductChange&) const = default;
};

class MachineHistory {
 public:
  // Events must all belong to `machine` (their `machine` field is not looked at).
  static MachineHistory build(const MachineSpec& machine, std::span<const Event> events);

  const MachineSpec& machine() const { return *machine_; }
  const std::vector<StateInterval>& intervals() const { return intervals_; }
  const std::vector<CountRecord>& counts() const { return counts_; }
  const std::vector<ProductChange>& products() const { return products_; }
  // Events taken after deduplication, and those left out (an unmappable state value, a counter
  // named otherwise): the ingest dead-letters the latter before they get here.
  std::size_t distinct_events() const { return distinct_events_; }
  std::size_t ignored_events() const { return ignored_events_; }
  // What the counts' data does not say consistently (counter mismatches, resets read from a
  // decrease, out-of-range values), in time order: a pure function of the events, like the rest.
  const std::vector<DataQualityIssue>& data_quality() const { return data_quality_; }
  TimeMs first_state_ts() const { return intervals_.empty() ? kTimeMax : intervals_.front().start; }
  TimeMs last_event_ts() const { return last_event_ts_; }
  // The silences between consecutive events (signs of life) longer than the machine's
  // no_data_after_ms, sorted; the last may be the open one after the last event (end kTimeMax).
  const std::vector<Silence>& silences() const { return silences_; }
  TimeMs last_sign_ts() const { return last_sign_ts_; }
  // Whether a silence is no data when time stops at `horizon` (it is judged on its length up to it).
  bool is_no_data(const Silence& silence, TimeMs horizon) const;

  // Whether a stop is short enough to be a small stop, judged on its whole length up to `horizon`.
  bool is_small_stop(const StateInterval& iv, TimeMs horizon) const;
  // Index of the interval containing t, or -1 when t is before the first state event.
  std::ptrdiff_t interval_at(TimeMs t) const;

 private:
  void leave_out_of_range(const Event& e);

  const MachineSpec* machine_ = nullptr;
  std::vector<StateInterval> intervals_;
  std::vector<CountRecord> counts_;
  std::vector<ProductChange> products_;
  std::vector<DataQualityIssue> data_quality_;
  std::size_t distinct_events_ = 0;
  std::size_t ignored_events_ = 0;
  TimeMs last_event_ts_ = kTimeMin;
  std::vector<Silence> silences_;
  TimeMs last_sign_ts_ = kTimeMin;
};

}  // namespace oee
