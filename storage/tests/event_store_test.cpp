// The storage suite, run against every backend (SQLite and PostgreSQL): idempotent append, source
// statistics, dead letters, retention, and hand-made late-event cases at hour boundaries where
// rollups are easiest to get wrong. Plus SQLite's file migrations.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <random>

#include "oee/core/shift_calendar.h"
#include "oee/storage/event_store.h"
#include "kpi_columns.h"
#include "sqlite_db.h"
#include "sqlite_schema.h"
#include "storage_test_support.h"
#include "store_backends.h"

namespace oee::storage {
namespace {

using namespace testing;

Event state(const MachineSpec& m, TimeMs ts, const char* s, std::int64_t seq) {
  Event e = event(m, ts, EventType::state, seq);
  e.state = s;
  return e;
}
Event count(const MachineSpec& m, TimeMs ts, std::int64_t good, std::int64_t reject, std::int64_t seq) {
  Event e = event(m, ts, EventType::count, seq);
  e.good = good;
  e.reject = reject;
  return e;
}
Event counter(const MachineSpec& m, TimeMs ts, CounterName name, std::int64_t value, std::int64_t seq) {
  Event e = event(m, ts, EventType::counter, seq);
  e.counter = name;
  e.value = value;
  return e;
}
Event product(const MachineSpec& m, TimeMs ts, std::string name, std::int64_t seq) {
  Event e = event(m, ts, EventType::product, seq);
  e.product = std::move(name);
  return e;
}
Event sample(const MachineSpec& m, TimeMs ts, const char* name, double value, std::int64_t seq) {
  Event e = event(m, ts, EventType::sample, seq);
  e.sample_name = name;
  e.sample_value = value;
  return e;
}

Event run(const MachineSpec& m, TimeMs ts, RunAction action, const char* order, std::int64_t seq) {
  Event e = event(m, ts, EventType::run, seq);
  e.run_action = action;
  e.run = order;
  if (action == RunAction::start) e.product = "cap", e.quantity = 500, e.run_cycle_us = 800'000;
  return e;
}

std::int64_t scalar(const std::string& file, const char* sql) {
  sqlite::Database db(file);
  sqlite::Statement s(db, sql);
  s.step();
  return s.int_at(0);
}

class StoreTest : public ::testing::TestWithParam<const char*> {
 protected:
  PlantModel plant = test_plant(1, 1);
  FixedOffsetZone zone;
  ShiftCalendar cal{plant, zone};
  const MachineSpec& m = *plant.machines()[0];
  std::unique_ptr<StoreBackend> backend = make_backend(GetParam());
  std::string file = backend->new_location();
  std::unique_ptr<EventStore> store = backend->open(file, plant, cal);
  std::vector<Event> all;

  void send(std::vector<Event> batch) {
    store->append(batch, at("2026-11-11T00:00:00Z"));
    all.insert(all.end(), batch.begin(), batch.end());
  }
  // Every hour of the day, the whole day, and odd windows against the engine over every event.
  void expect_engine(TimeMs lo, TimeMs hi) {
    const MachineHistory ref = MachineHistory::build(m, all);
    for (TimeMs h = lo; h < hi; h += kMsPerHour)
      ASSERT_EQ(store->machine_totals(m, h, h + kMsPerHour, kTimeMax), oee::machine_totals(ref, cal, h, h + kMsPerHour, kTimeMax))
          << format_rfc3339(h);
    ASSERT_EQ(store->machine_totals(m, lo, hi, kTimeMax), oee::machine_totals(ref, cal, lo, hi, kTimeMax));
    ASSERT_EQ(store->machine_totals(m, lo + 1234, hi - 777, hi - 5000), oee::machine_totals(ref, cal, lo + 1234, hi - 777, hi - 5000));
  }
};

TEST_P(StoreTest, AppendIsIdempotentAndCountsDuplicates) {
  const TimeMs t0 = at("2026-11-10T08:00:00Z");
  std::vector<Event> batch = {state(m, t0, "running", 1), count(m, t0 + 1000, 5, 1, 2), count(m, t0 + 2000, 5, 0, 3)};
  Event anonymous = count(m, t0 + 3000, 7, 0, -1);
  anonymous.src.clear();
  batch.push_back(anonymous);
  AppendResult r = store->append(batch, t0);
  EXPECT_EQ(r.inserted, 4u);
  EXPECT_EQ(r.duplicates, 0u);
  batch.push_back(batch[1]);  // a duplicate inside the batch, then the whole batch again
  r = store->append(batch, t0);
  EXPECT_EQ(r.inserted, 0u);
  EXPECT_EQ(r.duplicates, 5u);
  EXPECT_EQ(store->event_count(), 4);
  const auto events = store->machine_events(m.path, t0, t0 + kMsPerHour);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0], batch[0]);
  EXPECT_EQ(events[3], anonymous);
  // The same content on another machine is another event.
  PlantModel two = test_plant(1, 2);
  ShiftCalendar cal2(two, zone);
  auto s2 = backend->open(backend->new_location(), two, cal2);
  Event other = anonymous;
  other.machine = two.machines()[1]->path;
  anonymous.machine = two.machines()[0]->path;
  EXPECT_EQ(s2->append(std::vector<Event>{anonymous, other}, t0).inserted, 2u);
}

