// Voided counter readings (docs/oee-model.md, "Corrections") in every store: hand-made cases of
// what the property tests found on PostgreSQL, where a window's context (each counter's last
// reading before it) came from the events without their corrections. Every answer (a machine's
// windows, a group's, the history served) equals the engine over every event.
#include <gtest/gtest.h>

#include "oee/core/shift_calendar.h"
#include "oee/storage/event_store.h"
#include "storage_test_support.h"
#include "store_backends.h"

namespace oee::storage {
namespace {

using namespace testing;

// The same day on every machine of a plant of eight (a group of eight windows takes PostgreSQL's
// one-statement path, load_windows_with_lead; fewer take its separate walks and context lookups).
class StoreVoidedReadings : public ::testing::TestWithParam<const char*> {
 protected:
  PlantModel plant = test_plant(4, 2, 10 * kMsPerMinute);
  FixedOffsetZone zone;
  ShiftCalendar cal{plant, zone};
  std::unique_ptr<StoreBackend> backend = make_backend(GetParam());
  std::string location = backend->new_location();
  StoreOptions options;
  std::unique_ptr<EventStore> store;
  std::vector<Event> all;
  std::int64_t seq = 0;

  void open() { store = backend->open(location, plant, cal, options); }

  // What every machine says at `ts`.
  struct Said {
    const char* ts;
    EventType type;
    const char* state = "";
    std::int64_t value = 0;
  };
  static Said state(const char* ts, const char* s) { return {ts, EventType::state, s}; }
  static Said total(const char* ts, std::int64_t value) { return {ts, EventType::counter, "", value}; }

  // Each machine's events for `said`, sent in one batch (received at `received`).
  void send(std::initializer_list<Said> said, const char* received = "2026-11-12T00:00:00Z") {
    std::vector<Event> batch;
    ++seq;
    for (const MachineSpec* m : plant.machines())
      for (const Said& s : said) {
        Event e = event(*m, at(s.ts), s.type, seq * 100 + (&s - said.begin()));
        e.src = "plc-" + m->path;  // an identity is its source's: one source per machine
        e.state = s.state;
        e.value = s.value;
        batch.push_back(std::move(e));
      }
    deliver(batch, received);
  }
  // Each machine's correction voiding its total reading at `reading`, made at `made`.
  void void_total(const char* reading, const char* made, const char* received = "2026-11-12T00:00:00Z") {
    std::vector<Event> batch;
    for (const MachineSpec* m : plant.machines()) {
      Event c = event(*m, at(made), EventType::correction, ++seq);
      c.src = "supervisor-" + m->path;
      c.correction = CorrectionKind::void_reading;
      c.counter = CounterName::total;
      c.at = at(reading);
      c.by = "sam";
      c.why = "a misread";
      batch.push_back(std::move(c));
    }
    deliver(batch, received);
  }
  void deliver(const std::vector<Event>& batch, const char* received) {
    const AppendResult r = store->append(batch, at(received));
    ASSERT_EQ(r.inserted, batch.size());
    all.insert(all.end(), batch.begin(), batch.end());
  }

