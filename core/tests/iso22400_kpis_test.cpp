#include <gtest/gtest.h>

#include "oee/core/iso22400_kpis.h"
#include "oee/core/kpi.h"

namespace oee {

namespace {
TimeMs at(const char* s) { return *parse_timestamp(s); }
Event state(const char* ts, const char* s) {
  Event e;
  e.ts = at(ts);
  e.state = s;
  return e;
}
}  // namespace

// One 480-minute shift: 30 min breakdown, 30 min setup, 20 min starved, 400 min run; 1 s ideal
// cycle, 20,000 good and 400 rejects. Hand-computed figures in the comments.
TEST(Iso22400, HandComputedShift) {
  PlantModel plant;
  plant.shifts.push_back({"day", 6 * 60, 14 * 60, {}});
  MachineSpec m;
  m.id = m.path = "s/a/l/m";
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  std::vector<Event> events = {state("2026-11-10T06:00:00Z", "running"), state("2026-11-10T07:00:00Z", "stopped"),
                               state("2026-11-10T07:30:00Z", "setup"),   state("2026-11-10T08:00:00Z", "running"),
                               state("2026-11-10T10:00:00Z", "starved"), state("2026-11-10T10:20:00Z", "running")};
  Event c;
  c.ts = at("2026-11-10T13:00:00Z");
  c.type = EventType::count;
  c.good = 20000;
  c.reject = 400;
  events.push_back(c);
  const auto h = MachineHistory::build(m, events);
  const KpiTotals t = machine_totals(h, cal, at("2026-11-10T06:00:00Z"), at("2026-11-10T14:00:00Z"), kTimeMax);
  ASSERT_EQ(t.run_ms(), 400 * kMsPerMinute);
  const Iso22400Figures f = derive_iso22400(t);
  EXPECT_NEAR(*f.nee, (430.0 / 480) * (20400.0 / 24000) * (20000.0 / 20400), 1e-12);  // 0.7465
  EXPECT_NEAR(*f.nee, 0.746528, 1e-6);
  EXPECT_GT(*f.nee, *derive_figures(t).oee);  // setup is not a loss for NEE
  EXPECT_NEAR(*f.setup_rate, 30.0 / 430, 1e-12);
  EXPECT_NEAR(*f.technical_efficiency, 400.0 / 430, 1e-12);
  EXPECT_NEAR(*f.scrap_ratio, 400.0 / 20400, 1e-12);
  EXPECT_NEAR(*f.allocation_efficiency, 460.0 / 480, 1e-12);
  EXPECT_NEAR(*f.throughput_per_h, 20400.0 / 8, 1e-9);
  EXPECT_NEAR(*f.first_pass_yield, 20000.0 / 20400, 1e-12);
}

TEST(Iso22400, ZeroDenominatorsAreNull) {
  const Iso22400Figures f = derive_iso22400(KpiTotals{});
  EXPECT_FALSE(f.nee);
  EXPECT_FALSE(f.setup_rate);
  EXPECT_FALSE(f.technical_efficiency);
  EXPECT_FALSE(f.scrap_ratio);
  EXPECT_FALSE(f.allocation_efficiency);
  EXPECT_FALSE(f.throughput_per_h);
  EXPECT_FALSE(f.first_pass_yield);
}

}  // namespace oee
