// SQLite reads run on their own read-only connections, each in a WAL snapshot (docs/storage.md):
// an append commits while a read holds its snapshot open, the read keeps seeing the store as it was
// when it began, a new read sees the append; and reads running beside a stream of appends each see
// a whole number of appends, with totals equal, bit for bit, to the engine over those events.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "oee/storage/event_store.h"
#include "storage_test_support.h"

namespace oee::storage {
namespace {

using namespace testing;

KpiTotals engine_totals(const PlantModel& plant, const ShiftCalendar& cal, const std::vector<Event>& events, TimeMs from, TimeMs to) {
  KpiTotals sum;
  for (const MachineSpec* m : plant.machines())
    sum += oee::machine_totals(MachineHistory::build(*m, of_machine(events, m->path)), cal, from, to, kTimeMax);
  return sum;
}

// A SQLite store over a test plant in a temporary directory.
struct SqliteOf {
  explicit SqliteOf(PlantModel p) : plant(std::move(p)), cal(plant, zone), store(open_sqlite_store(dir.file("s.db"), plant, cal)) {}
  PlantModel plant;
  FixedOffsetZone zone;
  ShiftCalendar cal;
  TempDir dir;
  std::unique_ptr<EventStore> store;
};

TEST(SqliteReadConnections, AnAppendCommitsWhileAReadHoldsItsSnapshot) {
  SqliteOf s(test_plant(1, 1));
  const PlantModel& plant = s.plant;
  const ShiftCalendar& cal = s.cal;
  auto& store = s.store;
  ASSERT_TRUE(store->reads_beside_writes());
  const MachineSpec& m = *plant.machines()[0];
  const TimeMs lo = at("2026-11-10T00:00:00Z"), mid = at("2026-11-11T00:00:00Z"), hi = at("2026-11-12T00:00:00Z");
  GeneratorOptions o;
  o.src = "first";
  const auto first = random_events(1, lo, mid, m.path, o);
  o.src = "second";
  const auto second = random_events(2, mid, hi, m.path, o);
  auto both = first;
  both.insert(both.end(), second.begin(), second.end());
  store->append(first, mid);
  const KpiTotals before = store->machine_totals(m, lo, hi, kTimeMax);
  ASSERT_EQ(before, engine_totals(plant, cal, first, lo, hi));

  auto pinned = store->pin_reads();
  ASSERT_NE(pinned, nullptr);
  EXPECT_EQ(store->machine_events(m.path, lo, hi).size(), first.size());
  // The append runs on another thread and commits while this thread's snapshot is open: join()
  // returning is the proof that it did not wait for the read.
  AppendResult appended;
  std::thread writer([&] { appended = store->append(second, hi); });
  writer.join();
  ASSERT_EQ(appended.inserted, second.size());
  // The open read still sees the store as it was, rollups and machine state included.
  EXPECT_EQ(store->machine_events(m.path, lo, hi).size(), first.size());
  EXPECT_EQ(store->machine_totals(m, lo, hi, kTimeMax), before);
  EXPECT_EQ(store->machine_history(m, lo, hi).last_event_ts(), first.back().ts);
  // A new read (another thread) sees the append.
  std::size_t seen_by_new_read = 0;
  KpiTotals new_totals;
  std::thread reader([&] {
    seen_by_new_read = store->machine_events(m.path, lo, hi).size();
    new_totals = store->machine_totals(m, lo, hi, kTimeMax);
  });
  reader.join();
  EXPECT_EQ(seen_by_new_read, both.size());
  EXPECT_EQ(new_totals, engine_totals(plant, cal, both, lo, hi));
  pinned.reset();
  EXPECT_EQ(store->machine_events(m.path, lo, hi).size(), both.size());
  EXPECT_EQ(store->machine_totals(m, lo, hi, kTimeMax), engine_totals(plant, cal, both, lo, hi));
}

TEST(SqliteReadConnections, ReadsBesideAppendsSeeWholeAppendsEqualToTheEngine) {
  SqliteOf s(test_plant(2, 2));
  const PlantModel& plant = s.plant;
  const ShiftCalendar& cal = s.cal;
  auto& store = s.store;
  const TimeMs lo = at("2026-11-10T00:00:00Z");
  constexpr int kBatches = 12;
  const TimeMs hi = lo + kBatches * 4 * kMsPerHour;
  const auto events = plant_events(plant, 7, lo, hi, 120'000);
  // Batches of 4 hours each; the totals of the whole range after each number of batches.
  std::vector<std::vector<Event>> batches(kBatches);
  for (const Event& e : events) batches[static_cast<std::size_t>((e.ts - lo) / (4 * kMsPerHour))].push_back(e);
  std::vector<KpiTotals> after{engine_totals(plant, cal, {}, lo, hi)};
  std::vector<Event> so_far;
  for (const auto& b : batches) {
    so_far.insert(so_far.end(), b.begin(), b.end());
    after.push_back(engine_totals(plant, cal, so_far, lo, hi));
  }
  const auto machines = plant.machines();
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, unexpected{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r)
    readers.emplace_back([&] {
      do {
        const KpiTotals t = store->machines_totals(machines, lo, hi, kTimeMax);
        if (std::find(after.begin(), after.end(), t) == after.end()) ++unexpected;
        ++reads;
      } while (!done.load());
    });
  for (const auto& b : batches) store->append(b, hi);
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(unexpected.load(), 0) << "of " << reads.load() << " reads";
  EXPECT_EQ(store->machines_totals(machines, lo, hi, kTimeMax), after.back());
}

}  // namespace
}  // namespace oee::storage