  // The engine's totals of the whole plant over every event sent.
  KpiTotals engine(TimeMs from, TimeMs to, TimeMs horizon) const {
    KpiTotals sum;
    for (const MachineSpec* m : plant.machines())
      sum += oee::machine_totals(MachineHistory::build(*m, of_machine(all, m->path)), cal, from, to, horizon);
    return sum;
  }
  // Each hour of [lo, hi), the whole of it, and windows with odd edges, per machine and as a group
  // (twice: the first materialises hours and carries that the second reads), against the engine.
  void expect_engine(TimeMs lo, TimeMs hi, const std::string& label) {
    const std::vector<const MachineSpec*> group = plant.machines();
    std::vector<std::pair<TimeMs, TimeMs>> windows = {{lo, hi}, {lo + 1234, hi - 777}, {lo + 2 * kMsPerHour + 5, hi}};
    for (TimeMs h = lo; h < hi; h += kMsPerHour) windows.push_back({h, h + kMsPerHour});
    for (const auto& [from, to] : windows)
      for (const TimeMs horizon : {kTimeMax, to}) {
        const std::string where = label + " [" + format_rfc3339(from) + ", " + format_rfc3339(to) + ")";
        const KpiTotals want = engine(from, to, horizon);
        KpiTotals each;
        for (const MachineSpec* m : group) each += store->machine_totals(*m, from, to, horizon);
        ASSERT_EQ(each, want) << where;
        ASSERT_EQ(store->machines_totals(group, from, to, horizon), want) << where << " group";
        ASSERT_EQ(store->machines_totals(group, from, to, horizon), want) << where << " group again";
      }
    const MachineSpec& m = *group.front();
    const MachineHistory served = store->machine_history(m, lo + kMsPerHour, hi);
    const MachineHistory ref = MachineHistory::build(m, of_machine(all, m.path));
    EXPECT_EQ(oee::machine_totals(served, cal, lo + kMsPerHour, hi, hi), oee::machine_totals(ref, cal, lo + kMsPerHour, hi, hi))
        << label << " machine_history";
  }
};

TimeMs on_10th(const char* hh_mm) { return at((std::string("2026-11-10T") + hh_mm + ":00Z").c_str()); }

// The last two readings before a stop are voided (a misread, then a PLC that read 5 for a moment):
// a window after the stop counts from the reading before both, as the engine does, not from the
// earlier voided one (PostgreSQL took the latest reading before the voided context, voided or not).
TEST_P(StoreVoidedReadings, TwoVoidedReadingsBeforeAWindowCountFromTheReadingBeforeThem) {
  open();
  send({state("2026-11-10T06:00:00Z", "running"), total("2026-11-10T06:10:00Z", 1000), total("2026-11-10T06:20:00Z", 1100),
        total("2026-11-10T06:30:00Z", 99'999), total("2026-11-10T06:40:00Z", 5), state("2026-11-10T07:00:00Z", "stopped"),
        state("2026-11-10T07:20:00Z", "running"), total("2026-11-10T09:00:00Z", 1400), total("2026-11-10T10:00:00Z", 1500),
        state("2026-11-10T11:00:00Z", "stopped"), total("2026-11-10T11:00:00Z", 1500)});
  void_total("2026-11-10T06:30:00Z", "2026-11-10T11:30:00Z");
  void_total("2026-11-10T06:40:00Z", "2026-11-10T11:40:00Z");
  const TimeMs lo = on_10th("06:00"), hi = on_10th("11:00");
  expect_engine(lo, hi, "voided twice");
  // The figure itself: 300 parts at 09:00 (1,400 - 1,100) on each machine.
  const MachineSpec& m = *plant.machines().front();
  EXPECT_EQ(store->machine_totals(m, on_10th("08:00"), on_10th("09:30"), kTimeMax).good_count, 300);
  store.reset();
  open();
  expect_engine(lo, hi, "reopened");
}

// Hours served (PostgreSQL materialises them on the first query) before a void arrives that names
// a reading of an earlier hour, the baseline of a later hour's count: those hours are recomputed.
// Then the first reading is voided too (the counter takes part only after the next one), and a
// void arriving before the reading it names is taken when that reading arrives late.
TEST_P(StoreVoidedReadings, AVoidOfAReadingThatIsALaterHoursBaselineRecomputesThatHour) {
  open();
  send({state("2026-11-10T06:00:00Z", "running"), total("2026-11-10T06:10:00Z", 1000), total("2026-11-10T06:50:00Z", 1200),
        total("2026-11-10T09:30:00Z", 1500), total("2026-11-10T10:30:00Z", 1600), total("2026-11-10T13:00:00Z", 1700),
        state("2026-11-10T13:00:00Z", "stopped")});
  const TimeMs lo = on_10th("06:00"), hi = on_10th("13:00");
  expect_engine(lo, hi, "before the voids");
  const MachineSpec& m = *plant.machines().front();
  EXPECT_EQ(store->machine_totals(m, on_10th("09:00"), on_10th("10:00"), kTimeMax).good_count, 300);
  void_total("2026-11-10T06:50:00Z", "2026-11-10T13:10:00Z");
  EXPECT_EQ(store->machine_totals(m, on_10th("09:00"), on_10th("10:00"), kTimeMax).good_count, 500);
  expect_engine(lo, hi, "the baseline voided");
  void_total("2026-11-10T06:10:00Z", "2026-11-10T13:20:00Z");
  expect_engine(lo, hi, "the first reading voided");
  void_total("2026-11-10T11:45:00Z", "2026-11-10T13:30:00Z");
  send({total("2026-11-10T11:45:00Z", 90'000)});
  expect_engine(lo, hi, "a void before its reading");
}

// A voided reading is the last before a retention cut (at midnight for both stores here), its void
// made before the cut too, so not kept (it corrects nothing after the cut): what the cut keeps as
// the counter's context is the reading before it, and the first reading after the cut counts from
// that. As the last sign of life before the cut the voided reading still counts, the void (made
// later, before the cut) does not. As the engine over every event.
TEST_P(StoreVoidedReadings, RetentionKeepsTheReadingBeforeAVoidedOneAsTheContext) {
  options.retention_days = 1;
  open();
  send({state("2026-11-10T06:00:00Z", "running"), total("2026-11-10T08:00:00Z", 1000), total("2026-11-10T23:40:00Z", 99'999),
        total("2026-11-11T00:02:00Z", 1300), total("2026-11-11T00:10:00Z", 1350), total("2026-11-11T00:20:00Z", 1400),
        state("2026-11-11T00:30:00Z", "stopped"), state("2026-11-11T00:40:00Z", "running"),
        total("2026-11-11T01:00:00Z", 1500), state("2026-11-11T02:00:00Z", "stopped")},
       "2026-11-11T12:00:00Z");
  void_total("2026-11-10T23:40:00Z", "2026-11-10T23:55:00Z", "2026-11-11T12:00:00Z");
  const TimeMs lo = at("2026-11-11T00:00:00Z"), hi = at("2026-11-11T02:00:00Z");
  expect_engine(lo, hi, "before retention");
  ASSERT_GT(store->apply_retention(at("2026-11-12T00:30:00Z")).events, 0);
  expect_engine(lo, hi, "after retention");
  // The figures themselves: 300 parts at 00:02 (1,300 - 1,000); on the machine with no-data
  // detection (10 min) no data from 23:40 (the silence is 22 min) to 00:02.
  const MachineSpec& plain = *plant.machines()[0];
  const MachineSpec& watched = *plant.machines()[1];
  ASSERT_GT(watched.no_data_after_ms, 0);
  EXPECT_EQ(store->machine_totals(plain, lo, at("2026-11-11T00:05:00Z"), kTimeMax).good_count, 300);
  EXPECT_EQ(store->machine_totals(watched, lo, at("2026-11-11T00:05:00Z"), kTimeMax).no_data_ms, 2 * kMsPerMinute);
  store.reset();
  open();
  expect_engine(lo, hi, "reopened after retention");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreVoidedReadings, ::testing::ValuesIn(kBackends), backend_name);

}  // namespace
}  // namespace oee::storage
