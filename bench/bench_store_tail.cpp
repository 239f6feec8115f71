// The SQLite store's in-memory tail at scale (issue 13, "Scale proof"): 1,000 machines sending a
// counter reading every 500 ms (and a state change every 15 minutes), a second per append, through
// the store for one UTC hour, during which nothing settles: every event stays in the tail. Heap
// bytes per tail event: the growth of the heap in use outside SQLite (mallinfo2, mapped blocks too, minus
// sqlite3_memory_used: SQLite's page cache grows with the file) from the end of the first minute to
// the end of the hour, per event appended in between. Baseline, same run: the same events kept as the
// tail kept them before it was compact, one vector of Events per machine compacted by
// keep_signs_bare batch by batch. BENCH_QUICK=1: 10 minutes. docs/storage.md quotes the figures.
#include <malloc.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "oee/core/shift_calendar.h"
#include "oee/storage/event_store.h"
#include "oee/synthetic/generators.h"
#include "signs_of_life.h"

namespace fs = std::filesystem;
using namespace oee;

namespace {

// Heap bytes in use (the arena's and the blocks malloc maps on their own: a machine's buffer of
// an hour is megabytes), SQLite's own allocations left out.
double heap_outside_sqlite() {
  const struct mallinfo2 m = ::mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd) - static_cast<double>(sqlite3_memory_used());
}

// The events of second `s` of every machine: two counter readings from the line's edge (src+seq),
// and a state change every 15 minutes.
std::vector<Event> second_of_events(const std::vector<const MachineSpec*>& machines, TimeMs start, std::int64_t s,
                                    std::vector<std::int64_t>& seqs) {
  std::vector<Event> out;
  out.reserve(machines.size() * 3);
  for (std::size_t k = 0; k < machines.size(); ++k) {
    const std::size_t line = k / 50;
    for (TimeMs half = 0; half < 2; ++half) {
      Event e;
      e.machine = machines[k]->path;
      e.ts = start + s * 1000 + half * 500 + static_cast<TimeMs>(k % 50);
      if (half == 0 && s % 900 == 0) {
        e.type = EventType::state;
        e.state = (s / 900) % 4 == 3 ? "setup" : "running";
      } else {
        e.type = EventType::counter;
        e.counter = CounterName::good;
        e.value = s * 2 + half;
      }
      e.src = "edge-line-" + std::to_string(line);
      e.seq = seqs[line]++;
      out.push_back(std::move(e));
    }
  }
  return out;
}

struct Figures {
  double bytes_per_event = 0;
  std::size_t events = 0;
};

// Heap growth per event from the end of the first minute to the end of `seconds`; take(s) takes the
// events of second s and returns how many it kept.
template <class Take>
Figures heap_per_event(std::int64_t seconds, const Take& take) {
  double heap0 = 0;
  std::size_t events0 = 0, events = 0;
  for (std::int64_t s = 0; s < seconds; ++s) {
    if (s == 60) {
      ::malloc_trim(0);
      heap0 = heap_outside_sqlite();
      events0 = events;
    }
    events += take(s);
  }
  ::malloc_trim(0);
  return {(heap_outside_sqlite() - heap0) / static_cast<double>(events - events0), events - events0};
}

Figures through_store(const PlantModel& plant, const ShiftCalendar& cal, TimeMs start, std::int64_t seconds,
                      const std::string& file) {
  const auto machines = plant.machines();
  auto store = storage::open_sqlite_store(file, plant, cal);
  std::vector<std::int64_t> seqs(machines.size() / 50 + 1, 0);
  return heap_per_event(seconds, [&](std::int64_t s) {
    const std::vector<Event> batch = second_of_events(machines, start, s, seqs);
    return static_cast<std::size_t>(store->append(batch, start + s * 1000).inserted);
  });
}

// The tail as it was: one vector of Events per machine, the new ones compacted from the last two kept.
Figures as_event_vectors(const PlantModel& plant, TimeMs start, std::int64_t seconds) {
  const auto machines = plant.machines();
  std::vector<std::vector<Event>> tails(machines.size());
  std::vector<std::int64_t> seqs(machines.size() / 50 + 1, 0);
  const Figures f = heap_per_event(seconds, [&](std::int64_t s) {
    std::vector<Event> batch = second_of_events(machines, start, s, seqs);
    for (std::size_t k = 0; k < machines.size(); ++k) {
      std::vector<Event>& tail = tails[k];
      const std::size_t from = tail.size() > 1 ? tail.size() - 2 : 0;
      for (std::size_t i = 2 * k; i < 2 * k + 2; ++i) tail.push_back(std::move(batch[i]));
      storage::keep_signs_bare(tail, from, machines[k]->no_data_after_ms);
    }
    return batch.size();
  });
  std::size_t kept = 0;
  for (const auto& t : tails) kept += t.size();
  if (kept != static_cast<std::size_t>(seconds) * 2 * machines.size()) throw std::runtime_error("the baseline dropped events");
  return f;
}

}  // namespace

int main() {
  try {
    const bool quick = std::getenv("BENCH_QUICK") != nullptr;
    const std::int64_t seconds = quick ? 600 : 3600;
    const PlantModel plant = synthetic::bench_plant(20, 50);
    const FixedOffsetZone zone(kMsPerHour, "+01:00");
    const ShiftCalendar cal(plant, zone);
    const TimeMs start = *parse_timestamp("2026-11-02T10:00:00Z");
    std::string dir = (fs::temp_directory_path() / "bench-store-tail-XXXXXX").string();
    if (!::mkdtemp(dir.data())) throw std::runtime_error("mkdtemp failed");
    const Figures before = as_event_vectors(plant, start, seconds);
    const Figures ours = through_store(plant, cal, start, seconds, dir + "/tail.db");
    fs::remove_all(dir);
    std::fprintf(stderr, "tail: %zu events of 1000 machines over %lld s: store %.1f heap bytes/event, as Events %.1f (%.1fx)\n",
                 ours.events, static_cast<long long>(seconds), ours.bytes_per_event, before.bytes_per_event,
                 before.bytes_per_event / ours.bytes_per_event);
    std::printf("BENCH\tSQLite store tail heap per event (1000 machines, counters at 2/s, an hour unsettled)\t%.1f\tbytes\t"
                "the tail as Events, same events\t%.1f\tlower\t<= 0.1 x baseline\n",
                ours.bytes_per_event, before.bytes_per_event);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_store_tail: %s\n", e.what());
    return 1;
  }
}
