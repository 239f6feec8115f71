// PostgreSQL away during ingest: the resilient store (circuit breaker + local spill) keeps
// accepting events while the database is stopped, serves cached KPIs marked stale, and catches up
// when it is back: nothing lost, nothing twice, KPIs equal to an undisturbed run.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "oee/core/shift_calendar.h"
#include "oee/storage/postgres_store.h"
#include "oee/storage/resilient_store.h"
#include "storage_test_support.h"
#include "store_backends.h"

namespace oee::storage {
namespace {

using namespace testing;
using namespace std::chrono;

// The outage length: 60 s by default (the acceptance figure); OEE_PG_OUTAGE_S shortens it locally.
int outage_seconds() {
  const char* s = std::getenv("OEE_PG_OUTAGE_S");
  return s ? std::max(1, std::atoi(s)) : 60;
}

TEST(PostgresFaults, DatabaseStoppedDuringIngestLosesNothingAndKpisEqualTheUndisturbedRun) {
  const PlantModel plant = test_plant(2, 2);
  const FixedOffsetZone zone(kMsPerHour, "+01:00");
  const ShiftCalendar cal(plant, zone);
  const TimeMs lo = at("2026-11-10T00:00:00Z"), hi = at("2026-11-12T00:00:00Z");
  const std::vector<Event> all = plant_events(plant, 70, lo, hi, 30'000);
  // Batches with a few events of the previous one resent (a lost acknowledgement).
  std::vector<std::vector<Event>> batches;
  for (std::size_t i = 0; i < all.size(); i += 100) {
    std::vector<Event> b(all.begin() + static_cast<std::ptrdiff_t>(i),
                         all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), i + 100)));
    if (i > 0) b.insert(b.end(), all.begin() + static_cast<std::ptrdiff_t>(i - 3), all.begin() + static_cast<std::ptrdiff_t>(i));
    batches.push_back(std::move(b));
  }
  auto windows = [&](EventStore& s) {
    std::vector<KpiTotals> out;
    for (const MachineSpec* m : plant.machines())
      for (TimeMs f = lo; f < hi; f += 5 * kMsPerHour) out.push_back(s.machine_totals(*m, f, f + 5 * kMsPerHour, kTimeMax));
    return out;
  };
  std::vector<KpiTotals> want;
  {
    // The undisturbed run.
    SqliteBackend sqlite;
    auto s = sqlite.open(sqlite.new_location(), plant, cal, {});
    for (const auto& b : batches) s->append(b, hi);
    want = windows(*s);
  }

  PostgresBackend pg;
  PostgresCluster& cluster = shared_postgres();
  const std::string url = pg.new_location();
  TempDir dir;
  ResilienceOptions options;
  options.spill_path = dir.file("spill.log");
  options.open_wait_ms_min = 500;
  options.open_wait_ms_max = 4000;
  ResilientEventStore store([&] { return open_postgres_store(url, plant, cal); }, options);

