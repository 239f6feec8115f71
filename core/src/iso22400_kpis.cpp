#include "oee/core/iso22400_kpis.h"

#include "oee/core/ratio.h"

namespace oee {

Iso22400Figures derive_iso22400(const KpiTotals& t) {
  Iso22400Figures f;
  const double ppt = static_cast<double>(t.planned_production_ms());
  const double run = static_cast<double>(t.run_ms());
  const double setup = static_cast<double>(t.setup_ms);
  const double total = static_cast<double>(t.total_count());
  const double good = static_cast<double>(t.good_count);
  const std::optional<double> performance = ratio(static_cast<double>(t.ideal_us) / 1000.0, run);
  const std::optional<double> quality = ratio(good, total);
  const std::optional<double> net_availability = ratio(run + setup, ppt);
  if (net_availability && performance && quality) f.nee = *net_availability * *performance * *quality;
  f.setup_rate = ratio(setup, run + setup);
  f.technical_efficiency = ratio(run, run + static_cast<double>(t.breakdown_ms));
  f.scrap_ratio = ratio(static_cast<double>(t.reject_count), total);
  f.allocation_efficiency = ratio(ppt - static_cast<double>(t.starved_ms + t.blocked_ms), ppt);
  if (ppt > 0) f.throughput_per_h = total / (ppt / 3'600'000.0);
  f.first_pass_yield = quality;
  return f;
}

}  // namespace oee
