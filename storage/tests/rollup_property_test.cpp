// The key property of the store (every backend): machine_totals (rollups for settled hours + the engine for the
// rest) equals the engine over every event of the machine, bit for bit, whatever the order,
// batching, duplication and lateness of the events, for any window and horizon. The plants have
// machines with no-data detection (silences, heartbeats) beside machines without.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <random>

#include "oee/core/shift_calendar.h"
#include "oee/storage/event_store.h"
#include "storage_test_support.h"
#include "store_backends.h"

namespace oee::storage {
namespace {

using namespace testing;

std::vector<Event> sorted_for(const MachineSpec& m, const std::vector<Event>& all) {
  std::vector<Event> out;
  for (const Event& e : all)
    if (e.machine == m.path) out.push_back(e);
  return out;
}

// The fields (by index in OEE_KPI_FIELDS) where `a` and `b` differ.
std::string kpi_diff(KpiTotals a, KpiTotals b) {
  std::string out;
  const auto fa = kpi_fields(a), fb = kpi_fields(b);
  for (std::size_t i = 0; i < fa.size(); ++i)
    if (*fa[i] != *fb[i]) out += " field " + std::to_string(i) + ": " + std::to_string(*fa[i]) + " vs " + std::to_string(*fb[i]);
  return out;
}

// The corrections sent (`sent`) and stored of `spec` that name an instant in [from, to); with
// OEE_DEBUG_INTERVALS set, the reclassifications near it and both histories' intervals.
std::string corrections_of(EventStore& store, const std::vector<Event>& sent, const MachineSpec& spec, TimeMs from, TimeMs to) {
  std::string out = "\n sent:";
  for (const Event& e : sent)
    if (e.type == EventType::correction && e.at >= from && e.at < to)
      out += " " + std::to_string(static_cast<int>(e.correction)) + "@" + format_rfc3339(e.at) + " n=" + std::to_string(e.reject);
  out += "\n stored:";
  for (const Event& e : store.machine_corrections(spec.path, from, to))
    out += " " + std::to_string(static_cast<int>(e.correction)) + "@" + format_rfc3339(e.at) + " n=" + std::to_string(e.reject);
  if (!std::getenv("OEE_DEBUG_INTERVALS")) return out;
  for (const Event& e : sent)
    if (e.type == EventType::correction && e.correction == CorrectionKind::reclassify && e.at < to && e.until > from - kMsPerHour)
      out += "\n reclassify [" + format_rfc3339(e.at) + ", " + format_rfc3339(e.until) + ") '" + e.state + "' '" + e.reason +
             "' ts " + std::to_string(e.ts);
  auto dump = [&](const MachineHistory& h, const char* name) {
    out += std::string("\n ") + name + ":";
    for (const StateInterval& iv : h.intervals())
      if (iv.end > from - kMsPerHour && iv.start < to)
        out += " [" + format_rfc3339(iv.start) + " " + std::string(state_name(iv.state)) + " '" + iv.reason + "' " +
               std::to_string(iv.reason_ts) + "]";
  };
  dump(MachineHistory::build(spec, sent), "engine");
  dump(store.machine_history(spec, from, to), "store");
  return out;
}

struct Checker {
  const PlantModel& plant;
  const ShiftCalendar& cal;
  std::map<std::string, std::vector<Event>> delivered;  // per machine, duplicates included
  std::mt19937_64 rng{99};

