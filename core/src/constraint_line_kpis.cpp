#include "oee/core/constraint_line_kpis.h"

#include "oee/core/count_bounds.h"

namespace oee {

namespace {

// parts x ideal/made, rounded down, without overflow for any count the totals can hold.
std::int64_t scaled_ideal_us(std::int64_t parts, std::int64_t ideal_us, std::int64_t made, std::int64_t cycle_us) {
  if (made <= 0) return saturating_mul(parts, cycle_us);
  const __int128 v = static_cast<__int128>(parts) * ideal_us / made;
  return v > INT64_MAX ? INT64_MAX : static_cast<std::int64_t>(v);
}

}  // namespace

KpiTotals constraint_line_totals(const KpiTotals& constraint, const KpiTotals& outfeed,
                                 std::int64_t constraint_cycle_us, std::int64_t line_machine_count) {
  KpiTotals t = constraint;
  t.good_count = outfeed.good_count;
  t.reject_count = outfeed.reject_count;
  t.startup_reject_count = outfeed.startup_reject_count;
  const std::int64_t made = constraint.total_count();
  t.ideal_us = scaled_ideal_us(outfeed.total_count(), constraint.ideal_us, made, constraint_cycle_us);
  t.reject_ideal_us = scaled_ideal_us(outfeed.reject_count, constraint.ideal_us, made, constraint_cycle_us);
  t.startup_reject_ideal_us =
      scaled_ideal_us(outfeed.startup_reject_count, constraint.ideal_us, made, constraint_cycle_us);
  t.machine_count = line_machine_count;
  return t;
}

}  // namespace oee