TEST_P(StoreTest, TextWithControlCharactersAndUnicodeIsStoredAsSentButNul) {
  const TimeMs t0 = at("2026-11-10T08:00:00Z");
  Event stopped = state(m, t0, "stopped", 1);
  stopped.reason = "jam\tat\\infeed\nline 2\r\x01 \xC3\xBC \xE6\xBC\xA2\xE5\xAD\x97 \xF0\x9F\x94\xA7";
  const Event named = product(m, t0 + 1000, std::string("A\\N-\x7f-", 6) + std::string(1, '\0') + "-end", 2);
  // Last in the batch's key order, a row whose final bytes look like the COPY trailer (0xffff).
  Event late_reason = event(m, t0 + 3000, EventType::reason, 4);
  late_reason.reason = "before the epoch";
  late_reason.at = -1;
  send({stopped, named, state(m, t0 + 2000, "running", 3), late_reason});
  const auto events = store->machine_events(m.path, t0, t0 + kMsPerHour);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3], late_reason);
  EXPECT_EQ(events[0], stopped) << events[0].reason;
  Event without_nul = named;
  without_nul.product = "A\\N-\x7f--end";  // PostgreSQL text holds no NUL: that store drops it
  EXPECT_EQ(events[1], std::string_view(GetParam()) == "postgresql" ? without_nul : named) << events[1].product;
  // Resent with a changed text, the same src+seq is a duplicate, not a second event.
  Event changed = stopped;
  changed.reason = "other";
  EXPECT_EQ(store->append(std::vector<Event>{changed}, t0).inserted, 0u);
  EXPECT_EQ(store->machine_events(m.path, t0, t0 + kMsPerHour)[0].reason, stopped.reason);
}

TEST_P(StoreTest, SamplesAreStoredReadBackExactlyAndLeaveTheKpisAlone) {
  const TimeMs t0 = at("2026-11-10T08:00:00Z");
  send({state(m, t0, "running", 1), sample(m, t0 + 500, "temperature", 21.5, 2), count(m, t0 + 1000, 5, 1, 3),
        sample(m, t0 + 1500, "temperature", -0.1, 4), sample(m, t0 + 2 * kMsPerHour, "pressure", 1e-300, 5),
        state(m, t0 + kMsPerHour + 10, "stopped", 6)});
  Event anonymous = sample(m, t0 + 3000, "temperature", 22.0, -1);
  anonymous.src.clear();
  send({anonymous, anonymous});  // deduplicated by content like any event without src+seq
  EXPECT_EQ(store->event_count(), 7);
  const auto events = store->machine_events(m.path, t0, t0 + 3 * kMsPerHour);
  std::vector<Event> samples;
  for (const Event& e : events)
    if (e.type == EventType::sample) samples.push_back(e);
  ASSERT_EQ(samples.size(), 4u);
  EXPECT_EQ(samples[0], all[1]) << samples[0].sample_name << " " << samples[0].sample_value;
  EXPECT_EQ(samples[1], all[3]);
  EXPECT_EQ(samples[2], anonymous);
  EXPECT_EQ(samples[3].sample_value, 1e-300);  // every bit of the double
  expect_engine(at("2026-11-10T00:00:00Z"), at("2026-11-11T00:00:00Z"));
}

// Run events keep every field in every backend (PostgreSQL rows carry them in other columns).
TEST_P(StoreTest, RunsAreStoredReadBackExactlyAndLeaveTheKpisAlone) {
  const TimeMs t0 = at("2026-11-10T08:00:00Z");
  send({state(m, t0, "running", 1), run(m, t0 + 500, RunAction::start, "WO-1", 2), count(m, t0 + 1000, 5, 1, 3),
        run(m, t0 + kMsPerHour + 5, RunAction::end, "WO-1", 4), state(m, t0 + kMsPerHour + 10, "stopped", 5)});
  const auto events = store->machine_events(m.path, t0, t0 + 2 * kMsPerHour);
  std::vector<Event> runs;
  for (const Event& e : events)
    if (e.type == EventType::run) runs.push_back(e);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0], all[1]) << runs[0].run << " " << runs[0].quantity;
  EXPECT_EQ(runs[1], all[3]) << runs[1].run;
  expect_engine(at("2026-11-10T00:00:00Z"), at("2026-11-11T00:00:00Z"));
}

