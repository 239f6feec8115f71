// Issue 16's rows: the KPI query by=run over a month for a machine of a line and for the line (in
// constraint mode and its sum-mode twin), each against the same node's plain KPI query over the
// month (the route's work: PlantService::node_run_kpis, the runs from the store's run events and
// their totals from the rollups); the route before, for the record; and a constraint-mode line's
// KPI query against the same line's events in sum mode. Baselines run in the same process on the
// same store.
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
    // GET /api/v1/kpis?node=NODE&by=run (api/src/plant_routes.cpp): the runs from the store's run
    // events, each run's totals from the rollups (server/src/node_run_kpis.cpp).
    std::size_t machine_run_count = 0, line_run_count = 0;
    auto by_run_of = [&](const std::string& node, std::size_t& runs) {
      return timed(n, [&](int i) {
        const TimeMs from = window_from(i);
        runs = service.node_run_kpis(node, from, from + 30 * kMsPerDay)->size();
      });
    };
    auto plain_of = [&](const std::string& node) {  // GET /api/v1/kpis?node=NODE
      return timed(n, [&](int i) {
        const TimeMs from = window_from(i);
        service.node_kpis(node, Grouping::none, from, from + 30 * kMsPerDay);
      });
    };
    const auto by_run = by_run_of(outfeed.path, machine_run_count);
    const auto plain = plain_of(outfeed.path);
    const auto by_run_constraint = by_run_of("s1/a1/c", line_run_count);
    const auto constraint = plain_of("s1/a1/c");
    const auto by_run_sum = by_run_of("s1/a1/s", line_run_count);
    const auto sum = plain_of("s1/a1/s");
    // The route before issue 16 (for the record, a quarter of the queries): the machine's history
    // over the window and every event of it to find the run events, then run_kpis.
    const auto before = timed(std::max(1, n / 4), [&](int i) {
      const TimeMs from = window_from(i), to = from + 30 * kMsPerDay;
      const auto [history, runs] = service.read_store([&](storage::EventStore& st) {
        return std::make_pair(st.machine_history(outfeed, from, to), production_runs(st.machine_events(outfeed.path, from, to)));
      });
      run_kpis(history, runs, service.calendar(), from, to, service.now());
    });
    auto row = [](const char* name, const std::vector<double>& ms) {
      std::printf("%s: p50 %.3f p99 %.3f ms\n", name, percentile_ms(ms, 0.5), percentile_ms(ms, 0.99));
    };
    std::printf("over 30 days: %zu runs of the machine, %zu of a line\n", machine_run_count, line_run_count);
    row("by=run machine", by_run);
    row("plain machine", plain);
    row("by=run line, constraint mode", by_run_constraint);
    row("plain line, constraint mode", constraint);
    row("by=run line, sum mode", by_run_sum);
    row("plain line, sum mode", sum);
    row("by=run machine, the route before (history + every event)", before);
    std::printf("BENCH\tKPI query p99 by=run, machine of a line x 30 days, %zu runs (SQLite)\t%.3f\tms\tthe machine's KPI query over the month (p99)\t%.3f\tlower\t<= 20\n",
                machine_run_count, percentile_ms(by_run, 0.99), percentile_ms(plain, 0.99));
    std::printf("BENCH\tKPI query p99 by=run, line in constraint mode x 30 days, %zu runs (SQLite)\t%.3f\tms\tthe line's KPI query over the month (p99)\t%.3f\tlower\t<= 20\n",
                line_run_count, percentile_ms(by_run_constraint, 0.99), percentile_ms(constraint, 0.99));
    std::printf("BENCH\tKPI query p99 by=run, line in sum mode, 5 machines x 30 days, %zu runs (SQLite)\t%.3f\tms\tthe line's KPI query over the month (p99)\t%.3f\tlower\t<= 20\n",
                line_run_count, percentile_ms(by_run_sum, 0.99), percentile_ms(sum, 0.99));
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
