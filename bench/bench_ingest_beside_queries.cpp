// Ingest beside queries: the commit latency of the server's ingest path (PlantService::ingest into
// the SQLite store) while 8 clients run the heaviest queries the API allows (a plant's stops over
// 31 days: every machine's history; a plant's KPIs per day over 366 days; a machine's raw events
// over 31 days), against the same ingest when idle. Reads run on the store's read connections,
// without the ingest lock (docs/storage.md), so the goal is a p99 at most twice the idle one.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>
#include <unistd.h>

#include "oee/plant/plant_file.h"
#include "oee/server/plant_service.h"

using namespace oee;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kLines = 2, kMachinesPerLine = 10;

std::string plant_yaml() {
  std::string y = "timezone: UTC\nshifts:\n  - {name: early, start: \"06:00\", end: \"14:00\"}\n"
                  "  - {name: late, start: \"14:00\", end: \"22:00\"}\n  - {name: night, start: \"22:00\", end: \"06:00\"}\n"
                  "sites: [{id: s1, areas: [{id: a1, lines: [";
  for (int l = 0; l < kLines; ++l) {
    y += std::string(l ? "," : "") + "{id: l" + std::to_string(l) + ", machines: [";
    for (int m = 0; m < kMachinesPerLine; ++m) y += std::string(m ? "," : "") + "{id: m" + std::to_string(m) + ", ideal_cycle_time_s: 1.0}";
    y += "]}";
  }
  return y + "]}]}]\n";
}

// One event per machine at `ts` (a state change now and then, counts otherwise), src per line.
std::vector<Event> round_of_events(const PlantModel& plant, TimeMs ts, std::int64_t seq, std::mt19937_64& rng) {
  static const char* kStates[] = {"running", "running", "running", "stopped", "setup", "starved"};
  std::vector<Event> out;
  for (const MachineSpec* m : plant.machines()) {
    Event e;
    e.ts = ts;
    e.machine = m->path;
    e.src = m->path;
    e.seq = seq;
    if (rng() % 4 == 0) {
      e.type = EventType::state;
      e.state = kStates[rng() % 6];
    } else {
      e.type = EventType::count;
      e.good = static_cast<std::int64_t>(rng() % 60);
    }
    out.push_back(std::move(e));
  }
  return out;
}

double p99_ms(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return ms[std::min(ms.size() - 1, static_cast<std::size_t>(static_cast<double>(ms.size()) * 0.99))];
}

}  // namespace

int main() {
  const bool quick = std::getenv("BENCH_QUICK") != nullptr;
  // BENCH_QUERY_CLIENTS=N: another number of query clients (exploring; the row is for 8).
  const int kQueryClients = std::getenv("BENCH_QUERY_CLIENTS") ? std::atoi(std::getenv("BENCH_QUERY_CLIENTS")) : 8;
  const fs::path dir = fs::temp_directory_path() / ("bench-ingest-beside-queries-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  try {
    const TimeMs start = *parse_timestamp("2026-10-01T00:00:00Z");
    const int days = quick ? 8 : 31;
    const DurationMs step = 60'000;  // one event per machine and minute
    std::atomic<TimeMs> now{start};
    server::PlantService service(
        plant::load_plant_yaml(plant_yaml(), "bench.yaml"),
        [&](const PlantModel& p, const ShiftCalendar& c) { return storage::open_sqlite_store((dir / "oee.sqlite").string(), p, c); },
        [&] { return now.load(); });
    const PlantModel& plant = service.plant();
    std::mt19937_64 rng(5);
    std::int64_t seq = 0;
    const auto t0 = Clock::now();
    std::vector<Event> batch;
    for (TimeMs ts = start; ts < start + days * kMsPerDay; ts += step) {
      auto round = round_of_events(plant, ts, seq++, rng);
      batch.insert(batch.end(), round.begin(), round.end());
      if (batch.size() >= 10'000) service.ingest(std::exchange(batch, {}), "bench");
    }
    service.ingest(std::exchange(batch, {}), "bench");
    TimeMs ts = start + days * kMsPerDay;
    now = ts;
    std::printf("preloaded %d machines x %d days: %.1f s\n", kLines * kMachinesPerLine, days,
                std::chrono::duration<double>(Clock::now() - t0).count());
    // Live ingest: one event per machine per commit, paced like a busy line (a commit every 5 ms).
    auto ingest_latencies = [&](int commits) {
      std::vector<double> ms;
      for (int i = 0; i < commits; ++i) {
        auto round = round_of_events(plant, ts += 1000, seq++, rng);
        const auto c0 = Clock::now();
        service.ingest(std::move(round), "bench");
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - c0).count());
        now = ts;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      return ms;
    };
    const int commits = quick ? 200 : 600;
    const double idle = p99_ms(ingest_latencies(commits));
    // under_lock: the reads as before read connections, under the service's ingest lock.
    auto beside_queries = [&](bool under_lock) {
      std::atomic<bool> stop{false};
      std::atomic<long> queries{0};
      auto read = [&](auto&& f) { return under_lock ? service.with_store(f) : service.read_store(f); };
      std::vector<std::thread> clients;
      for (int c = 0; c < kQueryClients; ++c)
        clients.emplace_back([&, c] {
          const auto machines = plant.machines();
          for (int i = c; !stop.load(); ++i) {
            const TimeMs t = now.load();
            switch (i % 3) {
              case 0:  // GET /api/v1/stops?node=(plant)&from=now-31d: every machine's history
                for (const MachineSpec* m : machines)
                  read([&](storage::EventStore& s) { return s.machine_history(*m, t - 31 * kMsPerDay, t); });
                break;
              case 1:  // GET /api/v1/kpis?by=day&from=now-366d (PlantService::node_kpis)
                read([&](storage::EventStore& s) {
                  for (const Bucket& b : make_buckets(service.calendar(), Grouping::day, t - 366 * kMsPerDay, t))
                    s.machines_totals(machines, b.range.start, b.range.end, t);
                });
                break;
              default:  // GET /api/v1/tags?machine=…&from=now-31d: a machine's raw events
                read([&](storage::EventStore& s) {
                  return s.machine_events(machines[static_cast<std::size_t>(i) % machines.size()]->path, t - 31 * kMsPerDay, t);
                });
            }
            ++queries;
          }
        });
      // Under the lock a commit waits seconds: a tenth of the commits tells as much.
      const double p99 = p99_ms(ingest_latencies(under_lock ? commits / 10 : commits));
      stop = true;
      for (auto& t : clients) t.join();
      std::printf("ingest commit p99 beside %d query clients%s: %.3f ms (%ld queries)\n", kQueryClients,
                  under_lock ? " reading under the ingest lock" : "", p99, queries.load());
      return p99;
    };
    const double loaded = beside_queries(false);
    const double locked = beside_queries(true);
    std::printf("ingest commit p99 idle: %.3f ms\n", idle);
    std::printf("BENCH\tingest commit p99 beside 8 clients of the heaviest API queries (SQLite)\t%.3f\tms\tthe same ingest, idle (p99)\t%.3f\tlower\t<= 2x idle\n",
                loaded, idle);
    std::printf("BENCH\tingest commit p99 beside 8 query clients, reads on read connections\t%.3f\tms\treads under the ingest lock (before)\t%.3f\tlower\t-\n",
                loaded, locked);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ingest_beside_queries: %s\n", e.what());
    fs::remove_all(dir);
    return 1;
  }
  fs::remove_all(dir);
  return 0;
}
