// Issue 16's rows: the KPI query by=run over a month for a machine of a line (the route's work:
// the machine's history and its run events from SQLite, then run_kpis) against the same machine's
// plain KPI query over the month; and a constraint-mode line's KPI query against the same line's
// events in sum mode. Both baselines run in the same process on the same store.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <unistd.h>

#include "oee/core/production_run.h"
#include "oee/core/run_kpis.h"
#include "oee/plant/plant_file.h"
#include "oee/server/plant_service.h"

using namespace oee;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kMachinesPerLine = 5;

// Line c: constraint mode (constraint m2, outfeed m4); line s: the same machines in sum mode.
std::string plant_yaml() {
  std::string y = "timezone: UTC\nshifts:\n  - {name: early, start: \"06:00\", end: \"14:00\"}\n"
                  "  - {name: late, start: \"14:00\", end: \"22:00\"}\n  - {name: night, start: \"22:00\", end: \"06:00\"}\n"
                  "sites: [{id: s1, areas: [{id: a1, lines: [";
  for (const char* line : {"c", "s"}) {
    y += std::string(line[0] == 's' ? "," : "") + "{id: " + line + ", ";
    if (line[0] == 'c') y += "kpi: {mode: constraint, constraint: m2, outfeed: m4}, ";
    y += "machines: [";
    for (int m = 0; m < kMachinesPerLine; ++m) y += std::string(m ? "," : "") + "{id: m" + std::to_string(m) + ", ideal_cycle_time_s: 1.0}";
    y += "]}";
  }
  return y + "]}]}]\n";
}

// One minute of a machine: now and then a state change (starved and blocked among them), else a
// count; a new run (work order) every 8 hours on every machine.
void minute_of(const std::string& path, TimeMs ts, std::int64_t& seq, std::mt19937_64& rng, std::vector<Event>& out) {
  static const char* kStates[] = {"running", "running", "running", "stopped", "setup", "starved", "blocked"};
  Event e;
  e.ts = ts;
  e.machine = path;
  e.src = path;
  e.seq = seq++;
  if (ts % (8 * kMsPerHour) == 0) {
    Event run = e;
    run.type = EventType::run;
    run.run = "WO-" + std::to_string(ts / (8 * kMsPerHour));
    run.product = rng() % 2 ? "cap-red" : "cap-blue";
    run.quantity = 20'000;
    out.push_back(std::move(run));
    e.seq = seq++;
  }
  if (rng() % 4 == 0) {
    e.type = EventType::state;
    e.state = kStates[rng() % 7];
  } else {
    e.type = EventType::count;
    e.good = static_cast<std::int64_t>(rng() % 60);
    e.reject = static_cast<std::int64_t>(rng() % 3);
  }
  out.push_back(std::move(e));
}

double percentile_ms(std::vector<double> ms, double p) {
  std::sort(ms.begin(), ms.end());
  return ms[std::min(ms.size() - 1, static_cast<std::size_t>(static_cast<double>(ms.size()) * p))];
}

template <typename F>
std::vector<double> timed(int n, F&& query) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    query(i);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return ms;
}

}  // namespace