  // Ingest paced so that the outage falls in the middle of it.
  const int outage_s = outage_seconds();
  const auto pace = milliseconds((outage_s + 6) * 1000 / static_cast<int>(batches.size()));
  const MachineSpec& m0 = *plant.machines()[0];
  std::atomic<std::size_t> sent{0};
  std::atomic<bool> failed{false};
  std::thread ingest([&] {
    for (const auto& b : batches) {
      try {
        store.append(b, hi);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "append threw: " << e.what();
        failed = true;
        return;
      }
      ++sent;
      std::this_thread::sleep_for(pace);  // the subject: ingest goes on across the outage
    }
  });
  // About two seconds' worth of batches stored before the outage.
  const std::size_t before_outage = batches.size() * 2 / static_cast<std::size_t>(outage_s + 6);
  const auto started = steady_clock::now();
  while (sent < before_outage && !failed && steady_clock::now() < started + seconds(60))
    std::this_thread::sleep_for(milliseconds(10));
  EXPECT_GE(sent.load(), before_outage);  // not ASSERT: the ingest thread is joined below
  // A KPI read before the outage is what a stale read serves during it.
  const KpiTotals before = store.machine_totals(m0, lo, lo + kMsPerHour, kTimeMax);
  cluster.stop("immediate");  // like a crash: recovery from the WAL on restart
  const auto outage_end = steady_clock::now() + seconds(outage_s);
  const std::size_t sent_at_stop = sent;
  const auto breaker_open = [&] {
    const ResilienceStatus s = store.status();
    return s.breaker == BreakerState::open && s.spilled_events > 0;
  };
  while (!breaker_open() && steady_clock::now() < outage_end) std::this_thread::sleep_for(milliseconds(10));
  const ResilienceStatus down = store.status();
  EXPECT_EQ(down.breaker, BreakerState::open) << down.last_error;
  EXPECT_GT(down.spilled_events, 0);
  EXPECT_EQ(store.machine_totals(m0, lo, lo + kMsPerHour, kTimeMax), before);
  EXPECT_TRUE(store.status().stale);
  EXPECT_THROW(store.machine_totals(m0, lo + kMsPerHour, lo + 2 * kMsPerHour, kTimeMax), StoreUnavailable);
  std::this_thread::sleep_until(outage_end);  // the subject: an outage of outage_seconds()
  EXPECT_GT(sent.load(), sent_at_stop) << "ingest went on during the outage";
  cluster.start();
  ingest.join();
  ASSERT_FALSE(failed);
  // Caught up within a few breaker probes.
  const auto deadline = steady_clock::now() + seconds(30);
  while (!store.catch_up() && steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(store.status().spilled_events, 0);
  EXPECT_EQ(store.status().breaker, BreakerState::closed);

  // Nothing lost, nothing twice: the database holds each distinct event once.
  auto direct = open_postgres_store(url, plant, cal);
  std::int64_t distinct = 0;
  for (const MachineSpec* m : plant.machines()) {
    const auto stored = direct->machine_events(m->path, kTimeMin, kTimeMax);
    const auto sent_events = of_machine(all, m->path);
    distinct += static_cast<std::int64_t>(sent_events.size());
    EXPECT_EQ(stored.size(), sent_events.size()) << m->path;
  }
  EXPECT_EQ(direct->event_count(), distinct);
  EXPECT_EQ(windows(*direct), want);
  EXPECT_EQ(windows(store), want);
}

// One machine, a fresh database and a spill file: what the spill tests below start from.
struct OneMachineSpill {
  OneMachineSpill() {
    options.spill_path = dir.file("spill.log");
    options.open_wait_ms_min = 100;
  }
  const PlantModel plant = test_plant(1, 1);
  const FixedOffsetZone zone;
  const ShiftCalendar cal{plant, zone};
  const MachineSpec& m = *plant.machines()[0];
  PostgresBackend pg;
  const std::string url = pg.new_location();
  TempDir dir;
  ResilienceOptions options;
};

TEST(PostgresFaults, DatabaseDownAtStartSpillsAndCatchesUp) {
  OneMachineSpill f;
  const PlantModel& plant = f.plant;
  const ShiftCalendar& cal = f.cal;
  const MachineSpec& m = f.m;
  const std::string& url = f.url;
  ResilienceOptions& options = f.options;
  options.spill_bytes_max = 64 * 1024;
  const std::string wrong = url + "&port=1";  // nothing listens there
  std::string target = wrong;
  auto events = random_events(3, at("2026-11-10T00:00:00Z"), at("2026-11-10T12:00:00Z"), m.path);
  {
    ResilientEventStore store([&] { return open_postgres_store(target, plant, cal); }, options);
    EXPECT_EQ(store.status().consecutive_failures, 1);
    // Three consecutive failures open the breaker; then calls do not reach the database.
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < events.size(); i += 10) {
      try {
        accepted += store.append(std::span(events).subspan(i, std::min<std::size_t>(10, events.size() - i)), 0).inserted;
      } catch (const StoreUnavailable&) {
        break;  // the spill is full: refused, not lost (the caller does not acknowledge)
      }
    }
    EXPECT_GT(accepted, 0u);
    EXPECT_LE(store.status().spill_bytes, options.spill_bytes_max);
    EXPECT_EQ(store.status().breaker, BreakerState::open);
    EXPECT_THROW(store.machine_events(m.path, kTimeMin, kTimeMax), StoreUnavailable);
    events.resize(accepted);
  }
  // A restarted server finds the spill and delivers it once the database is reachable.
  target = url;
  ResilientEventStore store([&] { return open_postgres_store(target, plant, cal); }, options);
  EXPECT_GT(store.status().spilled_events, 0);
  EXPECT_TRUE(store.catch_up());
  EXPECT_EQ(store.status().spilled_events, 0);
  EXPECT_EQ(store.event_count(), static_cast<std::int64_t>(MachineHistory::build(m, events).distinct_events()));
}

