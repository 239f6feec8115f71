// PostgreSQL storage: (a) durable ingest events/s with dedup (COPY into staging + INSERT ... ON
// CONFLICT DO NOTHING, machines' rows and sources kept), 1,000 machines interleaved, batches of
// 10,000, beside `psql \copy` of the same rows into a plain table with the same unique key, in the
// same run on the same server; (b) KPI query latency (one machine over a month, and one line of 50
// machines over a month) with >= 10M events stored (BENCH_QUICK=1: 1M), beside the engine over
// the machine's events loaded from PostgreSQL; also a machine over a year, and the plant (1,000
// machines) over a month. The server is a throwaway PostgreSQL 15 cluster with
// the durability settings of production (fsync on, synchronous_commit on).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "../storage/tests/postgres_test_cluster.h"
#include "oee/core/shift_calendar.h"
#include "oee/core/time_zone.h"
#include "oee/storage/postgres_store.h"
#include "oee/synthetic/generators.h"

#include <libpq-fe.h>

using Clock = std::chrono::steady_clock;
using namespace oee;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double cpu_seconds() {  // user + system time of this process
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The same rows as the store's COPY (same columns and ids), for the psql baseline.
void write_copy_rows(const PlantModel& plant, const std::vector<Event>& events, const std::string& file) {
  std::map<std::string, int> machine_id, source_id;
  for (const MachineSpec* m : plant.machines()) machine_id[m->path] = static_cast<int>(machine_id.size()) + 1;
  std::ofstream out(file);
  std::string line;
  for (const Event& e : events) {
    auto [it, fresh] = source_id.emplace(e.src, static_cast<int>(source_id.size()) + 1);
    (void)fresh;
    line.clear();
    line += std::to_string(machine_id[e.machine]) + '\t' + std::to_string(e.ts) + '\t' + std::to_string(it->second) + '\t' +
            std::to_string(e.seq) + '\t' + std::to_string(static_cast<int>(e.type)) + '\t' + std::to_string(it->second) +
            '\t' + std::to_string(e.seq) + '\t' + e.state + '\t' + e.reason + '\t' + std::to_string(e.good) + '\t' +
            std::to_string(e.reject) + '\t' + std::to_string(static_cast<int>(e.counter)) + '\t' + std::to_string(e.value) +
            '\t' + std::to_string(e.rollover) + '\t' + e.product + '\t' + std::to_string(e.at) + '\n';
    out << line;
  }
}

// BENCH_PG_STATEMENTS=N (while profiling): the N statements that took the most time since the last
// call, from pg_stat_statements, on stderr; then the counters start again.
void print_statement_stats(const std::string& url, const char* phase) {
  const char* n = std::getenv("BENCH_PG_STATEMENTS");
  if (n == nullptr) return;
  PGconn* c = PQconnectdb(url.c_str());
  PGresult* r = PQexec(c, ("SELECT calls, round(total_exec_time::numeric, 1), round((total_exec_time / calls)::numeric, 3),"
                           " left(regexp_replace(query, '\\s+', ' ', 'g'), 160) FROM pg_stat_statements"
                           " ORDER BY total_exec_time DESC LIMIT " + std::to_string(std::atoi(n))).c_str());
  std::fprintf(stderr, "-- statements by total time, %s (calls, total ms, ms per call, statement)\n", phase);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) std::fprintf(stderr, "%s", PQerrorMessage(c));
  for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); ++i)
    std::fprintf(stderr, "%8s %10s %9s  %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
  PQclear(r);
  PQclear(PQexec(c, "SELECT pg_stat_statements_reset()"));
  PQfinish(c);
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main() {
  const bool quick = std::getenv("BENCH_QUICK") != nullptr;
  const std::size_t ingest_events = quick ? 500'000 : 2'000'000;
  const std::size_t stored_events = quick ? 1'000'000 : 10'000'000;
  const std::size_t batch = 10'000;
  try {
    const char* extra = std::getenv("BENCH_PG_SETTINGS");  // e.g. statement logging while profiling
    const bool statements = std::getenv("BENCH_PG_STATEMENTS") != nullptr;
    storage::testing::PostgresCluster cluster(
        std::string("-c fsync=on -c synchronous_commit=on -c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=15min ") +
        (statements ? "-c shared_preload_libraries=pg_stat_statements " : "") + (extra ? extra : ""));
    const PlantModel plant = synthetic::bench_plant(20, 50);  // 1,000 machines
    const FixedOffsetZone zone;
    const ShiftCalendar cal(plant, zone);
    const TimeMs start = *parse_timestamp("2026-10-01T00:00:00Z");
    // About a month per machine at the full size: 10,000 events per machine, a mean step of 260 s.
    const DurationMs step = static_cast<DurationMs>(30LL * kMsPerDay * 1000 / static_cast<long long>(stored_events) / 2);
    const auto events = synthetic::interleaved_events(plant, stored_events, start, std::max<DurationMs>(step, 1), 7);

    // (a) Baseline first: psql \copy of the first `ingest_events` rows into a plain table.
    const std::string base_url = cluster.create_database();
    const std::string rows_file = cluster.dir() + "/rows.tsv";
    write_copy_rows(plant, std::vector<Event>(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(ingest_events)), rows_file);
    cluster.exec(base_url.substr(base_url.find("///") + 3, base_url.find('?') - base_url.find("///") - 3),
                 "CREATE TABLE copy_baseline(machine_id integer NOT NULL, ts bigint NOT NULL, id_src bigint NOT NULL,"
                 " id_key bigint NOT NULL, type smallint NOT NULL, src_id integer NOT NULL, seq bigint NOT NULL,"
                 " state text NOT NULL, reason text NOT NULL, good bigint NOT NULL, reject bigint NOT NULL,"
                 " counter smallint NOT NULL, value bigint NOT NULL, rollover bigint NOT NULL, product text NOT NULL,"
                 " at bigint NOT NULL, PRIMARY KEY(machine_id, ts, id_src, id_key))");  // the events table's key (migration 2)
    auto t0 = Clock::now();
    cluster.run({"/usr/bin/psql", "-q", "-d", base_url, "-c", "\\copy copy_baseline FROM '" + rows_file + "'"}, "psql \\copy");
    const double copy_rate = static_cast<double>(ingest_events) / seconds_since(t0);

    const std::string url = cluster.create_database();
    if (statements) cluster.exec(url.substr(url.find("///") + 3, url.find('?') - url.find("///") - 3), "CREATE EXTENSION pg_stat_statements");
    auto store = storage::open_postgres_store(url, plant, cal);
    print_statement_stats(url, "opening the store");
    t0 = Clock::now();
    const double cpu0 = cpu_seconds();
    for (std::size_t i = 0; i < ingest_events; i += batch)
      store->append(std::span(events).subspan(i, std::min(batch, ingest_events - i)), start);
    const double ingest_s = seconds_since(t0);
    const double ours = static_cast<double>(ingest_events) / ingest_s;
    std::fprintf(stderr, "ingest: %.2f s, of which %.2f s CPU in this process (formatting, dedup, bookkeeping)\n", ingest_s,
                 cpu_seconds() - cpu0);
    std::printf("BENCH\tpostgres ingest, dedup, 1000 machines (events/s)\t%.0f\tevents/s\tpsql \\copy, same key\t%.0f\thigher\t>= 0.7 x baseline and >= 300000\n",
                ours, copy_rate);
    std::fflush(stdout);
    print_statement_stats(url, "ingest");
    if (std::getenv("BENCH_INGEST_ONLY")) return 0;  // while profiling the ingest

    // (b) The rest, then queries.
    t0 = Clock::now();
    for (std::size_t i = ingest_events; i < events.size(); i += batch)
      store->append(std::span(events).subspan(i, std::min(batch, events.size() - i)), start);
    std::fprintf(stderr, "stored %zu events (%.1f s for the rest)\n", events.size(), seconds_since(t0));
    const TimeMs from = start, to = start + 30 * kMsPerDay;
    const auto machines = plant.machines();
    t0 = Clock::now();
    for (const MachineSpec* m : machines) store->machine_totals(*m, from, to, kTimeMax);  // materialises rollups
    std::fprintf(stderr, "first month query of every machine (rollups materialised): %.1f s\n", seconds_since(t0));
    // The steady state is measured, not a one-off: without this, autovacuum's first pass over the
    // 10M freshly loaded rows (a core of two for minutes) runs during the queries below.
    t0 = Clock::now();
    cluster.exec(url.substr(url.find("///") + 3, url.find('?') - url.find("///") - 3), "VACUUM (ANALYZE)");
    std::fprintf(stderr, "VACUUM (ANALYZE) after the load: %.1f s\n", seconds_since(t0));
    if (const char* pause = std::getenv("BENCH_PG_PAUSE")) {  // while profiling: the loaded database stays up
      std::fprintf(stderr, "paused while %s exists; database: %s\n", pause, url.c_str());
      while (std::filesystem::exists(pause)) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    std::mt19937_64 rng(3);
    std::vector<double> machine_ms, engine_ms, line_ms;
    for (int i = 0; i < 400; ++i) {
      const MachineSpec& m = *machines[rng() % machines.size()];
      const TimeMs f = from + static_cast<TimeMs>(rng() % 3600'000);  // not hour-aligned: engine at both ends
      auto q = Clock::now();
      store->machine_totals(m, f, to, kTimeMax);
      machine_ms.push_back(seconds_since(q) * 1000);
      if (i % 4 == 0) {
        q = Clock::now();
        const auto ev = store->machine_events(m.path, kTimeMin, to);
        (void)oee::machine_totals(MachineHistory::build(m, ev), cal, f, to, kTimeMax);
        engine_ms.push_back(seconds_since(q) * 1000);
      }
    }
    // A line and the plant in one call each (machines_totals: a few queries for the group).
    const auto& lines = plant.sites[0].areas[0].lines;
    for (int i = 0; i < 40; ++i) {
      const auto& line = lines[rng() % lines.size()];
      std::vector<const MachineSpec*> group;
      for (const MachineSpec& m : line.machines) group.push_back(&m);
      auto q = Clock::now();
      store->machines_totals(group, from, to, kTimeMax);
      line_ms.push_back(seconds_since(q) * 1000);
    }
    std::vector<double> plant_ms, year_ms;
    print_statement_stats(url, "machine and line queries");
    for (int i = 0; i < 20; ++i) {
      auto q = Clock::now();
      store->machines_totals(machines, from, to, kTimeMax);
      plant_ms.push_back(seconds_since(q) * 1000);
    }
    print_statement_stats(url, "20 plant queries");
    // A machine over a year (the month of events and the eleven empty months before): the first
    // query of each machine materialises its hours, the measured ones are the steady state.
    const TimeMs year_from = to - 365 * kMsPerDay;
    std::vector<const MachineSpec*> year_machines;
    for (int i = 0; i < 10; ++i) year_machines.push_back(machines[rng() % machines.size()]);
    t0 = Clock::now();
    for (const MachineSpec* m : year_machines) store->machine_totals(*m, year_from, to, kTimeMax);
    std::fprintf(stderr, "first year query of 10 machines (rollups materialised): %.1f s\n", seconds_since(t0));
    for (int i = 0; i < 200; ++i) {
      const MachineSpec& m = *year_machines[rng() % year_machines.size()];
      const TimeMs f = year_from + static_cast<TimeMs>(rng() % 3600'000);
      auto q = Clock::now();
      store->machine_totals(m, f, to, kTimeMax);
      year_ms.push_back(seconds_since(q) * 1000);
    }
    std::printf("BENCH\tpostgres KPI query p99, 1 machine x month, %zuM events stored (ms)\t%.2f\tms\tengine over its events from PostgreSQL\t%.2f\tlower\t<= 50\n",
                stored_events / 1'000'000, percentile(machine_ms, 0.99), percentile(engine_ms, 0.99));
    std::printf("BENCH\tpostgres KPI query p99, 1 machine x year (ms)\t%.2f\tms\tengine over its events from PostgreSQL\t%.2f\tlower\t<= 50\n",
                percentile(year_ms, 0.99), percentile(engine_ms, 0.99));
    std::printf("BENCH\tpostgres KPI query p99, 1 line (50 machines) x month (ms)\t%.2f\tms\t50 x engine over a machine's events (p50)\t%.2f\tlower\t<= 50\n",
                percentile(line_ms, 0.99), 50 * percentile(engine_ms, 0.5));
    std::printf("BENCH\tpostgres KPI query p99, plant (1000 machines) x month (ms)\t%.2f\tms\t1000 x engine over a machine's events (p50)\t%.2f\tlower\t<= 50\n",
                percentile(plant_ms, 0.99), 1000 * percentile(engine_ms, 0.5));
    std::fprintf(stderr, "machine query p50 %.2f ms, year p50 %.2f ms, line query p50 %.2f ms, plant p50 %.2f ms\n",
                 percentile(machine_ms, 0.5), percentile(year_ms, 0.5), percentile(line_ms, 0.5), percentile(plant_ms, 0.5));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_postgres: %s\n", e.what());
    return 1;
  }
  return 0;
}