int main() {
  const bool quick = std::getenv("BENCH_QUICK") != nullptr;
  const fs::path dir = fs::temp_directory_path() / ("bench-run-line-kpis-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  try {
    const TimeMs start = *parse_timestamp("2026-10-01T00:00:00Z");
    const int days = 33;  // a month's windows that start anywhere in the first two days
    const TimeMs end = start + days * kMsPerDay;
    server::PlantService service(
        plant::load_plant_yaml(plant_yaml(), "bench.yaml"),
        [&](const PlantModel& p, const ShiftCalendar& c) { return storage::open_sqlite_store((dir / "oee.sqlite").string(), p, c); },
        [&] { return end; });
    std::mt19937_64 rng(16);
    std::int64_t seq = 0;
    const auto t0 = Clock::now();
    std::vector<Event> batch;
    for (TimeMs ts = start; ts < end; ts += 60'000) {
      for (int m = 0; m < kMachinesPerLine; ++m) {
        // The same minute on both lines: the sum-mode line is the constraint line's twin.
        const std::size_t first = batch.size();
        minute_of("s1/a1/c/m" + std::to_string(m), ts, seq, rng, batch);
        for (std::size_t i = first, n = batch.size(); i < n; ++i) {
          Event twin = batch[i];
          twin.machine = twin.src = "s1/a1/s/m" + std::to_string(m);
          batch.push_back(std::move(twin));
        }
      }
      if (batch.size() >= 10'000) service.ingest(std::exchange(batch, {}), "bench");
    }
    service.ingest(std::exchange(batch, {}), "bench");
    std::printf("preloaded 2 lines x %d machines x %d days (%lld events): %.1f s\n", kMachinesPerLine, days,
                static_cast<long long>(seq * 2), std::chrono::duration<double>(Clock::now() - t0).count());

    const int n = quick ? 40 : 200;
    // A month's window starting at an arbitrary minute of the first two days.
    auto window_from = [&](int i) { return start + static_cast<TimeMs>((i * 7919) % (2 * 24 * 60)) * 60'000; };
    const MachineSpec& outfeed = *service.plant().find_machine("s1/a1/c/m4");
    std::size_t runs_seen = 0;
    std::vector<double> history_ms, events_ms, kpis_ms;  // where a by=run query's time goes
    auto since = [](Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); };
    const auto by_run = timed(n, [&](int i) {  // GET /api/v1/kpis?node=s1/a1/c/m4&by=run (api/src/plant_routes.cpp)
      const TimeMs from = window_from(i), to = from + 30 * kMsPerDay;
      auto t = Clock::now();
      const auto history = service.read_store([&](storage::EventStore& st) { return st.machine_history(outfeed, from, to); });
      history_ms.push_back(since(t));
      t = Clock::now();
      const auto runs = service.read_store([&](storage::EventStore& st) { return production_runs(st.machine_events(outfeed.path, from, to)); });
      events_ms.push_back(since(t));
      t = Clock::now();
      runs_seen = run_kpis(history, runs, service.calendar(), from, to, service.now()).size();
      kpis_ms.push_back(since(t));
    });
    // What the rollups would give: each run stretch's totals from the store's machine_totals (the
    // plain query's path) instead of the machine's whole history; the run events still loaded.
    const auto by_run_rollups = timed(n, [&](int i) {
      const TimeMs from = window_from(i), to = std::min(from + 30 * kMsPerDay, service.now());
      service.read_store([&](storage::EventStore& st) {
        KpiTotals sum;
        for (const ProductionRun& r : production_runs(st.machine_events(outfeed.path, from, to)))
          if (std::max(r.start, from) < std::min(r.end, to))
            sum += st.machine_totals(outfeed, std::max(r.start, from), std::min(r.end, to), service.now());
        return sum;
      });
    });
    std::printf("by=run with rollup totals per run (not the route's path): p50 %.3f p99 %.3f ms\n",
                percentile_ms(by_run_rollups, 0.5), percentile_ms(by_run_rollups, 0.99));
    std::printf("by=run parts, p50: machine_history %.3f ms, machine_events + production_runs %.3f ms, run_kpis %.3f ms\n",
                percentile_ms(history_ms, 0.5), percentile_ms(events_ms, 0.5), percentile_ms(kpis_ms, 0.5));
    const auto plain = timed(n, [&](int i) {  // GET /api/v1/kpis?node=s1/a1/c/m4
      const TimeMs from = window_from(i);
      service.node_kpis(outfeed.path, Grouping::none, from, from + 30 * kMsPerDay);
    });
    const auto constraint = timed(n, [&](int i) {
      const TimeMs from = window_from(i);
      service.node_kpis("s1/a1/c", Grouping::none, from, from + 30 * kMsPerDay);
    });
    const auto sum = timed(n, [&](int i) {
      const TimeMs from = window_from(i);
      service.node_kpis("s1/a1/s", Grouping::none, from, from + 30 * kMsPerDay);
    });
    std::printf("by=run over 30 days (%zu runs): p50 %.3f p99 %.3f ms; plain: p50 %.3f p99 %.3f ms\n", runs_seen,
                percentile_ms(by_run, 0.5), percentile_ms(by_run, 0.99), percentile_ms(plain, 0.5), percentile_ms(plain, 0.99));
    std::printf("line constraint mode: p50 %.3f p99 %.3f ms; sum mode: p50 %.3f p99 %.3f ms\n", percentile_ms(constraint, 0.5),
                percentile_ms(constraint, 0.99), percentile_ms(sum, 0.5), percentile_ms(sum, 0.99));
    std::printf("BENCH\tKPI query p99 by=run, machine of a line x 30 days, 90 runs (SQLite)\t%.3f\tms\tthe machine's KPI query over the month (p99)\t%.3f\tlower\t<= 20\n",
                percentile_ms(by_run, 0.99), percentile_ms(plain, 0.99));
    std::printf("BENCH\tline KPI query p99, constraint mode, 5 machines x 30 days (SQLite)\t%.3f\tms\tthe same line in sum mode (p99)\t%.3f\tlower\t-\n",
                percentile_ms(constraint, 0.99), percentile_ms(sum, 0.99));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_run_and_line_kpis: %s\n", e.what());
    fs::remove_all(dir);
    return 1;
  }
  fs::remove_all(dir);
  return 0;
}