TEST_P(StoreTest, ShortStopOpenAcrossAnHourBoundaryIsSettledOnlyOnceItsClassIsKnown) {
  // A stop begins 30 s before 11:00; the batch ends just after 11:00. Only when it ends (50 s
  // later) is it known to be a small stop (threshold 120 s).
  send({state(m, at("2026-11-10T10:00:00Z"), "running", 1), state(m, at("2026-11-10T10:59:30Z"), "stopped", 2),
        count(m, at("2026-11-10T11:00:10Z"), 3, 0, 3)});
  expect_engine(at("2026-11-10T10:00:00Z"), at("2026-11-10T12:00:00Z"));
  send({state(m, at("2026-11-10T11:00:20Z"), "running", 4), count(m, at("2026-11-10T12:30:00Z"), 3, 0, 5)});
  expect_engine(at("2026-11-10T10:00:00Z"), at("2026-11-10T13:00:00Z"));
  EXPECT_EQ(store->machine_totals(m, at("2026-11-10T10:00:00Z"), at("2026-11-10T11:00:00Z"), kTimeMax).small_stop_ms, 30'000);
}

TEST_P(StoreTest, OutOfOrderEventAfterTheSettledHourSplittingALongStopRecomputesThatHour) {
  // A stop from 10:59 lasts past the threshold: hour 10 settles it as a breakdown. Then a delayed
  // "running" at 11:00:00 (after the settled hour) shortens it to 60 s: a small stop.
  send({state(m, at("2026-11-10T10:00:00Z"), "running", 1), state(m, at("2026-11-10T10:59:00Z"), "stopped", 2),
        count(m, at("2026-11-10T11:05:00Z"), 3, 1, 4)});
  EXPECT_EQ(store->machine_totals(m, at("2026-11-10T10:00:00Z"), at("2026-11-10T11:00:00Z"), kTimeMax).breakdown_ms, 60'000);
  send({state(m, at("2026-11-10T11:00:00Z"), "running", 3)});
  expect_engine(at("2026-11-10T09:00:00Z"), at("2026-11-10T13:00:00Z"));
  EXPECT_EQ(store->machine_totals(m, at("2026-11-10T10:00:00Z"), at("2026-11-10T11:00:00Z"), kTimeMax).small_stop_ms, 60'000);
}

TEST_P(StoreTest, LateEventsRecomputeFromTheStartOfTheirStateInterval) {
  std::int64_t seq = 100;
  std::vector<Event> batch;
  for (TimeMs t = at("2026-11-10T00:00:00Z"); t < at("2026-11-10T20:00:00Z"); t += 10 * kMsPerMinute) {
    batch.push_back(state(m, t, (t / (10 * kMsPerMinute)) % 7 == 0 ? "setup" : "running", seq++));
    batch.push_back(count(m, t + 60'000, 10, 1, seq++));
  }
  send(batch);
  expect_engine(at("2026-11-10T00:00:00Z"), at("2026-11-11T00:00:00Z"));
  // Late: a breakdown in the morning, a product change, a reject burst, and an event before all.
  const Event b = product(m, at("2026-11-10T05:30:00Z"), "b", seq++);
  send({state(m, at("2026-11-10T03:05:00Z"), "stopped", seq++), b, count(m, at("2026-11-10T03:06:00Z"), 0, 9, seq++)});
  expect_engine(at("2026-11-09T22:00:00Z"), at("2026-11-11T00:00:00Z"));
  send({state(m, at("2026-11-09T23:00:00Z"), "planned_stop", seq++)});
  expect_engine(at("2026-11-09T20:00:00Z"), at("2026-11-11T00:00:00Z"));
}

// A counter takes part from the instant after its first reading (docs/oee-model.md, "Counts"): a
// total counter appearing later leaves the rejects already settled as they were.
TEST_P(StoreTest, ATotalCounterAppearingLaterLeavesSettledRejectCountersAsTheyWere) {
  send({state(m, at("2026-11-10T06:00:00Z"), "running", 1), counter(m, at("2026-11-10T06:10:00Z"), CounterName::reject, 10, 2),
        counter(m, at("2026-11-10T06:20:00Z"), CounterName::reject, 15, 3), count(m, at("2026-11-10T09:00:00Z"), 1, 0, 4)});
  expect_engine(at("2026-11-10T06:00:00Z"), at("2026-11-10T10:00:00Z"));
  send({counter(m, at("2026-11-10T09:30:00Z"), CounterName::total, 1000, 5)});
  expect_engine(at("2026-11-10T06:00:00Z"), at("2026-11-10T10:00:00Z"));
  const KpiTotals first = store->machine_totals(m, at("2026-11-10T06:00:00Z"), at("2026-11-10T07:00:00Z"), kTimeMax);
  EXPECT_EQ(first.good_count, 0);
  EXPECT_EQ(first.reject_count, 5);
}

// Total, good and reject counters with rollovers, a good counter appearing mid-history, a PLC reset,
// a mismatch and a late reading in a settled hour: the store's rollups and its windows (from each
// counter's carried last reading) give the engine's counts and data-quality list, bit for bit.
TEST_P(StoreTest, ThreeCountersRolloversAndResetsMatchTheEngineInEveryWindow) {
  const std::int64_t wrap = 65536;
  auto rolled = [&](TimeMs ts, CounterName n, std::int64_t v, std::int64_t seq) {
    Event e = counter(m, ts, n, v % wrap, seq);
    e.rollover = wrap;
    return e;
  };
  std::vector<Event> batch = {state(m, at("2026-11-10T06:00:00Z"), "running", 1)};
  std::int64_t seq = 2, total = 65'000, good = 64'900, reject = 100;
  for (TimeMs t = at("2026-11-10T06:00:00Z"); t < at("2026-11-10T12:00:00Z"); t += 5 * kMsPerMinute) {
    const std::int64_t made = 200 + (t / kMsPerMinute) % 7, bad = made % 5;  // ~40 a minute: below 2x ideal
    total += made, good += made - bad, reject += bad;
    if (t == at("2026-11-10T09:00:00Z")) total = 17;  // a PLC reset: the wrap would mean ~64,000 parts
    if (t == at("2026-11-10T10:30:00Z")) ++reject;    // one reading off: a mismatch
    batch.push_back(rolled(t, CounterName::total, total, seq++));
    if (t >= at("2026-11-10T07:30:00Z")) batch.push_back(rolled(t, CounterName::good, good, seq++));
    if (t != at("2026-11-10T08:20:00Z")) batch.push_back(rolled(t, CounterName::reject, reject, seq++));
  }
  Event late = rolled(at("2026-11-10T08:20:00Z"), CounterName::reject, 0, seq++);
  for (const Event& e : batch)  // the reading left out above, with the value it had
    if (e.type == EventType::counter && e.counter == CounterName::reject && e.ts < late.ts) late.value = e.value;
  send(batch);
  expect_engine(at("2026-11-10T06:00:00Z"), at("2026-11-10T12:00:00Z"));
  send({late});
  expect_engine(at("2026-11-10T06:00:00Z"), at("2026-11-10T12:00:00Z"));
  const MachineHistory ref = MachineHistory::build(m, all);
  EXPECT_GE(ref.data_quality().size(), 2u);
  for (const char* from : {"2026-11-10T07:00:00Z", "2026-11-10T08:45:00Z", "2026-11-10T10:00:00Z"}) {
    // A store's history may reach back before `from` (PostgreSQL's does): compare from `from` on.
    auto since = [&](const MachineHistory& h) {
      std::vector<DataQualityIssue> out;
      for (const DataQualityIssue& d : h.data_quality())
        if (d.ts >= at(from)) out.push_back(d);
      return out;
    };
    EXPECT_EQ(since(store->machine_history(m, at(from), at("2026-11-10T12:00:00Z"))), since(ref)) << from;
    EXPECT_FALSE(since(ref).empty()) << from;
  }
}

TEST_P(StoreTest, SourceStatisticsKeepGapsAsRanges) {
  const TimeMs now = at("2026-11-10T08:00:00Z");
  std::vector<Event> batch;
  for (std::int64_t q : {1, 2, 3, 7, 8, 20}) batch.push_back(count(m, now - 1000 + q, 1, 0, q));
  Event future = count(m, now + 10 * kMsPerMinute, 1, 0, 21);
  batch.push_back(future);
  store->append(batch, now);
  auto s = store->sources();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].src, "plc");
  EXPECT_EQ(s[0].events, 7);
  EXPECT_EQ(s[0].seq_min, 1);
  EXPECT_EQ(s[0].seq_max, 21);
  EXPECT_EQ(s[0].gaps, (std::vector<std::pair<std::int64_t, std::int64_t>>{{4, 6}, {9, 19}}));
  EXPECT_EQ(s[0].future_events, 1);
  EXPECT_EQ(s[0].last_seen, now);
  EXPECT_LT(s[0].clock_offset_ms, 0);
  store->append(std::vector<Event>{count(m, now, 1, 0, 5), count(m, now, 1, 0, 9), count(m, now, 1, 0, 19)}, now + 1);
  store.reset();
  store = backend->open(file, plant, cal);
  s = store->sources();
  EXPECT_EQ(s[0].gaps, (std::vector<std::pair<std::int64_t, std::int64_t>>{{4, 4}, {6, 6}, {10, 18}}));
  EXPECT_EQ(s[0].events, 10);
  EXPECT_EQ(s[0].last_seen, now + 1);
}

// An edge whose queue was wiped numbers its events from 0 again under a new incarnation: the same
// src and seq with another `inc` is another event, kept beside the old one, and read back with its
// incarnation; the sources list each incarnation with its own range.
TEST_P(StoreTest, ANewIncarnationOfASourceIsNeverTakenForDuplicates) {
  const TimeMs t0 = at("2026-11-10T08:00:00Z");
  std::vector<Event> old_disk, new_disk;
  for (std::int64_t q = 0; q < 5; ++q) old_disk.push_back(count(m, t0 + q * 1000, 1, 0, q));
  for (std::int64_t q = 0; q < 3; ++q) {
    new_disk.push_back(count(m, t0 + 60000 + q * 1000, 2, 0, q));
    new_disk.back().inc = "b7e1";
  }
  EXPECT_EQ(store->append(old_disk, t0).inserted, 5u);
  const AppendResult r = store->append(new_disk, t0);
  EXPECT_EQ(r.inserted, 3u);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_EQ(store->append(new_disk, t0).duplicates, 3u);  // the new incarnation is deduplicated as usual
  store.reset();
  store = backend->open(file, plant, cal);
  const auto sources = store->sources();
  ASSERT_EQ(sources.size(), 2u);
  EXPECT_EQ(sources[0].incarnation, "");
  EXPECT_EQ(sources[0].events, 5);
  EXPECT_EQ(sources[1].src, "plc");
  EXPECT_EQ(sources[1].incarnation, "b7e1");
  EXPECT_EQ(sources[1].events, 3);
  EXPECT_EQ(sources[1].seq_max, 2);
  const auto events = store->machine_events(m.path, t0, t0 + kMsPerHour);
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(events[0], old_disk[0]);
  EXPECT_EQ(events[5], new_disk[0]);
  EXPECT_EQ(store->event_count(), 8);
}

// An append names the events it did not store for their identity (what the server compares with
// the stored version); conflicts are kept once per received version, listed newest first, counted
// per source incarnation.
TEST_P(StoreTest, IdentityDuplicatesAreNamedAndConflictsKeptOncePerVersion) {
  const TimeMs t0 = at("2026-11-10T08:00:00Z");
  store->append(std::vector<Event>{count(m, t0, 1, 0, 1), count(m, t0 + 1000, 1, 0, 2)}, t0);
  Event anonymous = count(m, t0 + 2000, 3, 0, -1);
  anonymous.src.clear();
  store->append(std::vector<Event>{anonymous}, t0);
  const std::vector<Event> again = {count(m, t0 + 5000, 9, 0, 2), count(m, t0 + 3000, 1, 0, 3), anonymous, count(m, t0, 1, 0, 1)};
  AppendResult r = store->append(again, t0);
  EXPECT_EQ(r.inserted, 1u);
  EXPECT_EQ(r.duplicates, 3u);
  std::vector<std::size_t> positions = r.identity_duplicates;
  std::sort(positions.begin(), positions.end());
  EXPECT_EQ(positions, (std::vector<std::size_t>{0, 3}));  // not the anonymous one: its content is its identity
  Conflict c;
  c.received = t0;
  c.src = "plc";
  c.seq = 2;
  c.machine = m.path;
  c.stored_json = "{\"stored\":1}";
  c.received_json = "{\"received\":2}";
  c.fingerprint = 42;
  store->add_conflicts(std::vector<Conflict>{c, c});
  Conflict other = c;
  other.fingerprint = 43;
  other.received_json = "{\"received\":3}";
  store->add_conflicts(std::vector<Conflict>{other});
  EXPECT_EQ(store->conflict_count(), 2);
  const auto list = store->conflicts(0, 10);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].received_json, other.received_json);
  EXPECT_EQ(list[1].stored_json, c.stored_json);
  EXPECT_EQ(list[1].seq, 2);
  EXPECT_EQ(store->conflicts(list[0].id, 10).size(), 1u);
  const auto sources = store->sources();
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].conflicts, 2);
}

