// PostgreSQL in deployment: several servers on one database, each ingesting its own machines,
// every one answering for the whole plant; schema migrations; a backup with pg_dump restored with
// pg_restore answers the same; a base backup with archived WAL restores to a restore point.
#include <gtest/gtest.h>

#include <thread>

#include "oee/core/shift_calendar.h"
#include "oee/storage/postgres_store.h"
#include "kpi_columns.h"
#include "postgres_connection.h"
#include "postgres_schema.h"
#include "storage_test_support.h"
#include "store_backends.h"
#include "../../transport/tests/eventually.h"

namespace oee::storage {
namespace {

using namespace testing;

struct PlantData {
  PlantModel plant = test_plant(3, 4);  // 12 machines
  FixedOffsetZone zone{kMsPerHour, "+01:00"};
  ShiftCalendar cal{plant, zone};
  TimeMs lo = at("2026-11-09T00:00:00Z"), hi = at("2026-11-12T00:00:00Z");
  std::vector<Event> all = plant_events(plant, 40, lo, hi, 120'000);
  // Plant-wide totals per window, by summing machines (as the API does).
  std::vector<KpiTotals> plant_totals(EventStore& store) const {
    std::vector<KpiTotals> out;
    for (TimeMs f = lo - 2 * kMsPerHour; f < hi; f += 7 * kMsPerHour + 1234) {
      KpiTotals t;
      for (const MachineSpec* m : plant.machines()) t += store.machine_totals(*m, f, f + 11 * kMsPerHour, hi - 3000);
      out.push_back(t);
    }
    KpiTotals whole;
    for (const MachineSpec* m : plant.machines()) whole += store.machine_totals(*m, lo, hi, kTimeMax);
    out.push_back(whole);
    return out;
  }
  std::vector<KpiTotals> engine_totals() const {
    std::vector<KpiTotals> out;
    std::vector<MachineHistory> h;
    for (const MachineSpec* m : plant.machines()) h.push_back(MachineHistory::build(*m, of_machine(all, m->path)));
    for (TimeMs f = lo - 2 * kMsPerHour; f < hi; f += 7 * kMsPerHour + 1234) {
      KpiTotals t;
      for (const auto& x : h) t += oee::machine_totals(x, cal, f, f + 11 * kMsPerHour, hi - 3000);
      out.push_back(t);
    }
    KpiTotals whole;
    for (const auto& x : h) whole += oee::machine_totals(x, cal, lo, hi, kTimeMax);
    out.push_back(whole);
    return out;
  }
};

void ingest(EventStore& store, const std::vector<Event>& events, std::size_t batch) {
  for (std::size_t i = 0; i < events.size(); i += batch)
    store.append(std::span(events).subspan(i, std::min(batch, events.size() - i)), at("2026-11-12T00:00:00Z"));
}

TEST(PostgresDeployment, TwoServersWithDisjointMachinesGiveThePlantFiguresOfOne) {
  PlantData d;
  PostgresBackend pg;
  SqliteBackend sqlite;
  // The single-server reference (SQLite), and the engine itself.
  auto single = sqlite.open(sqlite.new_location(), d.plant, d.cal, {});
  ingest(*single, d.all, 400);
  const auto want = d.plant_totals(*single);
  ASSERT_EQ(want, d.engine_totals());

  // Two servers on one database: the first ingests lines 1 and 3, the second line 2, at once.
  const std::string url = pg.new_location();
  auto a = pg.open(url, d.plant, d.cal, {});
  auto b = pg.open(url, d.plant, d.cal, {});
  std::vector<Event> share_a, share_b;
  for (const Event& e : d.all) (e.machine.starts_with("s1/a1/l2/") ? share_b : share_a).push_back(e);
  // Each also reads the whole plant while the other writes (rollups materialised concurrently).
  std::thread ta([&] { ingest(*a, share_a, 300); });
  std::thread tb([&] {
    ingest(*b, share_b, 300);
    (void)d.plant_totals(*b);
  });
  ta.join();
  tb.join();
  EXPECT_EQ(d.plant_totals(*a), want);
  EXPECT_EQ(d.plant_totals(*b), want);
  EXPECT_EQ(a->event_count(), single->event_count());
  // A redelivery to the other server (a shared subscription rebalanced) stores nothing twice.
  EXPECT_EQ(b->append(std::span(share_a).first(500), d.hi).inserted, 0u);
  EXPECT_EQ(a->event_count(), single->event_count());
  EXPECT_EQ(d.plant_totals(*b), want);
}

TEST(PostgresDeployment, MigrationsAreVersionedIdempotentAndRefuseANewerDatabase) {
  PostgresBackend pg;
  const std::string url = pg.new_location();
  EXPECT_EQ(postgres_schema_version(url), 0);
  // Several servers starting at once migrate exactly once.
  std::vector<std::thread> servers;
  for (int i = 0; i < 4; ++i) servers.emplace_back([&] { migrate_postgres(url); });
  for (auto& t : servers) t.join();
  EXPECT_EQ(postgres_schema_version(url), postgres_latest_schema_version());
  EXPECT_EQ(shared_postgres().scalar(url, "SELECT count(*) FROM schema_version"), postgres_latest_schema_version());
  EXPECT_EQ(migrate_postgres(url), postgres_latest_schema_version());
  shared_postgres().exec(url.substr(url.find("///") + 3, url.find('?') - url.find("///") - 3),
                         "INSERT INTO schema_version VALUES(99, 0)");
  EXPECT_THROW(migrate_postgres(url), std::runtime_error);
  PlantData d;
  EXPECT_THROW(open_postgres_store(url, d.plant, d.cal), std::runtime_error);
}

// Schema 2 re-keys the events table and keeps source gaps in a table of their own: a database of
// schema 1 with events keeps its gaps, and later appends change them.
TEST(PostgresDeployment, ASchemaOneDatabaseWithEventsIsMigratedAndKeepsItsSourceGaps) {
  PlantData d;
  PostgresBackend pg;
  const std::string url = pg.new_location();
  const MachineSpec& m = *d.plant.machines()[0];
  const TimeMs t0 = at("2026-11-10T08:00:00Z");
  {
    pg::Connection c(url);
    ASSERT_EQ(pg::migrate(c, 1), 1);
    c.exec("INSERT INTO machines(id, path, events, min_ts, max_ts) VALUES(1, '" + m.path + "', 6, " + std::to_string(t0) +
           ", " + std::to_string(t0 + 9000) + ");"
           "INSERT INTO sources(id, src, events, seq_min, seq_max) VALUES(1, 'plc', 6, 0, 9);"
           "SELECT setval('machines_id_seq', 1); SELECT setval('sources_id_seq', 1);"
           "CREATE TABLE \"events_2026-11-10\" PARTITION OF events FOR VALUES FROM (" + std::to_string(at("2026-11-10T00:00:00Z")) +
           ") TO (" + std::to_string(at("2026-11-11T00:00:00Z")) + ")");
    for (int seq : {0, 1, 2, 5, 6, 9})
      c.query("INSERT INTO events VALUES(1, $1, 1, $2, 1, 1, $2, '', '', 1, 0, 0, 0, 0, '', 0)",
              pg::Params().add(t0 + seq * 1000).add(std::int64_t{seq}));
  }
  EXPECT_EQ(migrate_postgres(url), postgres_latest_schema_version());
  auto store = pg.open(url, d.plant, d.cal, {});
  auto gaps_of_plc = [&] {
    for (const SourceStats& s : store->sources())
      if (s.src == "plc") return s.gaps;
    return std::vector<std::pair<std::int64_t, std::int64_t>>{{-1, -1}};
  };
  EXPECT_EQ(gaps_of_plc(), (std::vector<std::pair<std::int64_t, std::int64_t>>{{3, 4}, {7, 8}}));
  std::vector<Event> more;
  for (int seq : {3, 12, 9}) {
    Event e;
    e.machine = m.path;
    e.ts = t0 + seq * 1000;
    e.type = EventType::count;
    e.good = 1;
    e.src = "plc";
    e.seq = seq;
    more.push_back(e);
  }
  const AppendResult r = store->append(more, t0);
  EXPECT_EQ(r.inserted, 2u);  // seq 9 is stored already
  EXPECT_EQ(r.duplicates, 1u);
  EXPECT_EQ(gaps_of_plc(), (std::vector<std::pair<std::int64_t, std::int64_t>>{{4, 4}, {7, 8}, {10, 11}}));
  EXPECT_EQ(store->event_count(), 8);
}

// Schema 3 adds daily rollups over the hourly ones: a database of schema 2 whose hours are
// materialised gets its whole days from them, and group totals still equal the engine. Schema 4
// leaves room on the pages of the machines' and sources' rows.
TEST(PostgresDeployment, ASchemaTwoDatabaseWithRollupsGetsItsDailyRollups) {
  PlantData d;
  PostgresBackend pg;
  const std::string url = pg.new_location();
  const auto machines = d.plant.machines();
  {
    auto store = pg.open(url, d.plant, d.cal, {});
    ingest(*store, d.all, 500);
    store->machines_totals(machines, d.lo, d.hi, kTimeMax);  // materialises the hours (and days)
  }
  PostgresCluster& c = shared_postgres();
  ASSERT_GT(c.scalar(url, "SELECT count(*) FROM rollups"), 0);
  // Back to schema 2: the hours without their days.
  {
    pg::Connection conn(url);
    conn.exec("DROP TABLE rollup_days; DROP TABLE machine_carry; ALTER TABLE rollups DROP COLUMN no_data_ms;"
              " ALTER TABLE machines RESET (fillfactor);"
              " ALTER TABLE sources RESET (fillfactor);"
              // schema 7: sources keyed by src alone again
              " ALTER TABLE sources DROP CONSTRAINT sources_src_incarnation_key; ALTER TABLE sources DROP COLUMN incarnation;"
              " ALTER TABLE sources ADD CONSTRAINT sources_src_key UNIQUE (src); DROP TABLE conflicts;"
              // schema 8: the rules of the rollups
              " ALTER TABLE machines DROP COLUMN rules;"
              " DROP TABLE stop_comments;"  // schema 9
              " DROP TABLE retention_cut;"  // schema 10
              " DROP INDEX events_reasons_by_instant;"  // schema 11
              " DROP TABLE alerts;"  // schema 12
              " DROP INDEX events_corrections_by_at;"  // schema 13
              " DROP INDEX events_runs_by_ts;"  // schema 15
              " DELETE FROM schema_version WHERE version >= 3");
  }
  auto fillfactor_set = [&](const char* table) {
    return c.scalar(url, std::string("SELECT count(*) FROM pg_class WHERE relname = '") + table +
                             "' AND 'fillfactor=20' = ANY(reloptions)");
  };
  EXPECT_EQ(fillfactor_set("machines"), 0);
  EXPECT_EQ(migrate_postgres(url), postgres_latest_schema_version());
  // Schema 4: room on the pages of the rows every append updates.
  EXPECT_EQ(fillfactor_set("machines"), 1);
  EXPECT_EQ(fillfactor_set("sources"), 1);
  EXPECT_GT(c.scalar(url, "SELECT count(*) FROM rollup_days"), 0);
  EXPECT_EQ(c.scalar(url, "SELECT count(*) FROM rollup_days"),
            c.scalar(url, "SELECT count(*) FROM (SELECT machine_id, hour_start / 86400000 FROM rollups GROUP BY 1, 2"
                          " HAVING count(*) = 24) x"));
  EXPECT_EQ(c.scalar(url, "SELECT count(*) FROM rollup_days d WHERE (SELECT sum(good_count) FROM rollups r"
                          " WHERE r.machine_id = d.machine_id AND r.hour_start >= d.day_start"
                          " AND r.hour_start < d.day_start + 86400000) <> d.good_count"),
            0);
  auto store = pg.open(url, d.plant, d.cal, {});
  std::vector<MachineHistory> h;
  for (const MachineSpec* m : machines) h.push_back(MachineHistory::build(*m, of_machine(d.all, m->path)));
  for (TimeMs f = d.lo - 2 * kMsPerHour; f < d.lo + kMsPerDay; f += 5 * kMsPerHour + 777) {
    KpiTotals want;
    for (const auto& x : h) want += oee::machine_totals(x, d.cal, f, d.hi, kTimeMax);
    EXPECT_EQ(store->machines_totals(machines, f, d.hi, kTimeMax), want) << format_rfc3339(f);
  }
}

TEST(PostgresDeployment, PgDumpBackupRestoredWithPgRestoreAnswersTheSame) {
  PlantData d;
  PostgresBackend pg;
  const std::string url = pg.new_location();
  auto store = pg.open(url, d.plant, d.cal, {});
  ingest(*store, d.all, 500);
  store->add_dead_letter({0, 1000, "oee/v1/x/events", "{bad", "parse error"});
  const auto want = d.plant_totals(*store);
  auto db_name = [](const std::string& u) { return u.substr(u.find("///") + 3, u.find('?') - u.find("///") - 3); };
  PostgresCluster& c = shared_postgres();
  const std::string dump = c.dir() + "/backup.dump";
  c.run({std::string(kPostgresBin) + "/pg_dump", "-h", c.dir(), "-U", "postgres", "-Fc", "-f", dump, db_name(url)}, "pg_dump");
  const std::string restored = pg.new_location();
  c.run({std::string(kPostgresBin) + "/pg_restore", "-h", c.dir(), "-U", "postgres", "-d", db_name(restored), "--exit-on-error",
         dump},
        "pg_restore");
  auto back = pg.open(restored, d.plant, d.cal, {});
  EXPECT_EQ(back->event_count(), store->event_count());
  EXPECT_EQ(back->dead_letter_count(), 1);
  EXPECT_EQ(d.plant_totals(*back), want);
  EXPECT_EQ(want, d.engine_totals());
  // Ingest goes on in the restored database (partitions, sequences and ids came back).
  EXPECT_EQ(back->append(std::span(d.all).first(100), d.hi).inserted, 0u);
  Event fresh = d.all.back();
  fresh.seq += 1'000'000;
  fresh.ts += kMsPerDay * 3;
  EXPECT_EQ(back->append(std::span(&fresh, 1), d.hi).inserted, 1u);
}

// docs/operations.md, "PostgreSQL: base backup and WAL archiving": a base backup, WAL archived
// by archive_command, and a new cluster restored from both to a named restore point, replaying the
// WAL written after the base backup.
TEST(PostgresDeployment, BaseBackupPlusArchivedWalRestoresToTheRestorePoint) {
  PlantData d;
  const std::string archiving = std::string(kTestServerSettings) +
                                " -c wal_level=replica -c archive_mode=on"
                                " -c archive_command='test ! -f {dir}/archive/%f && cp %p {dir}/archive/%f'";
  PostgresCluster primary(archiving);
  primary.run({"/bin/mkdir", primary.dir() + "/archive"}, "mkdir archive");
  primary.exec("postgres", "CREATE DATABASE oee");
  const std::size_t third = d.all.size() / 3;
  const std::vector<Event> before(d.all.begin(), d.all.begin() + static_cast<std::ptrdiff_t>(third));
  const std::vector<Event> after_base(d.all.begin() + static_cast<std::ptrdiff_t>(third), d.all.begin() + static_cast<std::ptrdiff_t>(2 * third));
  const std::vector<Event> after_target(d.all.begin() + static_cast<std::ptrdiff_t>(2 * third), d.all.end());
  std::int64_t events_at_target = 0;
  std::vector<KpiTotals> want;
  {
    auto store = open_postgres_store(primary.url("oee"), d.plant, d.cal, {});
    ingest(*store, before, 500);
    primary.run({std::string(kPostgresBin) + "/pg_basebackup", "-h", primary.dir(), "-U", "postgres", "-D", primary.dir() + "/base",
                 "--checkpoint=fast"},
                "pg_basebackup");
    ingest(*store, after_base, 500);
    events_at_target = store->event_count();
    want = d.plant_totals(*store);
    primary.exec("postgres", "SELECT pg_create_restore_point('oee-test-target')");
    ingest(*store, after_target, 500);  // after the target: not restored
    ASSERT_EQ(store->event_count(), static_cast<std::int64_t>(d.all.size()));
  }
  // The segment holding the restore point is archived before the primary goes.
  primary.exec("postgres", "CREATE TABLE switched AS SELECT pg_walfile_name(pg_switch_wal()) AS segment");
  const auto archived = [&] {
    return primary.scalar(primary.url(), "SELECT count(*) FROM pg_stat_archiver, switched WHERE last_archived_wal >= segment") == 1;
  };
  ASSERT_TRUE(oee::testing::eventually(archived, std::chrono::seconds(30)));
  primary.stop();

  PostgresCluster restored(FromBaseBackup{primary.dir() + "/base"},
                           std::string(kTestServerSettings) + " -c restore_command='cp " + primary.dir() + "/archive/%f %p'" +
                               " -c recovery_target_name=oee-test-target -c recovery_target_action=promote");
  const auto promoted = [&] { return restored.scalar(restored.url(), "SELECT CASE WHEN pg_is_in_recovery() THEN 0 ELSE 1 END") == 1; };
  ASSERT_TRUE(oee::testing::eventually(promoted, std::chrono::seconds(60)));
  auto back = open_postgres_store(restored.url("oee"), d.plant, d.cal, {});
  EXPECT_EQ(back->event_count(), events_at_target);
  EXPECT_LT(back->event_count(), static_cast<std::int64_t>(d.all.size()));
  EXPECT_EQ(d.plant_totals(*back), want);
  // The restored cluster takes writes: what came after the target can be sent again.
  ingest(*back, after_target, 500);
  EXPECT_EQ(back->event_count(), static_cast<std::int64_t>(d.all.size()));
  EXPECT_EQ(d.plant_totals(*back), d.engine_totals());
}

TEST(PostgresDeployment, RetentionOnOneServerLeavesIngestOnAnotherWorking) {
  const PlantModel plant = test_plant(1, 1);
  const FixedOffsetZone zone;
  const ShiftCalendar cal(plant, zone);
  const MachineSpec& m = *plant.machines()[0];
  PostgresBackend pg;
  const std::string url = pg.new_location();
  StoreOptions keep_two_days;
  keep_two_days.retention_days = 2;
  auto a = pg.open(url, plant, cal, {});
  auto b = pg.open(url, plant, cal, keep_two_days);
  const TimeMs old_day = at("2026-11-01T00:00:00Z"), recent = at("2026-11-10T00:00:00Z");
  GeneratorOptions o;
  o.src = "edge";
  auto events = random_events(9, old_day, old_day + 6 * kMsPerHour, m.path, o);
  const auto later = random_events(10, recent, recent + 6 * kMsPerHour, m.path, GeneratorOptions{90'000, true, true, "edge2"});
  events.insert(events.end(), later.begin(), later.end());
  ASSERT_EQ(a->append(events, recent).inserted, events.size());
  EXPECT_GT(b->apply_retention(recent + kMsPerDay).events, 0);
  // `b`'s run set the cut for every server: a late event for the dropped day, on `a`, is refused
  // with a dead letter, and one after the cut still goes in.
  Event late = events.front();
  late.seq = 1'000'000;
  late.ts += 1;
  AppendResult r = a->append(std::span(&late, 1), recent);
  EXPECT_EQ(r.inserted, 0u);
  EXPECT_EQ(r.older_than_retention, 1u);
  Event fresh = later.back();
  fresh.seq = 2'000'000;
  fresh.ts += 1;
  EXPECT_EQ(a->append(std::span(&fresh, 1), recent).inserted, 1u);
  // Received "at its own time" the batch holds nothing a day old, so `a` does not ask for the cut
  // and tries the partition it created, which `b` dropped: the retry asks, and refuses it too.
  late.seq = 1'000'001;
  r = a->append(std::span(&late, 1), late.ts + kMsPerHour);
  EXPECT_EQ(r.inserted, 0u);
  EXPECT_EQ(r.older_than_retention, 1u);
  EXPECT_EQ(a->dead_letter_count(), 2);
  EXPECT_EQ(b->apply_retention(recent + kMsPerDay).events, 0);
}

// Several servers sharing one database run retention at the same moment (each at start, then
// hourly): the runs take turns under the lock, every old event and dead letter is deleted once,
// none fails, and KPIs over the kept days still equal the engine.
TEST(PostgresDeployment, ConcurrentRetentionRunsOnSeveralServersDeleteEachThingOnce) {
  const PlantModel plant = test_plant(1, 1);
  FixedOffsetZone zone;
  ShiftCalendar cal(plant, zone);
  const MachineSpec& m = *plant.machines()[0];
  PostgresBackend pg;
  const std::string url = pg.new_location();
  StoreOptions keep_two_days;
  keep_two_days.retention_days = 2;
  std::vector<std::unique_ptr<EventStore>> servers;
  for (int i = 0; i < 4; ++i) servers.push_back(pg.open(url, plant, cal, keep_two_days));
  const TimeMs lo = at("2026-11-01T00:00:00Z"), hi = at("2026-11-07T00:00:00Z");
  GeneratorOptions o;
  o.src = "edge";
  const auto events = random_events(21, lo, hi, m.path, o);
  ASSERT_EQ(servers[0]->append(events, hi).inserted, events.size());
  for (TimeMs t = lo; t < hi; t += 3 * kMsPerHour) servers[1]->add_dead_letter({0, t, "oee/v1/x", "{bad", "test"});
  const TimeMs cutoff = hi - 2 * kMsPerDay;
  std::int64_t old_events = 0, old_letters = 0;
  for (const Event& e : events) old_events += e.ts < cutoff;
  for (TimeMs t = lo; t < hi; t += 3 * kMsPerHour) old_letters += t < cutoff;

  std::vector<RetentionResult> runs(servers.size());
  std::vector<std::string> errors(servers.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < servers.size(); ++i)
    threads.emplace_back([&, i] {
      try {
        runs[i] = servers[i]->apply_retention(hi);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  for (std::thread& t : threads) t.join();
  RetentionResult sum;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    EXPECT_EQ(errors[i], "") << "server " << i;
    sum.events += runs[i].events;
    sum.dead_letters += runs[i].dead_letters;
  }
  EXPECT_EQ(sum.events, old_events);
  EXPECT_EQ(sum.dead_letters, old_letters);
  EXPECT_EQ(servers[2]->event_count(), static_cast<std::int64_t>(events.size()) - old_events);
  EXPECT_EQ(pg.rollups_ending_by(url, cutoff), 0);
  const MachineHistory ref = MachineHistory::build(m, events);
  for (std::size_t i = 0; i < servers.size(); ++i)
    EXPECT_EQ(servers[i]->machine_totals(m, cutoff + 777, hi, kTimeMax), oee::machine_totals(ref, cal, cutoff + 777, hi, kTimeMax))
        << "server " << i;
}

// The store reads and writes the columns of OEE_KPI_FIELDS by position (COPY, INSERT ... SELECT):
// a migrated database's tables of totals hold exactly those, in that order, after their keys.
TEST(PostgresDeployment, TotalsColumnsAreTheKpiFields) {
  PostgresBackend pg;
  const std::string url = pg.new_location();
  migrate_postgres(url);
  pg::Connection c(url);
  auto columns = [&](const char* table) {
    return c.query("SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns"
                   " WHERE table_name='" + std::string(table) + "'").text_at(0, 0);
  };
  EXPECT_EQ(columns("rollups"), "machine_id, hour_start, " OEE_KPI_COLUMNS);
  EXPECT_EQ(columns("rollup_days"), "machine_id, day_start, " OEE_KPI_COLUMNS);
  EXPECT_EQ(columns("machine_carry"), "machine_id, at, events, partial_hours, " OEE_KPI_COLUMNS);
}

}  // namespace
}  // namespace oee::storage
