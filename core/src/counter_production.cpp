#include "oee/core/counter_production.h"

#include <algorithm>

#include "oee/core/count_bounds.h"

namespace oee {

std::string_view data_quality_kind_name(DataQualityKind k) {
  switch (k) {
    case DataQualityKind::counter_mismatch: return "counter_mismatch";
    case DataQualityKind::counter_reset: return "counter_reset";
    case DataQualityKind::out_of_range: return "out_of_range";
  }
  return "unknown";
}

namespace {
bool in_range(std::int64_t v) { return v >= 0 && v <= kMaxCount; }
}  // namespace

bool counts_within_bounds(const Event& e) {
  if (e.type == EventType::count) return in_range(e.good) && in_range(e.reject);
  if (e.type == EventType::counter)
    return in_range(e.value) && in_range(e.rollover) && (e.rollover == 0 || e.value < e.rollover);
  return true;
}

std::int64_t out_of_range_value(const Event& e) {
  if (e.type == EventType::count) return in_range(e.good) ? e.reject : e.good;
  return in_range(e.value) ? e.rollover : e.value;
}

void CounterProduction::read(const Event& e, std::int64_t cycle_us, std::vector<DataQualityIssue>& issues) {
  const auto c = static_cast<std::size_t>(e.counter);
  Track& track = tracks_[c];
  if (!track.seen) {  // the first reading is the baseline
    track = {true, e.ts, e.value};
    return;
  }
  std::int64_t delta;
  if (e.value >= track.last) {
    delta = e.value - track.last;
  } else {
    delta = e.value;  // a reset: counting started again from zero
    if (e.rollover > 0) {
      // A wrap is plausible only if the machine could have made that many parts since the previous
      // reading: at most twice its ideal rate. Otherwise the PLC was reset (values < 2^40: no overflow;
      // a previous value at or above this rollover, read under another, is no wrap either).
      const std::int64_t wrapped = e.value + e.rollover - track.last;
      const std::int64_t plausible = saturating_mul(2 * (e.ts - track.ts), 1000) / std::max<std::int64_t>(1, cycle_us);
      if (wrapped > 0 && wrapped <= plausible)
        delta = wrapped;
      else
        issues.push_back({e.ts, DataQualityKind::counter_reset, e.counter, wrapped});
    }
  }
  track = {true, e.ts, e.value};
  delta_[c] = saturating_add(delta_[c], delta);
}

PartIncrement CounterProduction::finish_instant(TimeMs ts, std::vector<DataQualityIssue>& issues) {
  auto present = [&](CounterName n) { return first_reading_ts_[static_cast<std::size_t>(n)] < ts; };
  const bool total = present(CounterName::total), good = present(CounterName::good),
             reject = present(CounterName::reject);
  const std::int64_t dt = delta_[0], dg = delta_[1], dr = delta_[2];
  delta_ = {};
  PartIncrement out;
  out.good = good ? dg : total ? dt - dr : 0;
  out.reject = reject ? dr : total && good ? dt - dg : 0;
  // Where total is a check (all three) or the source of a derived count, it must add up.
  std::int64_t mismatch = 0;
  if (total && good && reject)
    mismatch = saturating_add(dt - dg, -dr);
  else if (total && (out.good < 0 || out.reject < 0))
    mismatch = std::min(out.good, out.reject);
  if (mismatch != 0) issues.push_back({ts, DataQualityKind::counter_mismatch, CounterName::total, mismatch});
  return out;
}

}  // namespace oee
