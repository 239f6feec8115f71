// machines_totals (a line, an area, the plant in one call) equals the sum of the engine's totals
// of each machine over all its events, bit for bit, for any group, window and horizon, on every
// backend: while late and duplicated events arrive, after a reopen, and after retention (then
// against the sum of the store's own machine_totals, since the old events are gone).
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

// Random groups: single machines, lines, arbitrary subsets, the whole plant, a machine twice.
std::vector<const MachineSpec*> random_group(const std::vector<const MachineSpec*>& all, std::mt19937_64& rng) {
  std::vector<const MachineSpec*> group;
  switch (rng() % 5) {
    case 0: group = all; break;
    case 1: group.push_back(all[rng() % all.size()]); break;
    case 2: {  // a contiguous run (a line)
      const std::size_t first = rng() % all.size(), n = 1 + rng() % (all.size() - first);
      group.assign(all.begin() + static_cast<std::ptrdiff_t>(first), all.begin() + static_cast<std::ptrdiff_t>(first + n));
      break;
    }
    case 3:
      for (const MachineSpec* m : all)
        if (rng() % 3 != 0) group.push_back(m);
      break;
    default:
      group = all;
      group.push_back(all[rng() % all.size()]);
      std::shuffle(group.begin(), group.end(), rng);
      break;
  }
  return group;
}

class StoreGroupTotals : public ::testing::TestWithParam<const char*> {};

TEST_P(StoreGroupTotals, EqualTheSumOfTheEnginePerMachine) {
  const PlantModel plant = test_plant(3, 4, 10 * kMsPerMinute);
  const FixedOffsetZone zone(kMsPerHour, "+01:00");
  const ShiftCalendar cal(plant, zone);
  const auto machines = plant.machines();
  const TimeMs lo = at("2026-11-10T00:00:00Z"), hi = lo + 3 * kMsPerDay;
  std::mt19937_64 rng(17);
  std::vector<Event> on_time, late;
  for (Event& e : plant_events(plant, 40, lo, hi, 300'000, true)) (rng() % 10 == 0 ? late : on_time).push_back(std::move(e));
  std::shuffle(late.begin(), late.end(), rng);

  auto backend = make_backend(GetParam());
  const std::string location = backend->new_location();
  StoreOptions options;
  options.retention_days = 1;
  auto store = backend->open(location, plant, cal, options);
  std::map<std::string, std::vector<Event>> delivered;
  TimeMs last_ts = lo;
  auto check = [&](int windows, const std::string& label) {
    std::map<std::string, MachineHistory> ref;
    for (const MachineSpec* m : machines) ref.emplace(m->path, MachineHistory::build(*m, delivered[m->path]));
    for (int i = 0; i < windows; ++i) {
      const auto group = random_group(machines, rng);
      const QueryWindow w = random_query_window(lo, hi, last_ts, i, rng);
      KpiTotals want;
      for (const MachineSpec* m : group) want += oee::machine_totals(ref.at(m->path), cal, w.from, w.to, w.horizon);
      ASSERT_EQ(store->machines_totals(group, w.from, w.to, w.horizon), want)
          << label << " window " << i << ": " << group.size() << " machines [" << format_rfc3339(w.from) << ", "
          << format_rfc3339(w.to) << ")";
    }
  };
  std::size_t next = 0, next_late = 0, batches = 0;
  while (next < on_time.size() || next_late < late.size()) {
    std::vector<Event> batch;
    for (std::size_t n = 1 + rng() % 400; n > 0 && next < on_time.size(); --n) batch.push_back(on_time[next++]);
    if (next_late < late.size() && (next >= on_time.size() || rng() % 4 == 0))
      for (std::size_t k = 1 + rng() % 8; k > 0 && next_late < late.size(); --k) batch.push_back(late[next_late++]);
    if (batch.size() > 2) batch.push_back(batch[rng() % batch.size()]);  // a duplicate
    store->append(batch, hi);
    for (const Event& e : batch) {
      delivered[e.machine].push_back(e);
      last_ts = std::max(last_ts, e.ts);
    }
    if (++batches % 15 == 0) check(8, "batch " + std::to_string(batches));
  }
  check(60, "final");
  store.reset();
  store = backend->open(location, plant, cal, options);
  check(30, "reopened");

  // After retention the store no longer has the old events: the group equals its machines' sum.
  ASSERT_GT(store->apply_retention(hi).events, 0);
  for (int i = 0; i < 40; ++i) {
    const auto group = random_group(machines, rng);
    const QueryWindow w = random_query_window(lo, hi, last_ts, i, rng);
    KpiTotals want;
    for (const MachineSpec* m : group) want += store->machine_totals(*m, w.from, w.to, w.horizon);
    ASSERT_EQ(store->machines_totals(group, w.from, w.to, w.horizon), want)
        << "after retention, window " << i << ": [" << format_rfc3339(w.from) << ", " << format_rfc3339(w.to) << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreGroupTotals, ::testing::ValuesIn(kBackends), backend_name);

}  // namespace
}  // namespace oee::storage