  void check(EventStore& store, TimeMs lo, TimeMs hi, int windows, const std::string& label) {
    for (const MachineSpec* spec : plant.machines()) {
      const auto& events = delivered[spec->path];
      const MachineHistory ref = MachineHistory::build(*spec, events);
      TimeMs last_ts = lo;
      for (const Event& e : events) last_ts = std::max(last_ts, e.ts);
      auto rnd = [&](TimeMs a, TimeMs b) { return a + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(b - a)); };
      for (int i = 0; i < windows; ++i) {
        const auto [from, to, horizon] = random_query_window(lo, hi, last_ts, i, rng);
        const KpiTotals want = oee::machine_totals(ref, cal, from, to, horizon);
        const KpiTotals got = store.machine_totals(*spec, from, to, horizon);
        ASSERT_EQ(got, want) << label << " " << spec->path << " [" << format_rfc3339(from) << ", " << format_rfc3339(to)
                             << ") horizon " << (horizon == kTimeMax ? std::string("max") : format_rfc3339(horizon))
                             << kpi_diff(got, want) << corrections_of(store, events, *spec, from, to);
      }
      // The history served for a window answers like the full one inside it.
      const TimeMs from = rnd(lo, hi), to = from + rnd(1, 6 * kMsPerHour);
      const MachineHistory part = store.machine_history(*spec, from, to);
      ASSERT_EQ(oee::machine_totals(part, cal, from, to, to), oee::machine_totals(ref, cal, from, to, to))
          << label << " machine_history " << spec->path << " [" << format_rfc3339(from) << ", " << format_rfc3339(to) << ")"
          << kpi_diff(oee::machine_totals(part, cal, from, to, to), oee::machine_totals(ref, cal, from, to, to));
    }
  }
};

// Heartbeats of each machine at random instants of [from, to), from a source of their own: a
// backfill that splits silences.
std::vector<Event> random_heartbeats(const PlantModel& plant, TimeMs from, TimeMs to, int per_machine, std::mt19937_64& rng) {
  std::vector<Event> out;
  for (const MachineSpec* m : plant.machines())
    for (int i = 0; i < per_machine; ++i) {
      Event e;
      e.machine = m->path;
      e.type = EventType::heartbeat;
      e.ts = from + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(to - from));
      e.src = "backfill-" + m->path;
      e.seq = i;
      out.push_back(std::move(e));
    }
  return out;
}

// Process values of each machine (an edge's sample tags) in bursts of one to four at one instant,
// as a poll reads several tags at once: the engine takes them as signs of life only, and the
// stores keep them bare in their tails (signs_of_life.h), which must not change any figure.
std::vector<Event> random_samples(const PlantModel& plant, TimeMs from, TimeMs to, int bursts, std::mt19937_64& rng) {
  std::vector<Event> out;
  for (const MachineSpec* m : plant.machines())
    for (int i = 0; i < bursts; ++i) {
      const TimeMs ts = from + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(to - from));
      for (std::uint64_t k = 0, n = 1 + rng() % 4; k < n; ++k) {
        Event e;
        e.machine = m->path;
        e.type = EventType::sample;
        e.ts = ts;
        e.sample_name = "value" + std::to_string(k);
        e.sample_value = static_cast<double>(rng() % 1000) / 10.0;
        e.src = "samples-" + m->path;
        e.seq = static_cast<std::int64_t>(out.size());
        out.push_back(std::move(e));
      }
    }
  return out;
}