TEST_P(StoreTest, DeadLettersAreBoundedNewestFirstAndPaged) {
  for (int i = 0; i < 25; ++i)
    store->add_dead_letter({0, 1000 + i, "oee/s1/events", "{bad json " + std::to_string(i), "parse error"});
  const std::string huge(kMaxDeadLetterPayloadBytes + 5000, 'x');
  const std::int64_t big = store->add_dead_letter({0, 2000, "t", huge, "too large"});
  EXPECT_EQ(store->dead_letter_count(), 26);
  auto page = store->dead_letters(0, 10);
  ASSERT_EQ(page.size(), 10u);
  EXPECT_EQ(page[0].id, big);
  EXPECT_LT(page[0].payload.size(), huge.size());
  EXPECT_NE(page[0].payload.find("truncated 5000 bytes"), std::string::npos);
  EXPECT_EQ(page[1].payload, "{bad json 24");
  auto next = store->dead_letters(page.back().id, 100);
  ASSERT_EQ(next.size(), 16u);
  EXPECT_EQ(next.back().payload, "{bad json 0");
  EXPECT_LT(next[0].id, page.back().id);
}

class StoreRetention : public ::testing::TestWithParam<const char*> {};

TEST_P(StoreRetention, DeletesOldEventsAndRollupsAndKeepsRecentWindowsExact) {
  const PlantModel plant = test_plant(1, 2);
  FixedOffsetZone zone;
  ShiftCalendar cal(plant, zone);
  auto backend = make_backend(GetParam());
  const std::string location = backend->new_location();
  StoreOptions options;
  options.retention_days = 2;
  auto store = backend->open(location, plant, cal, options);
  const TimeMs lo = at("2026-11-01T00:00:00Z"), hi = at("2026-11-06T00:00:00Z");
  std::vector<Event> all;
  for (const MachineSpec* m : plant.machines()) {
    GeneratorOptions o;
    o.src = m->path;
    o.max_step_ms = 300'000;
    auto e = random_events(m->path.size(), lo, hi, m->path, o);
    all.insert(all.end(), e.begin(), e.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const Event& a, const Event& b) { return a.ts < b.ts; });
  for (std::size_t i = 0; i < all.size(); i += 500)
    store->append(std::span(all).subspan(i, std::min<std::size_t>(500, all.size() - i)), hi);
  const TimeMs now = hi, cutoff = now - 2 * kMsPerDay;
  std::vector<KpiTotals> before;
  for (const MachineSpec* m : plant.machines())
    for (TimeMs f = cutoff; f < hi; f += 7 * kMsPerHour + 12345) before.push_back(store->machine_totals(*m, f, hi, kTimeMax));
  const std::int64_t count_before = store->event_count();
  std::int64_t old_events = 0;
  for (const Event& e : all) old_events += e.ts < cutoff;
  const std::int64_t deleted = store->apply_retention(now).events;
  EXPECT_EQ(deleted, old_events);
  EXPECT_EQ(store->event_count(), count_before - deleted);
  EXPECT_EQ(backend->identity_rows(location), store->event_count());
  EXPECT_EQ(backend->rollups_ending_by(location, cutoff), 0);
  std::size_t i = 0;
  for (const MachineSpec* m : plant.machines())
    for (TimeMs f = cutoff; f < hi; f += 7 * kMsPerHour + 12345) EXPECT_EQ(store->machine_totals(*m, f, hi, kTimeMax), before[i++]);
  EXPECT_EQ(store->apply_retention(now).events, 0);
}

