// A line's runs from its machines' runs (core/line_runs.h, docs/oee-model.md "KPIs by run"), by hand.
#include <gtest/gtest.h>

#include "oee/core/line_runs.h"
#include "oee/core/run_kpis.h"

namespace oee {
namespace {

ProductionRun stretch(const char* run, TimeMs start, TimeMs end, std::int64_t cycle_us = 0, const char* product = "p") {
  return {run, product, 100, cycle_us, start, end};
}

TEST(LineRuns, AnOrdersStretchesOnTheMachinesAreUnitedOnTheLine) {
  const std::vector<std::vector<ProductionRun>> machines = {
      {stretch("WO-1", 0, 100, 0, "first"), stretch("WO-2", 100, 200, 800'000), stretch("WO-1", 500, kTimeMax)},
      {stretch("WO-1", 0, 120, 0, "second"), stretch("WO-2", 130, 250, 900'000), stretch("WO-3", 250, 300)},
      {stretch("WO-1", 20, 90), stretch("WO-2", 250, 260)}};
  const std::vector<ProductionRun> want = {
      stretch("WO-1", 0, 120, 0, "first"),  // a tie at 0: the first machine's product
      stretch("WO-2", 100, 260, 800'000),   // [100, 200) ∪ [130, 250) ∪ [250, 260): touching ones merge too
      stretch("WO-3", 250, 300),
      stretch("WO-1", 500, kTimeMax),       // a second stretch of WO-1, still open
  };
  EXPECT_EQ(line_runs(machines), want);
  EXPECT_TRUE(line_runs(std::vector<std::vector<ProductionRun>>{}).empty());
}

// Totals from elsewhere (a line's sum): the override counts the stretch's parts at it, and a run of
// several stretches keeps the node's machine count.
TEST(LineRuns, RunKpisOverALinesTotalsKeepItsMachineCountAndTheOverride) {
  const std::vector<ProductionRun> runs = {stretch("WO-1", 0, 100, 500'000), stretch("WO-2", 100, 200),
                                           stretch("WO-1", 200, 300, 500'000)};
  auto totals = [](TimeMs s, TimeMs e) {
    KpiTotals t;
    t.machine_count = 3;
    t.running_ms = e - s;
    t.good_count = (e - s) / 10;
    t.reject_count = 1;
    t.ideal_us = 999;
    return t;
  };
  const auto k = run_kpis(runs, 50, 250, kTimeMax, totals);
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0].run, "WO-1");
  EXPECT_EQ(k[0].start, 50);
  EXPECT_EQ(k[0].end, 250);
  EXPECT_EQ(k[0].totals.machine_count, 3);
  EXPECT_EQ(k[0].totals.running_ms, 50 + 50);
  EXPECT_EQ(k[0].totals.good_count, 5 + 5);
  EXPECT_EQ(k[0].totals.ideal_us, (10 + 2) * 500'000);  // 12 parts (2 rejects) at the override
  EXPECT_EQ(k[0].totals.reject_ideal_us, 2 * 500'000);
  EXPECT_EQ(k[1].run, "WO-2");
  EXPECT_EQ(k[1].totals.ideal_us, 999);  // no override: the totals' own
}

}  // namespace
}  // namespace oee