// A supervisor's corrections of each machine of `events` (docs/oee-model.md, "Corrections"), of
// every kind: reclassified ranges of up to two hours (a state, a reason or both), rejects found
// later, voided counter readings (of readings in `events`); most made up to a day after what they
// correct, some before it (the engine takes them whenever made), a few with a count of 0 (left out).
std::vector<Event> random_corrections(const PlantModel& plant, const std::vector<Event>& events, TimeMs from, TimeMs to,
                                      int per_machine, std::mt19937_64& rng) {
  static const char* const states[] = {"running", "stopped", "setup", "starved", "blocked", "planned_stop"};
  std::vector<Event> out;
  for (const MachineSpec* m : plant.machines()) {
    std::vector<const Event*> readings;
    for (const Event& e : events)
      if (e.machine == m->path && e.type == EventType::counter) readings.push_back(&e);
    for (int i = 0; i < per_machine; ++i) {
      Event c;
      c.machine = m->path;
      c.type = EventType::correction;
      c.by = "sam";
      c.why = "shift report " + std::to_string(i);
      c.correction = static_cast<CorrectionKind>(rng() % 3);
      if (c.correction == CorrectionKind::void_reading && readings.empty()) c.correction = CorrectionKind::rejects;
      c.at = from + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(to - from));
      if (c.correction == CorrectionKind::void_reading) {
        const Event& r = *readings[rng() % readings.size()];
        c.at = r.ts;
        c.counter = r.counter;
      }
      c.until = c.at + 1 + static_cast<TimeMs>(rng() % (2 * kMsPerHour));
      if (c.correction == CorrectionKind::reclassify) {
        if (rng() % 3) c.state = states[rng() % 6];
        if (c.state.empty() || rng() % 2) c.reason = rng() % 2 ? "jam" : "material";
      }
      c.reject = c.correction == CorrectionKind::rejects ? static_cast<std::int64_t>(rng() % 6) : 0;
      c.ts = rng() % 5 ? c.at + static_cast<TimeMs>(rng() % kMsPerDay) : from + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(to - from));
      if (rng() % 2) {
        c.src = "supervisor-" + m->path;
        c.seq = i;
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

// Every machine of the plant reads its reasons through `tree`; returns it.
std::shared_ptr<const ReasonTree> give_reason_tree(PlantModel& plant, std::shared_ptr<const ReasonTree> tree) {
  for (SiteSpec& site : plant.sites)
    for (AreaSpec& area : site.areas)
      for (LineSpec& line : area.lines)
        for (MachineSpec& m : line.machines) m.reasons = tree;
  return tree;
}

// retention: at the end, a cut a day before the last event, then a backfill of heartbeats after it;
// windows after the cut still equal the engine over every event.
void run_property(const char* backend_name, std::uint64_t seed, double late_fraction, double dup_fraction, std::size_t max_batch,
                  DurationMs max_step_ms, int days = 3, DurationMs no_data_after_ms = 5 * kMsPerMinute,
                  bool retention = false, std::shared_ptr<const ReasonTree> reasons = nullptr, int corrections = 0,
                  const std::function<void(PlantModel&)>& schedule = {}) {
  PlantModel plant = test_plant(2, 2, no_data_after_ms);
  if (reasons) plant.reasons = give_reason_tree(plant, reasons);
  if (schedule) schedule(plant);
  const FixedOffsetZone zone(kMsPerHour, "+01:00");
  const ShiftCalendar cal(plant, zone);
  const TimeMs lo = at("2026-11-10T00:00:00Z"), hi = lo + days * kMsPerDay;
  std::vector<Event> all = plant_events(plant, seed, lo, hi, max_step_ms, true, "gen-");
  std::mt19937_64 sample_rng(seed * 13 + 5);
  for (Event& e : random_samples(plant, lo, hi, days * 200, sample_rng)) all.push_back(std::move(e));
  if (corrections > 0) {
    const std::vector<Event> made = random_corrections(plant, all, lo, hi, corrections, sample_rng);
    all.insert(all.end(), made.begin(), made.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const Event& a, const Event& b) { return a.ts < b.ts; });
  std::mt19937_64 rng(seed * 7 + 1);
  // Arrival: in time order (interleaved machines), but some events held back and delivered late.
  std::vector<Event> on_time, late;
  for (Event& e : all) ((rng() % 10000) < late_fraction * 10000 ? late : on_time).push_back(std::move(e));
  std::shuffle(late.begin(), late.end(), rng);

  auto backend = make_backend(backend_name);
  const std::string location = backend->new_location();
  StoreOptions options;
  options.retention_days = retention ? 1 : 0;
  auto store = backend->open(location, plant, cal, options);
  Checker checker{plant, cal, {}, std::mt19937_64(seed)};
  std::size_t next = 0, next_late = 0, batches = 0;
  std::vector<Event> sent;
  while (next < on_time.size() || next_late < late.size()) {
    std::vector<Event> batch;
    const std::size_t n = 1 + rng() % max_batch;
    for (std::size_t i = 0; i < n && next < on_time.size(); ++i) batch.push_back(on_time[next++]);
    // Late events trickle in, and the rest arrives at the end.
    if (next_late < late.size() && (next >= on_time.size() || rng() % 4 == 0)) {
      const std::size_t k = 1 + rng() % 8;
      for (std::size_t i = 0; i < k && next_late < late.size(); ++i) batch.push_back(late[next_late++]);
    }
    if (!sent.empty())
      for (std::size_t i = 0; i < static_cast<std::size_t>(static_cast<double>(batch.size()) * dup_fraction) + (rng() % 2); ++i)
        batch.push_back(sent[rng() % sent.size()]);
    if (rng() % 3 == 0) std::shuffle(batch.begin(), batch.end(), rng);
    const AppendResult r = store->append(batch, hi);
    EXPECT_EQ(r.inserted + r.duplicates, batch.size());
    for (const Event& e : batch) {
      checker.delivered[e.machine].push_back(e);
      sent.push_back(e);
    }
    if (++batches % 40 == 0) checker.check(*store, lo, hi, 6, "batch " + std::to_string(batches));
  }
  checker.check(*store, lo, hi, 60, "final");
  if (corrections > 0) {  // the corrections matter to the figures compared
    int changed = 0;
    for (const MachineSpec* m : plant.machines()) {
      std::vector<Event> uncorrected = checker.delivered[m->path];
      std::erase_if(uncorrected, [](const Event& e) { return e.type == EventType::correction; });
      changed += oee::machine_totals(MachineHistory::build(*m, uncorrected), cal, lo, hi, hi) !=
                 oee::machine_totals(MachineHistory::build(*m, checker.delivered[m->path]), cal, lo, hi, hi);
    }
    EXPECT_EQ(changed, static_cast<int>(plant.machines().size()));
  }
  // Everything once: the distinct count equals the store's count.
  std::int64_t distinct = 0;
  for (const MachineSpec* m : plant.machines())
    distinct += static_cast<std::int64_t>(MachineHistory::build(*m, checker.delivered[m->path]).distinct_events());
  EXPECT_EQ(store->event_count(), distinct);
  // Reopened, the tails rebuilt from the file answer the same.
  store.reset();
  store = backend->open(location, plant, cal, options);
  checker.check(*store, lo, hi, 30, "reopened");
  if (!retention) return;
  const TimeMs cutoff = hi - kMsPerDay;
  ASSERT_GT(store->apply_retention(hi).events, 0);
  // Windows from the cut on (random_query_window starts them up to 3 h before its lo).
  checker.check(*store, cutoff + 3 * kMsPerHour, hi, 30, "after retention");
  const std::vector<Event> backfill = random_heartbeats(plant, cutoff, hi, 30, rng);
  store->append(backfill, hi);
  for (const Event& e : backfill) checker.delivered[e.machine].push_back(e);
  checker.check(*store, cutoff + 3 * kMsPerHour, hi, 30, "backfilled after retention");
  store.reset();
  store = backend->open(location, plant, cal, options);
  checker.check(*store, cutoff + 3 * kMsPerHour, hi, 30, "reopened after retention");
}

class StoreRollups : public ::testing::TestWithParam<const char*> {};

// A machine silent for two hours, its edge's backlog delivered late: the store answers exactly
// like the data sent in order (results are a function of the stored events only), for the machine
// with no-data detection and the one without.
TEST_P(StoreRollups, ABackfilledSilenceGivesTheSameTotalsAsDataSentInOrder) {
  const PlantModel plant = test_plant(1, 2, 5 * kMsPerMinute);
  const FixedOffsetZone zone(kMsPerHour, "+01:00");
  const ShiftCalendar cal(plant, zone);
  const TimeMs lo = at("2026-11-10T00:00:00Z"), hi = lo + kMsPerDay;
  const TimeMs gap_from = lo + 8 * kMsPerHour, gap_to = lo + 10 * kMsPerHour;
  std::vector<Event> all = plant_events(plant, 5, lo, hi, 60'000);
  std::vector<Event> first, backlog;
  for (Event& e : all) (e.ts >= gap_from && e.ts < gap_to ? backlog : first).push_back(std::move(e));
  auto backend = make_backend(GetParam());
  const std::string in_order_at = backend->new_location(), backfilled_at = backend->new_location();
  auto in_order = backend->open(in_order_at, plant, cal);
  std::vector<Event> sorted = first;
  sorted.insert(sorted.end(), backlog.begin(), backlog.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const Event& a, const Event& b) { return a.ts < b.ts; });
  in_order->append(sorted, hi);
  auto backfilled = backend->open(backfilled_at, plant, cal);
  backfilled->append(first, hi);
  const MachineSpec& watched = *plant.machines()[1];
  ASSERT_GT(watched.no_data_after_ms, 0);
  // Before the backlog arrives the silence is no data.
  EXPECT_EQ(backfilled->machine_totals(watched, gap_from, gap_to, hi).no_data_ms, 2 * kMsPerHour);
  backfilled->append(backlog, hi);
  std::mt19937_64 rng(3);
  for (const MachineSpec* m : plant.machines())
    for (int i = 0; i < 40; ++i) {
      const QueryWindow w = random_query_window(lo, hi, hi, i, rng);
      ASSERT_EQ(backfilled->machine_totals(*m, w.from, w.to, w.horizon), in_order->machine_totals(*m, w.from, w.to, w.horizon))
          << m->path << " window " << i;
    }
  const KpiTotals day = in_order->machine_totals(watched, lo, hi, hi);
  EXPECT_EQ(day, oee::machine_totals(MachineHistory::build(watched, sorted_for(watched, sorted)), cal, lo, hi, hi));
}

TEST_P(StoreRollups, InOrderEventsEqualTheEngine) { run_property(GetParam(), 1, 0.0, 0.0, 300, 90'000); }
TEST_P(StoreRollups, ShuffledDuplicatedAndLateEventsEqualTheEngine) { run_property(GetParam(), 2, 0.1, 0.2, 200, 90'000); }
TEST_P(StoreRollups, SmallBatchesDenseEventsEqualTheEngine) { run_property(GetParam(), 3, 0.03, 0.1, 40, 30'000, 1); }
TEST_P(StoreRollups, SparseEventsManyLateEqualTheEngine) { run_property(GetParam(), 4, 0.4, 0.3, 50, 600'000); }

// With a reason tree a reason changes its stop's loss (the generator's "material" reasons, naming
// an instant up to 10 min before they are given, make it planned; its "jam", sent with the state,
// a small stop whatever its length): late reasons recompute the settled hours of their stop, and
// a window's partial hours see a reason given after the window's end.
TEST_P(StoreRollups, ReasonTreeLossesWithLateReasonsEqualTheEngine) {
  auto tree = std::make_shared<ReasonTree>();
  const int org = tree->add("ORG", "Organisation", -1, ReasonLoss::planned);
  tree->add("material", "Material", org, ReasonLoss::none);
  tree->add("jam", "Jam", -1, ReasonLoss::small_stop);
  run_property(GetParam(), 7, 0.2, 0.1, 100, 90'000, 2, 5 * kMsPerMinute, false, tree);
}

// Corrections of every kind (docs/oee-model.md, "Corrections"), late, shuffled and duplicated
// among the events, most made long after the hours they correct were settled: the stores recompute
// those hours, and every window, partial hours included, takes the corrections that overlap it.
TEST_P(StoreRollups, CorrectionsLateShuffledAndDuplicatedEqualTheEngine) {
  run_property(GetParam(), 8, 0.2, 0.1, 150, 120'000, 1, 5 * kMsPerMinute, false, nullptr, 40);
}
// With a reason tree (a corrected reason changes a stop's loss), and retention with a backfill.
TEST_P(StoreRollups, CorrectionsWithReasonTreeAndRetentionEqualTheEngine) {
  auto tree = std::make_shared<ReasonTree>();
  const int org = tree->add("ORG", "Organisation", -1, ReasonLoss::planned);
  tree->add("material", "Material", org, ReasonLoss::none);
  tree->add("jam", "Jam", -1, ReasonLoss::small_stop);
  run_property(GetParam(), 9, 0.1, 0.1, 200, 240'000, 2, 5 * kMsPerMinute, true, tree, 40);
}

// No-data thresholds across hour boundaries (50 min) and shorter than most gaps between events
// (2 min), late and duplicated events, then retention and a backfill after the cut.
TEST_P(StoreRollups, LongNoDataThresholdLateEventsRetentionAndBackfillEqualTheEngine) {
  run_property(GetParam(), 5, 0.15, 0.1, 120, 300'000, 3, 50 * kMsPerMinute, true);
}
TEST_P(StoreRollups, ShortNoDataThresholdLateEventsRetentionAndBackfillEqualTheEngine) {
  run_property(GetParam(), 6, 0.05, 0.1, 200, 90'000, 3, 2 * kMsPerMinute, true);
}

// A month of a machine with no-data detection: once its hours are settled (and, on PostgreSQL,
// materialised by a first query), a query over the month does not read the events of its middle:
// deleted behind the store's back, they leave the answer as it was, equal to the engine over every
// event, though the engine over what is left would see weeks of no data.
TEST_P(StoreRollups, ANoDataMachineIsServedFromRollupsOverALongWindow) {
  const PlantModel plant = test_plant(1, 2, 10 * kMsPerMinute);
  const FixedOffsetZone zone(kMsPerHour, "+01:00");
  const ShiftCalendar cal(plant, zone);
  const MachineSpec& watched = *plant.machines()[1];
  ASSERT_GT(watched.no_data_after_ms, 0);
  const TimeMs lo = at("2026-10-01T00:00:00Z"), hi = lo + 30 * kMsPerDay;
  const std::vector<Event> all = plant_events(plant, 21, lo, hi, 120'000, true);
  auto backend = make_backend(GetParam());
  const std::string location = backend->new_location();
  auto store = backend->open(location, plant, cal);
  for (std::size_t i = 0; i < all.size(); i += 2000)
    store->append(std::span(all).subspan(i, std::min<std::size_t>(2000, all.size() - i)), hi);
  const TimeMs from = lo + 17 * kMsPerMinute, to = hi - 23 * kMsPerMinute;
  const std::vector<Event> events = of_machine(all, watched.path);
  const KpiTotals want = oee::machine_totals(MachineHistory::build(watched, events), cal, from, to, hi);
  ASSERT_GT(want.no_data_ms, 0);
  EXPECT_EQ(store->machine_totals(watched, from, to, hi), want);
  const std::vector<const MachineSpec*> group = plant.machines();
  const KpiTotals plant_before = store->machines_totals(group, from, to, hi);

  const TimeMs cut_from = lo + 2 * kMsPerDay, cut_to = hi - 2 * kMsPerDay;
  ASSERT_GT(backend->delete_events_of_hours(location, cut_from, cut_to), 0);
  std::vector<Event> left;
  for (const Event& e : events)
    if (e.ts < cut_from || e.ts >= cut_to) left.push_back(e);
  const KpiTotals from_left = oee::machine_totals(MachineHistory::build(watched, left), cal, from, to, hi);
  ASSERT_GT(from_left.no_data_ms, want.no_data_ms + kMsPerDay) << "the deletion must show in the engine's answer";
  EXPECT_EQ(store->machine_totals(watched, from, to, hi), want);
  EXPECT_EQ(store->machines_totals(group, from, to, hi), plant_before);
}

// The store's totals of `spec` over [lo, hi) and over `windows` random windows in it equal the
// engine's over every event under `cal`; returns the engine's totals of [lo, hi).
KpiTotals expect_store_is_engine(EventStore& store, const MachineSpec& spec, const std::vector<Event>& all,
                                 const ShiftCalendar& cal, TimeMs lo, TimeMs hi, int windows, std::mt19937_64& rng,
                                 const std::string& label) {
  const MachineHistory h = MachineHistory::build(spec, of_machine(all, spec.path));
  const KpiTotals whole = oee::machine_totals(h, cal, lo, hi, hi);
  EXPECT_EQ(store.machine_totals(spec, lo, hi, hi), whole) << label << " " << spec.path;
  for (int i = 0; i < windows; ++i) {
    const QueryWindow w = random_query_window(lo, hi, hi, i, rng);
    EXPECT_EQ(store.machine_totals(spec, w.from, w.to, w.horizon), oee::machine_totals(h, cal, w.from, w.to, w.horizon))
        << label << " " << spec.path << " window " << i;
  }
  return whole;
}

// Rollups are made with the no-data threshold of the plant the store was opened with: a caller's
// spec with another threshold gets the engine, and a store opened again with a changed plant file
// answers with the new threshold (SQLite recomputes the machine's rollups, PostgreSQL drops them).
TEST_P(StoreRollups, AChangedNoDataThresholdIsNeverAnsweredFromOldRollups) {
  const PlantModel without = test_plant(1, 2, 0), with = test_plant(1, 2, 20 * kMsPerMinute);
  const FixedOffsetZone zone(kMsPerHour, "+01:00");
  const ShiftCalendar cal_without(without, zone), cal_with(with, zone);
  const TimeMs lo = at("2026-11-10T00:00:00Z"), hi = lo + 3 * kMsPerDay;
  const std::vector<Event> all = plant_events(without, 31, lo, hi, 90'000, true);
  auto backend = make_backend(GetParam());
  const std::string location = backend->new_location();
  std::mt19937_64 rng(5);
  auto expect_engine = [&](EventStore& store, const ShiftCalendar& cal, const MachineSpec& spec, const char* label) {
    expect_store_is_engine(store, spec, all, cal, lo, hi, 20, rng, label);
  };
  const MachineSpec& plain = *without.machines()[1];
  const MachineSpec& watched = *with.machines()[1];
  ASSERT_EQ(plain.path, watched.path);
  {
    auto store = backend->open(location, without, cal_without);
    for (std::size_t i = 0; i < all.size(); i += 700)
      store->append(std::span(all).subspan(i, std::min<std::size_t>(700, all.size() - i)), hi);
    expect_engine(*store, cal_without, plain, "plant without no-data");
    ASSERT_GT(oee::machine_totals(MachineHistory::build(watched, of_machine(all, watched.path)), cal_with, lo, hi, hi).no_data_ms, 0);
    expect_engine(*store, cal_with, watched, "a caller's spec with a threshold");
  }
  {
    auto store = backend->open(location, with, cal_with);
    expect_engine(*store, cal_with, watched, "reopened with a threshold");
  }
  auto store = backend->open(location, without, cal_without);
  expect_engine(*store, cal_without, plain, "reopened without it again");
}

// Reopened with `after`'s calendar, a store filled under `before` answers like the engine under
// `after`, and under `before` again once reopened with it; the change must matter to the figures.
void expect_a_changed_calendar_is_never_answered_from_old_rollups(const char* backend_name, const PlantModel& before,
                                                                  const PlantModel& after) {
  const FixedOffsetZone zone(kMsPerHour, "+01:00");
  const ShiftCalendar cal_before(before, zone), cal_after(after, zone);
  const TimeMs lo = at("2026-11-10T00:00:00Z"), hi = lo + 4 * kMsPerDay;
  const std::vector<Event> all = plant_events(before, 37, lo, hi, 90'000, true);
  auto backend = make_backend(backend_name);
  const std::string location = backend->new_location();
  std::mt19937_64 rng(11);
  auto expect_engine = [&](EventStore& store, const PlantModel& plant, const ShiftCalendar& cal, const char* label) {
    KpiTotals plant_whole;
    for (const MachineSpec* spec : plant.machines()) plant_whole += expect_store_is_engine(store, *spec, all, cal, lo, hi, 10, rng, label);
    return plant_whole;
  };
  KpiTotals first;
  {
    auto store = backend->open(location, before, cal_before);
    for (std::size_t i = 0; i < all.size(); i += 500)
      store->append(std::span(all).subspan(i, std::min<std::size_t>(500, all.size() - i)), hi);
    first = expect_engine(*store, before, cal_before, "first calendar");
  }
  {
    auto store = backend->open(location, after, cal_after);
    const KpiTotals changed = expect_engine(*store, after, cal_after, "reopened with another calendar");
    EXPECT_NE(changed.planned_downtime_ms, first.planned_downtime_ms);  // the change matters to the figures compared
  }
  auto store = backend->open(location, before, cal_before);
  expect_engine(*store, before, cal_before, "reopened with the first calendar again");
}

// The shift calendar is a rule of the rollups too: a plant file whose shifts, breaks or production
// days changed between two runs is answered with the new calendar, on reopening and back again.
TEST_P(StoreRollups, AChangedShiftCalendarIsNeverAnsweredFromOldRollups) {
  const PlantModel before = test_plant(1, 2, 0);
  PlantModel after = before;
  ASSERT_FALSE(after.shifts.empty());
  after.shifts.front().start_minute += 30;  // the first shift starts half an hour later
  after.shifts.back().breaks.clear();       // and the last loses its breaks
  after.non_production_dates.clear();       // and the non-production day is worked
  expect_a_changed_calendar_is_never_answered_from_old_rollups(GetParam(), before, after);
}

// Line l0 on its own night shift, the site in +05:30 (the calendar's zone is +01:00), a one-off
// window on line l0 and a recurring one on machine l1/m1, both cutting hours in their middle.
void give_schedules(PlantModel& plant) {
  SiteSpec& site = plant.sites.at(0);
  site.zone = std::make_shared<FixedOffsetZone>(5 * kMsPerHour + 30 * kMsPerMinute, "+05:30");
  LineSpec& l0 = site.areas.at(0).lines.at(0);
  l0.shifts = std::vector<ShiftSpec>{{"night", 21 * 60 + 30, 5 * 60 + 45, {{1 * 60 + 10, 1 * 60 + 40}}}};
  DowntimeWindow once;
  once.name = "trial";
  once.target = l0.path;
  once.local_start_ms = at("2026-11-10T23:20:00Z");  // local wall times
  once.local_end_ms = at("2026-11-11T03:10:00Z");
  DowntimeWindow weekly;
  weekly.name = "cleaning";
  weekly.target = site.areas.at(0).lines.at(1).machines.at(1).path;
  weekly.recurring = true;
  weekly.start_minute = 8 * 60 + 40;
  weekly.end_minute = 11 * 60 + 5;
  weekly.weekdays = {false, true, true, false, false, false, false};
  plant.downtime = {once, weekly};
}

// Downtime windows, a line's own shifts and a site's own zone: the stores' rollups plan each
// machine's hours by its own calendar, exactly as the engine, with late and duplicated events.
TEST_P(StoreRollups, DowntimeWindowsLineShiftsAndASiteZoneEqualTheEngine) {
  run_property(GetParam(), 8, 0.1, 0.1, 150, 90'000, 2, 5 * kMsPerMinute, false, nullptr, 0, give_schedules);
}

// A downtime window added to the plant file between two runs is not answered from old rollups.
TEST_P(StoreRollups, AChangedDowntimeWindowIsNeverAnsweredFromOldRollups) {
  const PlantModel before = test_plant(2, 2, 0);
  PlantModel after = before;
  give_schedules(after);
  after.sites[0].zone = nullptr;  // only the windows and the line's shifts change
  expect_a_changed_calendar_is_never_answered_from_old_rollups(GetParam(), before, after);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreRollups, ::testing::ValuesIn(kBackends), backend_name);

}  // namespace
}  // namespace oee::storage

namespace oee::storage {
namespace {

using namespace testing;

// A file written before rules were stored beside the rollups, whose no-data machine's rollups were
// made without signs of life (here: their no-data time zeroed): opened, they are recomputed.
TEST(SqliteRollupRules, AFileWithoutStoredRulesHasItsNoDataRollupsRecomputed) {
  const PlantModel plant = test_plant(1, 2, 10 * kMsPerMinute);
  const FixedOffsetZone zone(kMsPerHour, "+01:00");
  const ShiftCalendar cal(plant, zone);
  const MachineSpec& watched = *plant.machines()[1];
  const TimeMs lo = at("2026-11-10T00:00:00Z"), hi = lo + 2 * kMsPerDay;
  const std::vector<Event> all = plant_events(plant, 41, lo, hi, 90'000, true);
  TempDir dir;
  const std::string file = dir.file("old.db");
  open_sqlite_store(file, plant, cal)->append(all, hi);
  const KpiTotals want = oee::machine_totals(MachineHistory::build(watched, of_machine(all, watched.path)), cal, lo, hi, hi);
  ASSERT_GT(want.no_data_ms, 0);
  {
    sqlite::Database db(file);
    db.exec("DELETE FROM meta WHERE key LIKE 'rules:%'; UPDATE rollups SET no_data_ms=0");
  }
  EXPECT_EQ(open_sqlite_store(file, plant, cal)->machine_totals(watched, lo, hi, hi), want);
}

}  // namespace
}  // namespace oee::storage