// After a failover the ingest may pause: with replay_in_background (the server's setting) the store
// replays its spill by itself once the database answers, with no further call to it.
TEST(PostgresFaults, ASpillIsReplayedInTheBackgroundWithoutAnotherCall) {
  OneMachineSpill f;
  f.options.replay_in_background = true;
  const auto events = random_events(4, at("2026-11-10T00:00:00Z"), at("2026-11-10T06:00:00Z"), f.m.path);
  std::atomic<bool> reachable{false};
  const std::string away = f.url + "&port=1";  // nothing listens there
  ResilientEventStore store([&] { return open_postgres_store(reachable ? f.url : away, f.plant, f.cal); }, f.options);
  EXPECT_EQ(store.append(events, 0).inserted, events.size());
  ASSERT_EQ(store.status().spilled_events, static_cast<std::int64_t>(events.size()));
  reachable = true;
  // The database's own count, not the store's: a read through the store would replay the spill.
  auto direct = open_postgres_store(f.url, f.plant, f.cal);
  const auto want = static_cast<std::int64_t>(MachineHistory::build(f.m, events).distinct_events());
  const auto deadline = steady_clock::now() + seconds(30);
  while (direct->event_count() < want && steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(direct->event_count(), want);
  EXPECT_EQ(store.status().spilled_events, 0);
  EXPECT_EQ(store.status().breaker, BreakerState::closed);
}

// An event spilled while the database was away, sent under the identity of a stored one with other
// content (a PLC that reused a seq): when the spill is replayed it is kept as a conflict, as it would
// have been had the database taken it at once, never dropped as a plain duplicate.
TEST(PostgresFaults, ASpilledEventUnderAStoredIdentityWithOtherContentBecomesAConflictWhenReplayed) {
  OneMachineSpill f;
  const PlantModel& plant = f.plant;
  const ShiftCalendar& cal = f.cal;
  const MachineSpec& m = f.m;
  const std::string& url = f.url;
  ResilienceOptions& options = f.options;
  const auto events = random_events(5, at("2026-11-10T00:00:00Z"), at("2026-11-10T01:00:00Z"), m.path, GeneratorOptions{60'000, true, false, "plc"});
  ASSERT_EQ(open_postgres_store(url, plant, cal)->append(events, 0).inserted, events.size());
  Event reused = events[events.size() / 2];
  reused.reason += "-other";
  reused.ts += 1;
  const std::vector<Event> resent{reused, events.front()};
  std::string target = url + "&port=1";  // the database away: nothing listens there
  {
    ResilientEventStore away([&] { return open_postgres_store(target, plant, cal); }, options);
    EXPECT_EQ(away.append(resent, 0).inserted, resent.size());  // spilled: whether new is not known yet
    ASSERT_EQ(away.status().spilled_events, 2);
  }
  target = url;
  ResilientEventStore store([&] { return open_postgres_store(target, plant, cal); }, options);
  ASSERT_TRUE(store.catch_up());
  EXPECT_EQ(store.event_count(), static_cast<std::int64_t>(events.size()));
  const std::vector<Conflict> conflicts = store.conflicts(0, 10);
  ASSERT_EQ(conflicts.size(), 1u);  // the identical resend is a plain duplicate
  EXPECT_EQ(conflicts[0].src, "plc");
  EXPECT_EQ(conflicts[0].seq, reused.seq);
  EXPECT_FALSE(conflicts[0].stored_json.empty());
  EXPECT_NE(conflicts[0].stored_json, conflicts[0].received_json);
}

}  // namespace
}  // namespace oee::storage