// One machine's store keeping two days, and its random history (src+seq, steps up to 5 min) in
// [lo, hi), appended in batches of 500 as received at `hi`.
struct TwoDayStore {
  explicit TwoDayStore(const std::string& backend_name) : backend(make_backend(backend_name)) {
    options.retention_days = 2;
    store = backend->open(location, plant, cal, options);
  }
  std::vector<Event> fill(std::uint64_t seed, TimeMs lo, TimeMs hi) {
    GeneratorOptions o;
    o.src = m.path;
    o.max_step_ms = 300'000;
    const std::vector<Event> all = random_events(seed, lo, hi, m.path, o);
    for (std::size_t i = 0; i < all.size(); i += 500)
      store->append(std::span(all).subspan(i, std::min<std::size_t>(500, all.size() - i)), hi);
    return all;
  }
  const PlantModel plant = test_plant(1, 1);
  FixedOffsetZone zone;
  ShiftCalendar cal{plant, zone};
  const MachineSpec& m = *plant.machines()[0];
  std::unique_ptr<StoreBackend> backend;
  const std::string location = backend->new_location();
  StoreOptions options;
  std::unique_ptr<EventStore> store;
};

// An event older than the retention cut that arrives late (an edge's backlog older than the
// retention) cannot change what the cut kept: it is dead-lettered, and the totals of every window,
// the summarised history before the cut included, stay as they were, also after a reopen.
TEST_P(StoreRetention, AnEventOlderThanTheCutArrivingLateChangesNoWindow) {
  TwoDayStore t(GetParam());
  const MachineSpec& m = t.m;
  auto& store = t.store;
  const TimeMs lo = at("2026-11-01T00:00:00Z"), hi = at("2026-11-06T00:00:00Z");
  const std::vector<Event> all = t.fill(91, lo, hi);
  const TimeMs now = hi, cutoff = now - 2 * kMsPerDay;
  ASSERT_GT(store->apply_retention(now).events, 0);
  std::vector<TimeMs> starts{lo, lo + 5 * kMsPerHour};
  for (TimeMs f = cutoff; f < hi; f += 7 * kMsPerHour + 12345) starts.push_back(f);
  std::vector<KpiTotals> kept;
  for (TimeMs f : starts) kept.push_back(store->machine_totals(m, f, hi, kTimeMax));
  ASSERT_GT(kept.front().good_count, kept.back().good_count) << "the window from lo holds the summarised history";

  Event late;
  late.ts = lo + 90 * kMsPerMinute;
  late.machine = m.path;
  late.type = EventType::state;
  late.state = "stopped";
  late.src = "late-backlog";
  late.inc = "1";
  late.seq = 0;
  const AppendResult r = store->append(std::span(&late, 1), hi);
  EXPECT_EQ(r.inserted, 0u);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_EQ(r.older_than_retention, 1u);
  const std::vector<DeadLetter> letters = store->dead_letters(0, 10);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].topic, "retention");
  EXPECT_NE(letters[0].payload.find("late-backlog"), std::string::npos) << letters[0].payload;
  EXPECT_NE(letters[0].reason.find("older than the retention"), std::string::npos) << letters[0].reason;
  EXPECT_NE(letters[0].reason.find(format_rfc3339(late.ts)), std::string::npos) << letters[0].reason;
  // An event stored before the cut and sent again is a duplicate, not a dead letter.
  std::vector<Event> before_cut;  // with src+seq: an identity outlives the events retention deleted
  for (std::size_t i = 0; i < all.size() && before_cut.size() < 3; ++i)
    if (all[i].has_identity()) before_cut.push_back(all[i]);
  const AppendResult again = store->append(before_cut, hi);
  EXPECT_EQ(again.duplicates, 3u);
  EXPECT_EQ(again.older_than_retention, 0u);
  EXPECT_EQ(store->dead_letter_count(), 1);
  for (std::size_t i = 0; i < starts.size(); ++i)
    EXPECT_EQ(store->machine_totals(m, starts[i], hi, kTimeMax), kept[i]) << format_rfc3339(starts[i]);
  store->apply_retention(now);
  for (std::size_t i = 0; i < starts.size(); ++i)
    EXPECT_EQ(store->machine_totals(m, starts[i], hi, kTimeMax), kept[i]) << "after the next run " << format_rfc3339(starts[i]);
  // The cut outlives the process: reopened, the store still refuses the late event.
  store.reset();
  store = t.backend->open(t.location, t.plant, t.cal, t.options);
  late.seq = 1;
  EXPECT_EQ(store->append(std::span(&late, 1), hi).older_than_retention, 1u);
  for (std::size_t i = 0; i < starts.size(); ++i)
    EXPECT_EQ(store->machine_totals(m, starts[i], hi, kTimeMax), kept[i]) << "reopened " << format_rfc3339(starts[i]);
}

