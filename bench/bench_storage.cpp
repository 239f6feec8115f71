// Storage: (a) durable ingest with dedup and rollups maintained, 1,000 machines interleaved, beside
// a bare batched SQLite insert of the same rows with the same uniqueness guarantee (primary key,
// WAL, synchronous=FULL, one transaction per batch), measured in the same run; (b) KPI query
// latency over a store holding >= 10M events (BENCH_QUICK=1: 1M), beside the engine over the
// events loaded from SQLite. docs/storage.md quotes these figures.
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "oee/core/shift_calendar.h"
#include "oee/storage/event_store.h"
#include "oee/synthetic/generators.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace oee;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU seconds of this process (user + system): on a shared machine the wall-clock rate also
// depends on the neighbours; the CPU time per event does not.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string make_dir(const char* name) {
  std::string tmpl = (fs::temp_directory_path() / (std::string(name) + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
}

// The bare baseline: the same rows as a typical table (text source, machine path, type, payload
// text), primary key (src, seq), INSERT OR IGNORE with one prepared statement, one transaction per
// batch, WAL with synchronous=FULL: the same durability and uniqueness as the store.
double bare_insert_rate(const std::vector<Event>& events, std::size_t batch, const std::string& file,
                        double& cpu_us_per_event) {
  sqlite3* db = nullptr;
  check(sqlite3_open(file.c_str(), &db), db, "open");
  check(sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE events(src TEXT NOT NULL, seq INTEGER NOT NULL, machine TEXT NOT NULL,"
                     " ts INTEGER NOT NULL, type TEXT NOT NULL, payload TEXT, PRIMARY KEY(src, seq))",
                     nullptr, nullptr, nullptr),
        db, "schema");
  sqlite3_stmt* ins = nullptr;
  check(sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO events VALUES(?,?,?,?,?,?)", -1, &ins, nullptr), db, "prepare");
  const auto t0 = Clock::now();
  const double cpu0 = cpu_seconds();
  std::string payload;
  for (std::size_t i = 0; i < events.size(); i += batch) {
    check(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
    for (std::size_t j = i; j < std::min(events.size(), i + batch); ++j) {
      const Event& e = events[j];
      switch (e.type) {
        case EventType::state: payload = "{\"state\":\"" + e.state + "\"}"; break;
        case EventType::count: payload = "{\"good\":" + std::to_string(e.good) + ",\"reject\":" + std::to_string(e.reject) + "}"; break;
        case EventType::counter: payload = "{\"name\":\"total\",\"value\":" + std::to_string(e.value) + ",\"rollover\":65536}"; break;
        default: payload = "{\"product\":\"" + e.product + "\"}"; break;
      }
      const std::string_view type = event_type_name(e.type);
      sqlite3_bind_text(ins, 1, e.src.data(), static_cast<int>(e.src.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins, 2, e.seq);
      sqlite3_bind_text(ins, 3, e.machine.data(), static_cast<int>(e.machine.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins, 4, e.ts);
      sqlite3_bind_text(ins, 5, type.data(), static_cast<int>(type.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins, 6, payload.data(), static_cast<int>(payload.size()), SQLITE_TRANSIENT);
      check(sqlite3_step(ins), db, "insert");
      sqlite3_reset(ins);
    }
    check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  }
  const double rate = static_cast<double>(events.size()) / seconds_since(t0);
  cpu_us_per_event = (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(events.size());
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return rate;
}

double store_ingest_rate(const PlantModel& plant, const ShiftCalendar& cal, const std::vector<Event>& events,
                         std::size_t batch, const std::string& file, double& cpu_us_per_event,
                         const storage::StoreOptions& options = {}) {
  auto store = storage::open_sqlite_store(file, plant, cal, options);
  const TimeMs received = events.back().ts;
  const auto t0 = Clock::now();
  const double cpu0 = cpu_seconds();
  std::size_t inserted = 0;
  for (std::size_t i = 0; i < events.size(); i += batch)
    inserted += store->append(std::span(events).subspan(i, std::min(batch, events.size() - i)), received).inserted;
  const double rate = static_cast<double>(events.size()) / seconds_since(t0);
  cpu_us_per_event = (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(events.size());
  if (inserted != events.size()) throw std::runtime_error("ingest lost events");
  return rate;
}

struct Percentiles {
  double p50_ms, p99_ms;
};
template <class F>
Percentiles measure(int n, F&& f) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    f(i);
    ms.push_back(seconds_since(t0) * 1000.0);
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, static_cast<std::size_t>(static_cast<double>(ms.size()) * 0.99))]};
}

void bench_line(const std::string& row_name, double ours, const char* unit, const char* base_name, double base, const char* better,
                const char* goal) {
  const char* row = row_name.c_str();
  if (base < 0)
    std::printf("BENCH\t%s\t%.3f\t%s\t%s\t-\t%s\t%s\n", row, ours, unit, base_name, better, goal);
  else
    std::printf("BENCH\t%s\t%.3f\t%s\t%s\t%.3f\t%s\t%s\n", row, ours, unit, base_name, base, better, goal);
  std::fflush(stdout);
}

void remove_db(const std::string& file) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(file + suffix);
}

// Encryption at rest (docs/security.md): the same ingest into an encrypted store and a plain one,
// interleaved twice and the best of each taken, so that a busy machine skews both alike.
void encrypted_ingest_row(const PlantModel& plant, const ShiftCalendar& cal, const std::vector<Event>& events,
                          const std::string& dir) {
  storage::StoreOptions encrypted;
  encrypted.encryption_key.emplace();
  encrypted.encryption_key->fill(0x5a);
  double plain = 0, sealed = 0, plain_cpu_us = 1e9, sealed_cpu_us = 1e9;
  for (int round = 0; round < 2; ++round) {
    for (const bool with_key : {false, true}) {
      double cpu_us = 0;
      const std::string file = dir + (with_key ? "/encrypted.db" : "/plain.db");
      const double rate = store_ingest_rate(plant, cal, events, 10'000, file, cpu_us, with_key ? encrypted : storage::StoreOptions{});
      (with_key ? sealed : plain) = std::max(with_key ? sealed : plain, rate);
      (with_key ? sealed_cpu_us : plain_cpu_us) = std::min(with_key ? sealed_cpu_us : plain_cpu_us, cpu_us);
      remove_db(file);
    }
  }
  std::printf("ingest %zu events, encrypted store %.0f events/s (%.2f CPU us/event), plain store %.0f events/s (%.2f CPU"
              " us/event): %.2fx the plain rate, %.2fx its CPU per event\n",
              events.size(), sealed, sealed_cpu_us, plain, plain_cpu_us, sealed / plain, sealed_cpu_us / plain_cpu_us);
  bench_line("SQLite ingest encrypted vs plain (1000 machines, 20 edge sources)", sealed, "events/s",
             "the plain store, same run", plain, "higher", ">= 0.7 x baseline");
}

// Corrections (docs/oee-model.md): a line of 20 machines over a month, its KPI query over a month
// at arbitrary millisecond edges with 1,000 corrections in the window (made after the hours they
// correct were settled), beside the same query on the same events without corrections.
void corrections_rows(const FixedOffsetZone& zone, const std::string& dir, bool quick) {
  const PlantModel plant = synthetic::bench_plant(1, 20);
  const ShiftCalendar cal(plant, zone);
  const auto machines = plant.machines();
  const TimeMs start = *parse_timestamp("2026-10-01T00:00:00Z");
  const DurationMs span = 32 * kMsPerDay;
  const DurationMs step = quick ? 300'000 : 60'000;
  const std::size_t n = static_cast<std::size_t>(span / step) * machines.size();
  const auto events = synthetic::interleaved_events(plant, n, start, step, 11);
  std::mt19937_64 rng(17);
  std::vector<Event> corrections;
  static const char* const states[] = {"running", "stopped", "planned_stop", "setup"};
  for (int i = 0; i < 1000; ++i) {
    Event c;
    c.machine = machines[static_cast<std::size_t>(i) % machines.size()]->path;
    c.type = EventType::correction;
    c.correction = i % 4 == 3 ? CorrectionKind::rejects : CorrectionKind::reclassify;
    c.at = start + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(span - kMsPerDay));
    c.until = c.at + 60'000 + static_cast<TimeMs>(rng() % kMsPerHour);
    c.state = states[rng() % 4];
    c.reject = 1 + static_cast<std::int64_t>(rng() % 5);
    c.ts = c.at + static_cast<TimeMs>(rng() % kMsPerDay);
    c.by = "bench";
    c.why = "bench correction " + std::to_string(i);
    corrections.push_back(std::move(c));
  }
  const TimeMs horizon = start + span;
  Percentiles p[2];
  for (const bool corrected : {false, true}) {
    const std::string file = dir + (corrected ? "/corrected.db" : "/uncorrected.db");
    auto store = storage::open_sqlite_store(file, plant, cal);
    for (std::size_t i = 0; i < events.size(); i += 10'000)
      store->append(std::span(events).subspan(i, std::min<std::size_t>(10'000, events.size() - i)), horizon);
    if (corrected) store->append(corrections, horizon);
    std::mt19937_64 windows(5);  // the same windows for both
    p[corrected] = measure(300, [&](int) {
      const TimeMs from = start + static_cast<TimeMs>(windows() % static_cast<std::uint64_t>(kMsPerDay));
      const KpiTotals t = store->machines_totals(machines, from, from + 30 * kMsPerDay, horizon);
      if (t.all_ms <= 0) throw std::runtime_error("empty totals");
    });
    store.reset();
    remove_db(file);
  }
  std::printf("line of 20 machines x 1 month, %zu events: with 1000 corrections p50 %.3f p99 %.3f ms, without p50 %.3f p99 %.3f ms\n",
              events.size(), p[1].p50_ms, p[1].p99_ms, p[0].p50_ms, p[0].p99_ms);
  bench_line("storage KPI query p99, line of 20 machines x 1 month, 1000 corrections in the window", p[1].p99_ms, "ms",
             "the same query without corrections (p99)", p[0].p99_ms, "lower", "<= 20");
}

}  // namespace

int main() {
  const bool quick = std::getenv("BENCH_QUICK") != nullptr;
  const std::string dir = make_dir("bench-storage");
  try {
    // BENCH_STORAGE_PART=ingest|query runs one part only (profiling).
    const char* part_env = std::getenv("BENCH_STORAGE_PART");
    const std::string part = part_env ? part_env : "";
    // A store for `oee serve` is made under the zone its plant file names (the same +01:00): rollups
    // made under another zone name would be recomputed when the server opens the store.
    const FixedOffsetZone zone(kMsPerHour, part == "store" ? "Etc/GMT-1" : "+01:00");
    // (a) ingest: 1,000 machines, batches of 10,000 events (~10 per machine per batch).
    if (part.empty() || part == "ingest") {
      const PlantModel plant = synthetic::bench_plant(20, 50);
      const ShiftCalendar cal(plant, zone);
      const std::size_t n = quick ? 500'000 : 3'000'000;
      // Sources as the edge agent assigns them (one per line of 50 machines), and, as a harder
      // case for both, one source per machine (1,000 interleaved runs of identities).
      for (const bool per_machine : {false, true}) {
        const auto events = synthetic::interleaved_events(plant, n, *parse_timestamp("2026-11-01T00:00:00Z"), 5'000, 1, per_machine);
        double bare_cpu_us = 0, ours_cpu_us = 0;
        const double bare = bare_insert_rate(events, 10'000, dir + "/bare.db", bare_cpu_us);
        const double ours = store_ingest_rate(plant, cal, events, 10'000, dir + "/ingest.db", ours_cpu_us);
        std::printf("ingest %zu events, %s: store %.0f events/s (%.2f CPU us/event), bare insert %.0f rows/s (%.2f CPU"
                    " us/row)\n", n, per_machine ? "1000 sources" : "20 sources", ours, ours_cpu_us, bare, bare_cpu_us);
        bench_line(per_machine ? "storage durable ingest (dedup+rollups, 1000 machines, 1000 sources)"
                               : "storage durable ingest (dedup+rollups, 1000 machines, 20 edge sources)",
                   ours, "events/s", "bare SQLite insert, PK, same sync", bare, "higher", ">= 300000");
        if (!per_machine) encrypted_ingest_row(plant, cal, events, dir);
        remove_db(dir + "/bare.db");
        remove_db(dir + "/ingest.db");
      }
    }
    if (part.empty() || part == "corrections") corrections_rows(zone, dir, quick);
    // (b) queries over a year of 1,000 machines: >= 10M events (quick: 1M). BENCH_STORAGE_NO_DATA_S=N
    // sets no_data_after_s on every machine (rows named with it): the same queries with no-data detection.
    // BENCH_STORAGE_PART=store only builds the store (into BENCH_STORAGE_DB: bench/backup_rpo_rto.sh).
    if (part.empty() || part == "query" || part == "store") {
      const char* no_data_env = std::getenv("BENCH_STORAGE_NO_DATA_S");
      const DurationMs no_data_ms = no_data_env ? std::stoll(no_data_env) * 1000 : 0;
      const std::string rows_of = no_data_ms > 0 ? std::string(", no_data_after_s=") + no_data_env : std::string();
      const PlantModel plant = synthetic::bench_plant(20, 50, no_data_ms);
      const ShiftCalendar cal(plant, zone);
      const auto machines = plant.machines();
      const std::size_t n = quick ? 1'000'000 : 10'000'000;
      const TimeMs start = *parse_timestamp("2025-10-01T00:00:00Z");
      const DurationMs span = 395 * kMsPerDay;
      const DurationMs step = span / static_cast<DurationMs>(n / machines.size());
      // BENCH_STORAGE_DB=path keeps (or reuses) the query store there (profiling).
      const char* keep = std::getenv("BENCH_STORAGE_DB");
      const std::string file = keep ? keep : dir + "/query.db";
      if (!keep || !fs::exists(file)) {
        auto store = storage::open_sqlite_store(file, plant, cal);
        const auto t0 = Clock::now();
        const std::size_t chunk = 1'000'000;
        for (std::size_t done = 0; done < n; done += chunk) {
          // Generated in chunks that continue each machine's clock and seq.
          auto events = synthetic::interleaved_events(plant, std::min(chunk, n - done), start, step, 7 + done);
          const TimeMs shift = static_cast<TimeMs>(done / machines.size()) * step;
          for (Event& e : events) {
            e.ts += shift;
            e.seq += static_cast<std::int64_t>(done / plant.sites[0].areas[0].lines.size());
          }
          for (std::size_t i = 0; i < events.size(); i += 10'000)
            store->append(std::span(events).subspan(i, std::min<std::size_t>(10'000, events.size() - i)), start + span);
        }
        std::printf("query store: %lld events in %.1f s\n", static_cast<long long>(store->event_count()), seconds_since(t0));
      }
      if (part == "store") {
        fs::remove_all(dir);
        return 0;
      }
      auto store = storage::open_sqlite_store(file, plant, cal);
      std::mt19937_64 rng(3);
      const TimeMs horizon = start + span;
      // One machine over a year, windows at arbitrary milliseconds (partial first and last hours).
      const Percentiles one = measure(300, [&](int) {
        const MachineSpec& m = *machines[rng() % machines.size()];
        const TimeMs from = start + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(25 * kMsPerDay));
        const KpiTotals t = store->machine_totals(m, from, from + 365 * kMsPerDay, horizon);
        if (t.all_ms <= 0) throw std::runtime_error("empty totals");
      });
      const Percentiles one_engine = measure(20, [&](int) {
        const MachineSpec& m = *machines[rng() % machines.size()];
        const TimeMs from = start + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(25 * kMsPerDay));
        const MachineHistory h = store->machine_history(m, from, from + 365 * kMsPerDay);
        (void)oee::machine_totals(h, cal, from, from + 365 * kMsPerDay, horizon);
      });
      std::printf("one machine, 1 year: p50 %.3f ms p99 %.3f ms (engine over loaded events p50 %.3f ms)\n", one.p50_ms,
                  one.p99_ms, one_engine.p50_ms);
      bench_line("storage KPI query p99, 1 machine x 1 year" + rows_of, one.p99_ms, "ms", "engine over events from SQLite (p99)",
                 one_engine.p99_ms, "lower", "<= 20");
      // The whole plant over a month: machines_totals over its 1,000 machines (what the server
      // asks for a node), beside the sum of machine_totals per machine (the interface's default).
      // Windows from a random instant (partial first and last hours: the engine runs on those),
      // from a local midnight (dashboards: whole hours, rollups only), and the last 30 days up to now
      // (live: the end from memory).
      auto plant_month = [&](auto&& pick_from, int runs, bool per_machine) {
        return measure(runs, [&](int) {
          const TimeMs from = pick_from();
          const TimeMs to = std::min(from + 30 * kMsPerDay, horizon);
          KpiTotals sum;
          if (per_machine) {
            for (const MachineSpec* m : machines) sum += store->machine_totals(*m, from, to, horizon);
          } else {
            sum = store->machines_totals(machines, from, to, horizon);
          }
          if (sum.machine_count != static_cast<std::int64_t>(machines.size())) throw std::runtime_error("bad sum");
        });
      };
      auto random_from = [&] { return start + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(330 * kMsPerDay)); };
      auto midnight_from = [&] { return floor_to(random_from(), kMsPerDay) - kMsPerHour; };
      auto live_from = [&] { return horizon - 30 * kMsPerDay - static_cast<TimeMs>(rng() % 60'000); };
      const Percentiles arbitrary = plant_month(random_from, 60, false);
      const Percentiles aligned = plant_month(midnight_from, 60, false);
      const Percentiles live = plant_month(live_from, 60, false);
      const Percentiles arbitrary_each = plant_month(random_from, 40, true);
      const Percentiles aligned_each = plant_month(midnight_from, 40, true);
      const Percentiles live_each = plant_month(live_from, 40, true);
      const Percentiles plant_engine = measure(3, [&](int) {
        const TimeMs from = random_from();
        for (const MachineSpec* m : machines)
          (void)oee::machine_totals(store->machine_history(*m, from, from + 30 * kMsPerDay), cal, from,
                                    from + 30 * kMsPerDay, horizon);
      });
      std::printf("plant (1000 machines), 1 month, machines_totals (sum of machine_totals): arbitrary edges p50 %.3f (%.3f)"
                  " p99 %.3f (%.3f) ms; local midnights p50 %.3f (%.3f) p99 %.3f (%.3f) ms; last 30 days p50 %.3f (%.3f)"
                  " p99 %.3f (%.3f) ms; engine over loaded events p50 %.3f ms\n",
                  arbitrary.p50_ms, arbitrary_each.p50_ms, arbitrary.p99_ms, arbitrary_each.p99_ms, aligned.p50_ms,
                  aligned_each.p50_ms, aligned.p99_ms, aligned_each.p99_ms, live.p50_ms, live_each.p50_ms, live.p99_ms,
                  live_each.p99_ms, plant_engine.p50_ms);
      bench_line("storage KPI query p99, plant of 1000 machines x 1 month from local midnight" + rows_of, aligned.p99_ms, "ms",
                 "sum of machine_totals per machine (p99)", aligned_each.p99_ms, "lower", "<= 20");
      bench_line("storage KPI query p99, plant of 1000 machines x last 30 days" + rows_of, live.p99_ms, "ms",
                 "sum of machine_totals per machine (p99)", live_each.p99_ms, "lower", "<= 20");
      bench_line("storage KPI query p99, plant of 1000 machines x 1 month, arbitrary ms edges" + rows_of, arbitrary.p99_ms, "ms",
                 "sum of machine_totals per machine (p99)", arbitrary_each.p99_ms, "lower", "<= 20");
      bench_line("storage KPI query p50, plant of 1000 machines x 1 month, engine over events from SQLite" + rows_of, plant_engine.p50_ms,
                 "ms", "-", -1, "lower", "-");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_storage: %s\n", e.what());
    fs::remove_all(dir);
    return 1;
  }
  fs::remove_all(dir);
  return 0;
}
