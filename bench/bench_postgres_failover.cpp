// Database failover time with pg_auto_failover: a formation of a monitor, a primary and a
// synchronous secondary (storage/tests/pg_auto_failover_cluster.h); the server's store (open_store:
// circuit breaker with the server's probes, 2 s doubling to 10 s, the local spill and its replay
// thread) on the multi-host URL with target_session_attrs=read-write, appending a batch of 100
// events every 10 ms (200,000 events: the ingest may end before a slow promotion, and the spill's
// replay is then the first write);
// the primary's postgres and keeper SIGKILLed at once (a machine lost). The figure is the wall time
// from the kill to the first event the store writes on the promoted secondary, its resumption (to
// ~10 ms: the wait polls; the replay of the spill that follows depends on how much was spilled);
// with the monitor's default health checks and with the short ones of docs/operations.md.
// The test (cli/tests/serve_postgres_failover_test.cpp) checks that nothing is lost; the time is here.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "../storage/tests/pg_auto_failover_cluster.h"
#include "mosquitto_process.h"
#include "oee/core/shift_calendar.h"
#include "oee/core/time_zone.h"
#include "oee/storage/open_store.h"
#include "oee/storage/postgres_store.h"
#include "oee/synthetic/generators.h"

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using namespace oee;

namespace {

// One failover: seconds from the kill to the first event stored on the new primary, or a negative
// value when that did not happen within three minutes.
double failover_s(bool short_health_checks) {
  storage::testing::PgAutoFailoverCluster cluster(testing::free_loopback_port, short_health_checks);
  const PlantModel plant = synthetic::bench_plant(1, 10);
  const FixedOffsetZone zone;
  const ShiftCalendar cal(plant, zone);
  const TimeMs start = *parse_timestamp("2026-10-01T00:00:00Z");
  const auto events = synthetic::interleaved_events(plant, 200'000, start, 30'000, 7);
  storage::migrate_postgres(cluster.url());
  const std::string data_dir = cluster.dir() + "/server";
  std::filesystem::create_directories(data_dir);
  const auto store = storage::open_store(cluster.url(), data_dir, plant, cal, {});
  std::atomic<bool> stop{false};
  std::thread ingest([&] {
    for (std::size_t i = 0; i < events.size() && !stop; i += 100) {
      try {
        store->append(std::span(events).subspan(i, std::min<std::size_t>(100, events.size() - i)), start);
      } catch (const std::exception& e) {  // the spill refused it: the bench is void
        std::fprintf(stderr, "append failed: %s\n", e.what());
        std::exit(1);
      }
      std::this_thread::sleep_for(10ms);  // the subject: a steady ingest across the failover
    }
  });
  double out = -1;
  if (testing::eventually([&] { return cluster.stored_events(0) > 0; }, 60s)) {
    const auto killed = Clock::now();
    cluster.kill_node(0);
    const std::int64_t at_kill = cluster.replayed_events(1);
    if (at_kill >= 0 && testing::eventually([&] { return cluster.stored_events(1) > at_kill; }, 180s))
      out = std::chrono::duration<double>(Clock::now() - killed).count();
  }
  stop = true;
  ingest.join();
  return out;
}

}  // namespace

int main() {
  const int rounds = std::getenv("BENCH_QUICK") != nullptr ? 1 : 3;
  for (const bool short_checks : {false, true}) {
    double worst = 0;
    for (int r = 0; r < rounds; ++r) {
      const double s = failover_s(short_checks);
      if (s < 0) {
        std::fprintf(stderr, "postgres failover round %d: the store did not resume on the secondary\n", r);
        return 1;
      }
      std::fprintf(stderr, "postgres failover (%s health checks) round %d: %.2f s\n", short_checks ? "short" : "default", r, s);
      worst = std::max(worst, s);
    }
    std::printf("BENCH\tdatabase failover (pg_auto_failover, %s checks): kill -9 primary -> first event stored on new, worst of %d (s)\t%.2f\ts\t-\t-\tlower\t< 60 (report)\n",
                short_checks ? "short" : "default", rounds, worst);
  }
  return 0;
}
