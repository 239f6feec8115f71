// The key property of the store (every backend): machine_totals (rollups for settled hours + the engine for the
// rest) equals the engine over every event of the machine, bit for bit, whatever the order,
// batching, duplication and lateness of the events, for any window and horizon.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "oee/core/shift_calendar.h"
#include "oee/storage/event_store.h"
#include "storage_test_support.h"
#include "store_backends.h"

namespace oee::storage {
namespace {

using namespace testing;

std::vector<Event> sorted_for(const MachineSpec& m, const std::vector<Event>& all) {
  std::vector<Event> out;
  for (const Event& e : all)
    if (e.machine == m.path) out.push_back(e);
  return out;
}

struct Checker {
  const PlantModel& plant;
  const ShiftCalendar& cal;
  std::map<std::string, std::vector<Event>> delivered;  // per machine, duplicates included
  std::mt19937_64 rng{99};

  void check(EventStore& store, TimeMs lo, TimeMs hi, int windows, const std::string& label) {
    for (const MachineSpec* spec : plant.machines()) {
      const auto& events = delivered[spec->path];
      const MachineHistory ref = MachineHistory::build(*spec, events);
      TimeMs last_ts = lo;
      for (const Event& e : events) last_ts = std::max(last_ts, e.ts);
      auto rnd = [&](TimeMs a, TimeMs b) { return a + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(b - a)); };
      for (int i = 0; i < windows; ++i) {
        const auto [from, to, horizon] = random_query_window(lo, hi, last_ts, i, rng);
        const KpiTotals want = oee::machine_totals(ref, cal, from, to, horizon);
        const KpiTotals got = store.machine_totals(*spec, from, to, horizon);
        ASSERT_EQ(got, want) << label << " " << spec->path << " [" << format_rfc3339(from) << ", " << format_rfc3339(to)
                             << ") horizon " << (horizon == kTimeMax ? std::string("max") : format_rfc3339(horizon))
                             << " got run " << got.run_ms() << " want " << want.run_ms();
      }
      // The history served for a window answers like the full one inside it.
      const TimeMs from = rnd(lo, hi), to = from + rnd(1, 6 * kMsPerHour);
      const MachineHistory part = store.machine_history(*spec, from, to);
      ASSERT_EQ(oee::machine_totals(part, cal, from, to, to), oee::machine_totals(ref, cal, from, to, to))
          << label << " machine_history " << spec->path;
    }
  }
};

void run_property(const char* backend_name, std::uint64_t seed, double late_fraction, double dup_fraction, std::size_t max_batch,
                  DurationMs max_step_ms, int days = 3) {
  const PlantModel plant = test_plant(2, 2, 5 * kMsPerMinute);
  const FixedOffsetZone zone(kMsPerHour, "+01:00");
  const ShiftCalendar cal(plant, zone);
  const TimeMs lo = at("2026-11-10T00:00:00Z"), hi = lo + days * kMsPerDay;
  std::vector<Event> all = plant_events(plant, seed, lo, hi, max_step_ms, true, "gen-");
  std::mt19937_64 rng(seed * 7 + 1);
  // Arrival: in time order (interleaved machines), but some events held back and delivered late.
  std::vector<Event> on_time, late;
  for (Event& e : all) ((rng() % 10000) < late_fraction * 10000 ? late : on_time).push_back(std::move(e));
  std::shuffle(late.begin(), late.end(), rng);

  auto backend = make_backend(backend_name);
  const std::string location = backend->new_location();
  auto store = backend->open(location, plant, cal);
  Checker checker{plant, cal, {}, std::mt19937_64(seed)};
  std::size_t next = 0, next_late = 0, batches = 0;
  std::vector<Event> sent;
  while (next < on_time.size() || next_late < late.size()) {
    std::vector<Event> batch;
    const std::size_t n = 1 + rng() % max_batch;
    for (std::size_t i = 0; i < n && next < on_time.size(); ++i) batch.push_back(on_time[next++]);
    // Late events trickle in, and the rest arrives at the end.
    if (next_late < late.size() && (next >= on_time.size() || rng() % 4 == 0)) {
      const std::size_t k = 1 + rng() % 8;
      for (std::size_t i = 0; i < k && next_late < late.size(); ++i) batch.push_back(late[next_late++]);
    }
    if (!sent.empty())
      for (std::size_t i = 0; i < static_cast<std::size_t>(static_cast<double>(batch.size()) * dup_fraction) + (rng() % 2); ++i)
        batch.push_back(sent[rng() % sent.size()]);
    if (rng() % 3 == 0) std::shuffle(batch.begin(), batch.end(), rng);
    const AppendResult r = store->append(batch, hi);
    EXPECT_EQ(r.inserted + r.duplicates, batch.size());
    for (const Event& e : batch) {
      checker.delivered[e.machine].push_back(e);
      sent.push_back(e);
    }
    if (++batches % 40 == 0) checker.check(*store, lo, hi, 6, "batch " + std::to_string(batches));
  }
  checker.check(*store, lo, hi, 60, "final");
  // Everything once: the distinct count equals the store's count.
  std::int64_t distinct = 0;
  for (const MachineSpec* m : plant.machines())
    distinct += static_cast<std::int64_t>(MachineHistory::build(*m, checker.delivered[m->path]).distinct_events());
  EXPECT_EQ(store->event_count(), distinct);
  // Reopened, the tails rebuilt from the file answer the same.
  store.reset();
  store = backend->open(location, plant, cal);
  checker.check(*store, lo, hi, 30, "reopened");
}

class StoreRollups : public ::testing::TestWithParam<const char*> {};

// A machine silent for two hours, its edge's backlog delivered late: the store answers exactly
// like the data sent in order (results are a function of the stored events only), for the machine
// with no-data detection and the one without.
TEST_P(StoreRollups, ABackfilledSilenceGivesTheSameTotalsAsDataSentInOrder) {
  const PlantModel plant = test_plant(1, 2, 5 * kMsPerMinute);
  const FixedOffsetZone zone(kMsPerHour, "+01:00");
  const ShiftCalendar cal(plant, zone);
  const TimeMs lo = at("2026-11-10T00:00:00Z"), hi = lo + kMsPerDay;
  const TimeMs gap_from = lo + 8 * kMsPerHour, gap_to = lo + 10 * kMsPerHour;
  std::vector<Event> all = plant_events(plant, 5, lo, hi, 60'000);
  std::vector<Event> first, backlog;
  for (Event& e : all) (e.ts >= gap_from && e.ts < gap_to ? backlog : first).push_back(std::move(e));
  auto backend = make_backend(GetParam());
  const std::string in_order_at = backend->new_location(), backfilled_at = backend->new_location();
  auto in_order = backend->open(in_order_at, plant, cal);
  std::vector<Event> sorted = first;
  sorted.insert(sorted.end(), backlog.begin(), backlog.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const Event& a, const Event& b) { return a.ts < b.ts; });
  in_order->append(sorted, hi);
  auto backfilled = backend->open(backfilled_at, plant, cal);
  backfilled->append(first, hi);
  const MachineSpec& watched = *plant.machines()[1];
  ASSERT_GT(watched.no_data_after_ms, 0);
  // Before the backlog arrives the silence is no data.
  EXPECT_EQ(backfilled->machine_totals(watched, gap_from, gap_to, hi).no_data_ms, 2 * kMsPerHour);
  backfilled->append(backlog, hi);
  std::mt19937_64 rng(3);
  for (const MachineSpec* m : plant.machines())
    for (int i = 0; i < 40; ++i) {
      const QueryWindow w = random_query_window(lo, hi, hi, i, rng);
      ASSERT_EQ(backfilled->machine_totals(*m, w.from, w.to, w.horizon), in_order->machine_totals(*m, w.from, w.to, w.horizon))
          << m->path << " window " << i;
    }
  const KpiTotals day = in_order->machine_totals(watched, lo, hi, hi);
  EXPECT_EQ(day, oee::machine_totals(MachineHistory::build(watched, sorted_for(watched, sorted)), cal, lo, hi, hi));
}

TEST_P(StoreRollups, InOrderEventsEqualTheEngine) { run_property(GetParam(), 1, 0.0, 0.0, 300, 90'000); }
TEST_P(StoreRollups, ShuffledDuplicatedAndLateEventsEqualTheEngine) { run_property(GetParam(), 2, 0.1, 0.2, 200, 90'000); }
TEST_P(StoreRollups, SmallBatchesDenseEventsEqualTheEngine) { run_property(GetParam(), 3, 0.03, 0.1, 40, 30'000, 1); }
TEST_P(StoreRollups, SparseEventsManyLateEqualTheEngine) { run_property(GetParam(), 4, 0.4, 0.3, 50, 600'000); }

INSTANTIATE_TEST_SUITE_P(Backends, StoreRollups, ::testing::ValuesIn(kBackends), backend_name);

}  // namespace
}  // namespace oee::storage