// A cut inside an hour: dead letters received before it go, events before its day go on every
// backend, events after it stay, and KPIs over the kept range equal the engine over every event.
TEST_P(StoreRetention, DeletesDeadLettersAndKeepsEverythingAfterTheCut) {
  TwoDayStore t(GetParam());
  const MachineSpec& m = t.m;
  auto& store = t.store;
  const TimeMs lo = at("2026-11-01T00:00:00Z"), hi = at("2026-11-06T07:00:00Z");
  const std::vector<Event> all = t.fill(77, lo, hi);
  for (TimeMs t = lo; t < hi; t += 6 * kMsPerHour) store->add_dead_letter({0, t, "oee/v1/x", "{bad", "test"});
  const TimeMs now = hi - 17 * kMsPerMinute - 4321, cutoff = now - 2 * kMsPerDay;
  std::int64_t old_letters = 0;
  for (TimeMs t = lo; t < hi; t += 6 * kMsPerHour) old_letters += t < cutoff;
  const std::int64_t letters_before = store->dead_letter_count();

  const RetentionResult run = store->apply_retention(now);
  EXPECT_EQ(run.dead_letters, old_letters);
  EXPECT_EQ(store->dead_letter_count(), letters_before - old_letters);
  for (const DeadLetter& l : store->dead_letters(0, 1000)) EXPECT_GE(l.received, cutoff);
  const std::vector<Event> kept = store->machine_events(m.path, kTimeMin, kTimeMax);
  EXPECT_EQ(run.events, static_cast<std::int64_t>(all.size() - kept.size()));
  EXPECT_EQ(store->event_count(), static_cast<std::int64_t>(kept.size()));
  ASSERT_FALSE(kept.empty());
  EXPECT_GE(kept.front().ts, floor_to(cutoff, kMsPerDay)) << "an event of a day wholly before the cut is left";
  std::size_t after_cut = 0;
  for (const Event& e : all) after_cut += e.ts >= cutoff;
  std::size_t kept_after_cut = 0;
  for (const Event& e : kept) kept_after_cut += e.ts >= cutoff;
  EXPECT_EQ(kept_after_cut, after_cut) << "an event after the cut was deleted";
  EXPECT_EQ(t.backend->rollups_ending_by(t.location, floor_to(cutoff, kMsPerDay)), 0);
  const MachineHistory ref = MachineHistory::build(m, all);
  for (TimeMs f = cutoff; f < hi; f += 5 * kMsPerHour + 999) {
    EXPECT_EQ(store->machine_totals(m, f, hi, kTimeMax), oee::machine_totals(ref, t.cal, f, hi, kTimeMax)) << format_rfc3339(f);
    EXPECT_EQ(store->machine_totals(m, f, f + kMsPerHour, kTimeMax), oee::machine_totals(ref, t.cal, f, f + kMsPerHour, kTimeMax))
        << format_rfc3339(f);
  }
  const RetentionResult again = store->apply_retention(now);
  EXPECT_EQ(again.events, 0);
  EXPECT_EQ(again.dead_letters, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::ValuesIn(kBackends), backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, StoreRetention, ::testing::ValuesIn(kBackends), backend_name);

// A caller's copy of a machine's spec (a plant file loaded again) is served like the store's own;
// one with other rules gets the engine over the events, not rollups made with the old rules.
TEST(SqliteSpecs, ACopyOfTheSpecUsesTheRollupsAndChangedRulesTheEngine) {
  const PlantModel plant = test_plant(1, 1);
  FixedOffsetZone zone;
  ShiftCalendar cal(plant, zone);
  TempDir dir;
  auto store = open_sqlite_store(dir.file("s.db"), plant, cal);
  const MachineSpec& m = *plant.machines()[0];
  const TimeMs lo = at("2026-11-10T00:00:00Z"), hi = at("2026-11-12T00:00:00Z");
  GeneratorOptions o;
  o.src = "copy";
  const auto events = random_events(8, lo, hi, m.path, o);
  store->append(events, hi);
  MachineSpec copy = m;
  EXPECT_EQ(store->machine_totals(copy, lo + 777, hi - 999, kTimeMax), store->machine_totals(m, lo + 777, hi - 999, kTimeMax));
  copy.micro_stop_threshold_ms = 10 * kMsPerMinute;
  copy.ideal_cycle_us = 2'000'000;
  EXPECT_EQ(store->machine_totals(copy, lo + 777, hi - 999, kTimeMax),
            oee::machine_totals(MachineHistory::build(copy, events), cal, lo + 777, hi - 999, kTimeMax));
}

TEST(SqliteSchema, AnOlderFileIsMigratedOnOpen) {
  const PlantModel plant = test_plant(1, 1);
  FixedOffsetZone zone;
  ShiftCalendar cal(plant, zone);
  TempDir dir;
  const std::string file = dir.file("old.db");
  const MachineSpec& m = *plant.machines()[0];
  const TimeMs lo = at("2026-11-10T00:00:00Z"), hi = at("2026-11-13T00:00:00Z");
  GeneratorOptions o;
  o.src = "x";
  const auto events = random_events(5, lo, hi, m.path, o);
  KpiTotals want;
  {
    auto store = open_sqlite_store(file, plant, cal);
    store->append(events, hi);
    want = store->machine_totals(m, lo, hi, kTimeMax);
  }
  {
    // Turn the file back into a version-1 file: hourly (not cumulative) rollups, no zero point.
    const char* columns[] = {"all_ms", "unknown_ms", "planned_downtime_ms", "running_ms", "small_stop_ms",
                             "breakdown_ms", "setup_ms", "starved_ms", "blocked_ms", "unscheduled_running_ms",
                             "good_count", "reject_count", "startup_reject_count", "ideal_us", "reject_ideal_us",
                             "startup_reject_ideal_us", "breakdown_count", "stop_count"};
    // (and without migration 6's no-data column and the index that covers it)
    std::string sql = "DROP INDEX rollups_by_hour; ALTER TABLE rollups DROP COLUMN no_data_ms;"
                      "CREATE TABLE hourly AS SELECT machine_id, hour_start";
    for (const char* c : columns) sql += std::string(", ") + c + " - coalesce(lag(" + c + ") OVER w, 0) AS " + c;
    sql += " FROM rollups WINDOW w AS (PARTITION BY machine_id ORDER BY hour_start);"
           "DELETE FROM rollups; INSERT INTO rollups SELECT * FROM hourly; DROP TABLE hourly; DROP TABLE rollup_zero;"
           "ALTER TABLE machines DROP COLUMN rollup_zero_hour;"
           // Version 1 kept event blocks by machine, not by time.
           "CREATE TABLE blocks_v1(machine_id INTEGER NOT NULL, hour_start INTEGER NOT NULL, block INTEGER NOT NULL,"
           " events INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(machine_id, hour_start, block)) WITHOUT ROWID;"
           "INSERT INTO blocks_v1 SELECT machine_id, hour_start, block, events, data FROM event_blocks;"
           "DROP TABLE event_blocks; ALTER TABLE blocks_v1 RENAME TO event_blocks;"
           "ALTER TABLE machines DROP COLUMN last_hour; DROP TABLE conflicts; DROP TABLE stop_comments; DROP TABLE reason_events;"
           "DROP TABLE alerts; DROP TABLE correction_events; DROP TABLE run_events;"
           "DELETE FROM schema_version WHERE version>=2";
    sqlite::Database db(file);
    db.exec(sql.c_str());
    EXPECT_EQ(sqlite::schema_version(db), 1);
  }
  auto store = open_sqlite_store(file, plant, cal);
  EXPECT_EQ(scalar(file, "SELECT max(version) FROM schema_version"), sqlite::kSchemaVersion);
  EXPECT_EQ(scalar(file, "SELECT count(*) FROM rollups"),
            scalar(file, "SELECT (max(hour_start) - min(hour_start)) / 3600000 + 1 FROM rollups"));
  EXPECT_EQ(store->machine_totals(m, lo, hi, kTimeMax), want);
  EXPECT_EQ(want, oee::machine_totals(MachineHistory::build(m, events), cal, lo, hi, kTimeMax));
  // The sources' rows kept their ids through migration 7 (src + incarnation): the events still name them.
  ASSERT_EQ(store->sources().size(), 1u);
  EXPECT_EQ(store->sources()[0].src, "x");
  EXPECT_EQ(store->sources()[0].incarnation, "");
  EXPECT_EQ(store->machine_events(m.path, lo, hi).front().src, "x");
  // A fresh file migrates from 0 in order; a file newer than the build is refused.
  TempDir d2;
  sqlite::Database fresh(d2.file("f.db"));
  sqlite::migrate(fresh, 1);
  EXPECT_EQ(sqlite::schema_version(fresh), 1);
  sqlite::migrate(fresh);
  EXPECT_EQ(sqlite::schema_version(fresh), sqlite::kSchemaVersion);
  fresh.exec("INSERT INTO schema_version VALUES(99, 0)");
  EXPECT_THROW(sqlite::migrate(fresh), std::runtime_error);
}

// The store reads and writes the columns of OEE_KPI_FIELDS by position: a migrated file's tables of
// totals (and the covering index) hold exactly those, in that order, after their keys.
TEST(SqliteSchema, TotalsColumnsAreTheKpiFields) {
  TempDir dir;
  sqlite::Database db(dir.file("s.db"));
  sqlite::migrate(db);
  auto columns = [&](const char* pragma, int name_column) {
    sqlite::Statement s(db, pragma);
    std::string out;
    while (s.step()) out += (out.empty() ? "" : ", ") + s.text_at(name_column);
    return out;
  };
  EXPECT_EQ(columns("PRAGMA table_info(rollups)", 1), "machine_id, hour_start, " OEE_KPI_COLUMNS);
  EXPECT_EQ(columns("PRAGMA table_info(rollup_zero)", 1), "machine_id, " OEE_KPI_COLUMNS);
  EXPECT_EQ(columns("PRAGMA index_info(rollups_by_hour)", 2), "hour_start, machine_id, " OEE_KPI_COLUMNS);
}

}  // namespace
}  // namespace oee::storage
