#include <gtest/gtest.h>

#include <limits>

#include "oee/core/count_bounds.h"
#include "oee/core/kpi.h"
#include "test_events.h"

namespace oee {

namespace {

Event running(TimeMs ts) {
  Event e;
  e.ts = ts;
  e.type = EventType::state;
  e.state = "running";
  return e;
}
Event product(TimeMs ts, const char* p) {
  Event e;
  e.ts = ts;
  e.type = EventType::product;
  e.product = p;
  return e;
}

MachineSpec machine(std::int64_t cycle_us = 1'000'000) {
  MachineSpec m;
  m.id = m.path = "m";
  m.ideal_cycle_us = cycle_us;
  return m;
}

KpiTotals totals(const MachineHistory& h, TimeMs from = 0, TimeMs to = 100'000'000) {
  static const PlantModel plant;
  static const FixedOffsetZone utc;
  static const ShiftCalendar cal(plant, utc);
  return machine_totals(h, cal, from, to, to);
}

constexpr auto T = CounterName::total;
constexpr auto G = CounterName::good;
constexpr auto R = CounterName::reject;

}  // namespace

TEST(CounterProduction, AllThreeCountersCountEachPartOnce) {
  const MachineSpec m = machine();
  const std::vector<Event> events = {running(0),          counter(0, T, 0),        counter(0, G, 0),
                                     counter(0, R, 0),    counter(200'000, T, 100), counter(200'000, G, 90),
                                     counter(200'000, R, 10)};
  const MachineHistory h = MachineHistory::build(m, events);
  const KpiTotals t = totals(h);
  EXPECT_EQ(t.good_count, 90);
  EXPECT_EQ(t.reject_count, 10);
  EXPECT_EQ(t.total_count(), 100);
  EXPECT_EQ(t.ideal_us, 100 * 1'000'000);
  EXPECT_TRUE(h.data_quality().empty());
}

// Every combination of counters: good and reject are authoritative, total fills in the rest.
TEST(CounterProduction, EachCombinationCountsTotalOnlyForWhatGoodAndRejectDoNotCover) {
  struct Case {
    bool total, good, reject;
    std::int64_t want_good, want_reject;
  };
  // Readings go from 0 to total 100, good 90, reject 10 over 1000 s.
  const Case cases[] = {{true, false, false, 100, 0}, {false, true, false, 90, 0}, {false, false, true, 0, 10},
                        {true, true, false, 90, 10},  {true, false, true, 90, 10}, {false, true, true, 90, 10},
                        {true, true, true, 90, 10}};
  const MachineSpec m = machine();
  for (const Case& c : cases) {
    std::vector<Event> events = {running(0)};
    for (TimeMs ts : {TimeMs{0}, TimeMs{500'000}, TimeMs{1'000'000}}) {
      const std::int64_t k = ts / 500'000;  // 0, 1, 2: halves of the production
      if (c.total) events.push_back(counter(ts, T, 50 * k));
      if (c.good) events.push_back(counter(ts, G, 45 * k));
      if (c.reject) events.push_back(counter(ts, R, 5 * k));
    }
    const MachineHistory h = MachineHistory::build(m, events);
    const KpiTotals t = totals(h);
    SCOPED_TRACE(testing::Message() << "total " << c.total << " good " << c.good << " reject " << c.reject);
    EXPECT_EQ(t.good_count, c.want_good);
    EXPECT_EQ(t.reject_count, c.want_reject);
    EXPECT_TRUE(h.data_quality().empty());
  }
}

TEST(CounterProduction, TotalDisagreeingWithGoodPlusRejectIsFlaggedNotChosen) {
  const MachineSpec m = machine();
  const std::vector<Event> events = {running(0),         counter(0, T, 0),          counter(0, G, 0),
                                     counter(0, R, 0),   counter(100'000, T, 10),   counter(100'000, G, 5),
                                     counter(100'000, R, 2), counter(200'000, T, 20), counter(200'000, G, 13),
                                     counter(200'000, R, 4)};
  const MachineHistory h = MachineHistory::build(m, events);
  const KpiTotals t = totals(h);
  EXPECT_EQ(t.good_count, 13);  // good and reject are authoritative
  EXPECT_EQ(t.reject_count, 4);
  ASSERT_EQ(h.data_quality().size(), 1u);  // the second instant adds up (10 = 8 + 2)
  EXPECT_EQ(h.data_quality()[0], (DataQualityIssue{100'000, DataQualityKind::counter_mismatch, T, 3}));
}

TEST(CounterProduction, DerivedCountGoingNegativeIsFlagged) {
  const MachineSpec m = machine();
  // total + reject: the reject counter moves by more than the total.
  const std::vector<Event> events = {running(0), counter(0, T, 0), counter(0, R, 0), counter(100'000, T, 3),
                                     counter(100'000, R, 5)};
  const MachineHistory h = MachineHistory::build(m, events);
  EXPECT_EQ(totals(h).good_count, -2);
  ASSERT_EQ(h.data_quality().size(), 1u);
  EXPECT_EQ(h.data_quality()[0].kind, DataQualityKind::counter_mismatch);
  EXPECT_EQ(h.data_quality()[0].amount, -2);
}

// A good counter that appears mid-history takes over from total - reject without counting the
// parts of its first reading twice; one that disappears leaves the mismatch visible.
TEST(CounterProduction, CounterAppearingMidHistoryNeitherDoublesNorLosesParts) {
  const MachineSpec m = machine();
  const std::vector<Event> events = {running(0),
                                     counter(0, T, 1000),
                                     counter(0, R, 50),
                                     counter(100'000, T, 1050),  // 48 good, 2 reject
                                     counter(100'000, R, 52),
                                     counter(200'000, T, 1100),  // good appears: 50 good (total - reject)
                                     counter(200'000, G, 7000),
                                     counter(300'000, T, 1140),  // 39 good, 1 reject
                                     counter(300'000, G, 7039),
                                     counter(300'000, R, 53)};
  const MachineHistory h = MachineHistory::build(m, events);
  const KpiTotals t = totals(h);
  EXPECT_EQ(t.good_count, 48 + 50 + 39);
  EXPECT_EQ(t.reject_count, 3);
  EXPECT_TRUE(h.data_quality().empty());

  std::vector<Event> gone = events;
  gone.push_back(counter(400'000, T, 1150));  // good and reject no longer report: visible
  const MachineHistory g = MachineHistory::build(m, gone);
  EXPECT_EQ(totals(g).total_count(), 140);
  ASSERT_EQ(g.data_quality().size(), 1u);
  EXPECT_EQ(g.data_quality()[0].amount, 10);
}

// A window that starts mid-stream sees each counter's last reading before it (as the store's
// context gives) and gets the same counts and warnings as the whole history.
TEST(CounterProduction, WindowFromLastReadingsGivesTheSameCountsAsTheWholeHistory) {
  const MachineSpec m = machine(100'000);
  std::vector<Event> all = {running(0)};
  std::int64_t tot = 60'000, good = 100, rej = 0;
  for (TimeMs ts = 0; ts < 7'200'000; ts += 60'000) {
    const std::int64_t made = (ts / 60'000) % 7 * 37, bad = made / 10;
    tot = (tot + made) % 65'536;
    good += made - bad;
    rej += bad;
    all.push_back(counter(ts, T, tot, 65'536));
    if (ts >= 1'200'000) all.push_back(counter(ts, G, good));  // good appears after 20 minutes
    all.push_back(counter(ts, R, rej + (ts == 5'400'000 ? 1 : 0)));  // one reading off: a mismatch
  }
  const MachineHistory whole = MachineHistory::build(m, all);
  const TimeMs base = 3'600'000;
  std::vector<Event> part = {running(0)};
  std::array<const Event*, 3> last{};
  for (const Event& e : all)
    if (e.type == EventType::counter && e.ts < base) last[static_cast<std::size_t>(e.counter)] = &e;
  for (const Event* e : last) part.push_back(*e);
  for (const Event& e : all)
    if (e.ts >= base) part.push_back(e);
  const MachineHistory window = MachineHistory::build(m, part);
  EXPECT_EQ(totals(whole, base, 7'200'000), totals(window, base, 7'200'000));
  EXPECT_GT(totals(window, base, 7'200'000).total_count(), 0);
  std::vector<DataQualityIssue> whole_after;
  for (const DataQualityIssue& d : whole.data_quality())
    if (d.ts >= base) whole_after.push_back(d);
  EXPECT_EQ(whole_after, window.data_quality());
  EXPECT_EQ(whole_after.size(), 2u);  // off by one, then back
}

TEST(CounterProduction, PlausibleWrapIsARolloverImplausibleOneIsAFlaggedReset) {
  const MachineSpec m = machine(1'000'000);  // one part a second
  // 60 s after 65,500: a wrap to 20 means 56 parts (< 2 x 60): a rollover.
  const std::vector<Event> wrap = {running(0), counter(0, T, 65'500, 65'536), counter(60'000, T, 20, 65'536)};
  const MachineHistory h = MachineHistory::build(m, wrap);
  EXPECT_EQ(totals(h).good_count, 56);
  EXPECT_TRUE(h.data_quality().empty());

  // 60 s after 34,966: a drop to 20 read as a wrap means 30,590 parts: a PLC reset.
  const std::vector<Event> reset = {running(0), counter(0, T, 34'966, 65'536), counter(60'000, T, 20, 65'536),
                                    counter(61'000, T, 21, 65'536)};
  const MachineHistory r = MachineHistory::build(m, reset);
  EXPECT_EQ(totals(r).good_count, 20 + 1);  // counted from zero, as a reset without rollover
  ASSERT_EQ(r.data_quality().size(), 1u);
  EXPECT_EQ(r.data_quality()[0], (DataQualityIssue{60'000, DataQualityKind::counter_reset, T, 30'590}));
}

TEST(CounterProduction, DecreaseBelowAChangedRolloverIsAResetNotANegativeWrap) {
  const MachineSpec m = machine(1'000);
  // Read as 32-bit first, then as 16-bit: 5 + 65,536 - 70,000 would be a negative wrap.
  const std::vector<Event> events = {running(0), counter(0, T, 70'000, 1LL << 32), counter(60'000, T, 5, 65'536)};
  const MachineHistory h = MachineHistory::build(m, events);
  EXPECT_EQ(totals(h).good_count, 5);
  ASSERT_EQ(h.data_quality().size(), 1u);
  EXPECT_EQ(h.data_quality()[0].kind, DataQualityKind::counter_reset);
}

TEST(CounterProduction, PlausibleRateFollowsTheProductInEffect) {
  MachineSpec m = machine(1'000'000);
  m.product_cycle_us = {{"fast", 10'000}};  // 100 parts a second
  // 10 s, wrap of 536 parts: implausible at 1/s (limit 20), plausible at 100/s (limit 2,000).
  const std::vector<Event> slow = {running(0), counter(0, T, 65'000, 65'536), counter(10'000, T, 0, 65'536)};
  EXPECT_EQ(MachineHistory::build(m, slow).data_quality().size(), 1u);
  std::vector<Event> fast = slow;
  fast.push_back(product(0, "fast"));
  const MachineHistory h = MachineHistory::build(m, fast);
  EXPECT_TRUE(h.data_quality().empty());
  EXPECT_EQ(totals(h).good_count, 536);
}

TEST(CounterProduction, OutOfRangeValuesAreLeftOutAndFlagged) {
  const MachineSpec m = machine();
  Event big_count;
  big_count.ts = 5;
  big_count.type = EventType::count;
  big_count.good = kMaxCount + 1;
  const std::vector<Event> events = {running(0), counter(0, T, 0), counter(10, T, kMaxCount + 1),
                                     counter(20, T, 5), counter(30, T, -1), big_count};
  const MachineHistory h = MachineHistory::build(m, events);
  EXPECT_EQ(totals(h).good_count, 5);
  EXPECT_EQ(h.ignored_events(), 3u);
  ASSERT_EQ(h.data_quality().size(), 3u);
  EXPECT_EQ(h.data_quality()[0], (DataQualityIssue{5, DataQualityKind::out_of_range, T, kMaxCount + 1}));
  EXPECT_EQ(h.data_quality()[1].amount, kMaxCount + 1);
  EXPECT_EQ(h.data_quality()[2].amount, -1);
}

// The largest valid values with the longest cycle the plant file allows (10^6 s) overflow int64 in
// ideal time: it saturates instead (run under -DOEE_SANITIZE=ON to see no UB is left).
TEST(CounterProduction, ExtremeButValidValuesSaturateInsteadOfOverflowing) {
  const MachineSpec m = machine(1'000'000'000'000);
  std::vector<Event> events = {running(0)};
  for (TimeMs ts = 1; ts <= 64; ++ts) {
    Event e;
    e.ts = ts;
    e.type = EventType::count;
    e.good = kMaxCount;
    e.reject = kMaxCount;
    events.push_back(e);
  }
  events.push_back(counter(100, T, 0, kMaxCount));
  events.push_back(counter(200, T, kMaxCount - 1, kMaxCount));
  const MachineHistory h = MachineHistory::build(m, events);
  KpiTotals t = totals(h);
  EXPECT_EQ(t.good_count, 64 * kMaxCount + kMaxCount - 1);
  EXPECT_EQ(t.ideal_us, std::numeric_limits<std::int64_t>::max());
  KpiTotals sum = t;
  sum += t;  // a line of such machines
  EXPECT_EQ(sum.ideal_us, std::numeric_limits<std::int64_t>::max());
  const KpiFigures f = derive_figures(sum);
  EXPECT_LT(f.speed_loss_s, 0);
}

}  // namespace oee
