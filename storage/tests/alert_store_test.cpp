// The plant's alerts in the store, on every backend: one firing alert per id, each change taken
// once, kept across a reopen; on PostgreSQL, servers firing, resolving and acknowledging the same
// alert at once make the change once between them.
#include <gtest/gtest.h>

#include <thread>

#include "oee/core/shift_calendar.h"
#include "oee/storage/event_store.h"
#include "sqlite_db.h"
#include "storage_test_support.h"
#include "store_backends.h"

namespace oee::storage {
namespace {

using namespace testing;

Alert firing(const std::string& subject, TimeMs fired) {
  Alert a;
  a.rule = "down";
  a.kind = AlertKind::machine_down;
  a.subject = subject;
  a.id = a.rule + "/" + subject;
  a.fired_ts = fired;
  return a;
}

std::vector<std::string> ids(const std::vector<Alert>& list) {
  std::vector<std::string> out;
  for (const Alert& a : list) out.push_back(a.id + (a.active() ? " firing" : " resolved"));
  return out;
}

class StoreAlerts : public ::testing::TestWithParam<const char*> {
 protected:
  PlantModel plant = test_plant(1, 1);
  FixedOffsetZone zone;
  ShiftCalendar cal{plant, zone};
  TimeMs t0 = at("2026-11-10T08:00:00Z");
  std::unique_ptr<StoreBackend> backend = make_backend(GetParam());
  std::string location = backend->new_location();
  std::unique_ptr<EventStore> store = backend->open(location, plant, cal);
};

TEST_P(StoreAlerts, FireOnceResolveOnceAcknowledgeOnceAndSurviveAReopen) {
  EXPECT_TRUE(store->fire_alert(firing("press", t0)));
  EXPECT_FALSE(store->fire_alert(firing("press", t0 + 5000)));  // fires already: not twice
  EXPECT_TRUE(store->fire_alert(firing("saw", t0 + 1000)));
  EXPECT_EQ(ids(store->alerts()), (std::vector<std::string>{"down/saw firing", "down/press firing"}));

  const auto resolved = store->resolve_alert("down/press", t0 + 9000, AlertResolution::cleared);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->fired_ts, t0);
  EXPECT_EQ(resolved->resolved_ts, t0 + 9000);
  EXPECT_EQ(resolved->kind, AlertKind::machine_down);
  EXPECT_EQ(resolved->subject, "press");
  EXPECT_FALSE(store->resolve_alert("down/press", t0 + 9500, AlertResolution::cleared));  // resolved already
  EXPECT_FALSE(store->resolve_alert("down/none", t0 + 9500, AlertResolution::cleared));

  const auto acked = store->acknowledge_alert("down/press", std::nullopt, "ann", t0 + 10'000);
  ASSERT_TRUE(acked);
  EXPECT_EQ(acked->acknowledged_by, "ann");
  EXPECT_EQ(acked->acknowledged_ts, t0 + 10'000);
  EXPECT_FALSE(store->acknowledge_alert("down/press", std::nullopt, "bob", t0 + 11'000));
  EXPECT_FALSE(store->acknowledge_alert("down/none", std::nullopt, "bob", t0 + 11'000));

  // It fires again: a new alert under the same id, the newest of which an acknowledgement takes.
  EXPECT_TRUE(store->fire_alert(firing("press", t0 + 20'000)));
  store.reset();
  store = backend->open(location, plant, cal);
  const auto listed = store->alerts();
  EXPECT_EQ(ids(listed), (std::vector<std::string>{"down/press firing", "down/saw firing", "down/press resolved"}));
  EXPECT_EQ(listed[0].acknowledged_by, "");
  EXPECT_EQ(listed[2].acknowledged_by, "ann");
  EXPECT_EQ(listed[2].resolved_ts, t0 + 9000);
  EXPECT_TRUE(store->acknowledge_alert("down/press", std::nullopt, "bob", t0 + 21'000));
  EXPECT_EQ(store->alerts()[0].acknowledged_by, "bob");
}

// An episode named by its firing time is the one acknowledged, not the newest of its id: a client
// acknowledges what it listed, even if the alert fired again meanwhile.
TEST_P(StoreAlerts, AcknowledgesTheEpisodeThatFiredAtTheTimeGiven) {
  ASSERT_TRUE(store->fire_alert(firing("press", t0)));
  ASSERT_TRUE(store->resolve_alert("down/press", t0 + 9000, AlertResolution::cleared));
  ASSERT_TRUE(store->fire_alert(firing("press", t0 + 20'000)));
  EXPECT_FALSE(store->acknowledge_alert("down/press", t0 + 5000, "ann", t0 + 21'000));  // no episode fired then
  const auto older = store->acknowledge_alert("down/press", t0, "ann", t0 + 21'000);
  ASSERT_TRUE(older);
  EXPECT_EQ(older->fired_ts, t0);
  EXPECT_EQ(older->resolved_ts, t0 + 9000);
  EXPECT_FALSE(store->acknowledge_alert("down/press", t0, "bob", t0 + 22'000));  // acknowledged already
  const auto listed = store->alerts();
  ASSERT_EQ(ids(listed), (std::vector<std::string>{"down/press firing", "down/press resolved"}));
  EXPECT_EQ(listed[0].acknowledged_by, "");  // the newer one, not taken by the older's acknowledgement
  EXPECT_EQ(listed[1].acknowledged_by, "ann");
  const auto newer = store->acknowledge_alert("down/press", t0 + 20'000, "bob", t0 + 23'000);
  ASSERT_TRUE(newer);
  EXPECT_EQ(newer->fired_ts, t0 + 20'000);
}

// kAlertsResolvedKept + 2 resolved alerts put straight into the table (one statement, not a
// thousand commits), then one more resolved through the store: the three oldest go.
TEST_P(StoreAlerts, KeepsTheNewestResolvedOnly) {
  const std::string rows = std::to_string(kAlertsResolvedKept + 2);
  if (std::string(GetParam()) == "sqlite") {
    ::oee::sqlite::Database db(location);
    db.exec(("WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM g WHERE i<" + rows +
             ") INSERT INTO alerts(id, rule, kind, subject, fired, resolved) SELECT 'old/x', 'old', 'no_data', 'x', i, i FROM g").c_str());
  } else if (std::string(GetParam()) == "postgresql") {
    EXPECT_EQ(std::to_string(shared_postgres().scalar(location, "WITH ins AS (INSERT INTO alerts(id, rule, kind, subject, fired, resolved)"
                                                                " SELECT 'old/x', 'old', 'no_data', 'x', g, g FROM generate_series(1, " + rows +
                                                                ") g RETURNING 1) SELECT count(*) FROM ins")),
              rows);
  } else {
    GTEST_SKIP() << "the same SQL as sqlite, through the encryption";
  }
  ASSERT_EQ(store->alerts().size(), static_cast<std::size_t>(kAlertsResolvedKept));  // listed: the newest only
  ASSERT_TRUE(store->fire_alert(firing("press", t0)));
  ASSERT_TRUE(store->resolve_alert("down/press", t0 + 1, AlertResolution::cleared));
  const auto listed = store->alerts();
  ASSERT_EQ(listed.size(), static_cast<std::size_t>(kAlertsResolvedKept));
  EXPECT_EQ(listed.front().id, "down/press");
  EXPECT_EQ(listed.back().resolved_ts, 4);  // 1, 2 and 3 were deleted
  if (std::string(GetParam()) == "sqlite") {
    ::oee::sqlite::Database db(location);
    ::oee::sqlite::Statement count(db, "SELECT count(*) FROM alerts");
    count.step();
    EXPECT_EQ(count.int_at(0), kAlertsResolvedKept);
  } else {
    EXPECT_EQ(shared_postgres().scalar(location, "SELECT count(*) FROM alerts"), kAlertsResolvedKept);
  }
}

// An alert keeps the start of its episode (in the machine's clock, not the firing server's) and why
// it resolved: its condition cleared, or its rule or node left the plant file.
TEST_P(StoreAlerts, KeepTheirEpisodeStartAndWhyTheyResolved) {
  Alert press = firing("press", t0);
  press.since = t0 - 300'000;  // a machine clock five minutes behind the server's
  ASSERT_TRUE(store->fire_alert(press));
  ASSERT_TRUE(store->fire_alert(firing("saw", t0 + 1000)));
  ASSERT_TRUE(store->fire_alert(firing("drill", t0 + 2000)));
  const auto removed = store->resolve_alert("down/press", t0 + 9000, AlertResolution::rule_removed);
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->resolution, AlertResolution::rule_removed);
  EXPECT_EQ(removed->since, t0 - 300'000);
  ASSERT_TRUE(store->resolve_alert("down/saw", t0 + 9100, AlertResolution::node_removed));
  ASSERT_TRUE(store->resolve_alert("down/drill", t0 + 9200, AlertResolution::cleared));
  store.reset();
  store = backend->open(location, plant, cal);
  const auto listed = store->alerts();
  ASSERT_EQ(ids(listed), (std::vector<std::string>{"down/drill resolved", "down/saw resolved", "down/press resolved"}));
  EXPECT_EQ(listed[0].resolution, AlertResolution::cleared);
  EXPECT_EQ(listed[1].resolution, AlertResolution::node_removed);
  EXPECT_EQ(listed[2].resolution, AlertResolution::rule_removed);
  EXPECT_EQ(listed[2].since, t0 - 300'000);
  EXPECT_EQ(listed[2].fired_ts, t0);
  EXPECT_EQ(listed[1].since, 0);  // as fired: firing() gives no episode start
}

// Alerts stored before the episode start and the resolution reason were (SQLite migration 12,
// PostgreSQL 14): their episode started when they fired (what the server compared before), and a
// resolved one cleared.
TEST_P(StoreAlerts, AlertsFromBeforeTheMigrationStartTheirEpisodeWhenTheyFired) {
  const std::string param = GetParam();
  if (param == "sqlite_encrypted") GTEST_SKIP() << "the same SQL as sqlite, through the encryption";
  // Back to the schema before that migration: the later ones (run events) are undone too, to run again.
  const std::string version = param == "sqlite" ? "12" : "14";
  const std::string later = param == "sqlite" ? "DROP TABLE run_events;" : "DROP INDEX events_runs_by_ts;";
  const std::string sql = "ALTER TABLE alerts DROP COLUMN since; ALTER TABLE alerts DROP COLUMN resolved_reason;" + later +
                          "DELETE FROM schema_version WHERE version>=" + version + ";"
                          "INSERT INTO alerts(id, rule, kind, subject, fired, resolved) VALUES"
                          " ('down/press', 'down', 'machine_down', 'press', 1000, 5000), ('down/saw', 'down', 'machine_down', 'saw', 2000, NULL);";
  store.reset();
  if (param == "sqlite") {
    ::oee::sqlite::Database db(location);
    db.exec(sql.c_str());
  } else {
    exec_sql(location, sql);
  }
  store = backend->open(location, plant, cal);
  const auto listed = store->alerts();
  ASSERT_EQ(ids(listed), (std::vector<std::string>{"down/saw firing", "down/press resolved"}));
  EXPECT_EQ(listed[0].since, 2000);
  EXPECT_EQ(listed[1].since, 1000);
  EXPECT_EQ(listed[1].resolution, AlertResolution::cleared);
  const auto resolved = store->resolve_alert("down/saw", 9000, AlertResolution::node_removed);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->resolution, AlertResolution::node_removed);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreAlerts, ::testing::ValuesIn(kBackends), backend_name);

// Two servers on one PostgreSQL evaluating the same condition at once: one of them fires, resolves
// and takes the acknowledgement; the other is told it did not.
TEST(PostgresDeployment, ServersOnOneDatabaseMakeEachAlertChangeOnce) {
  const PlantModel plant = test_plant(1, 1);
  FixedOffsetZone zone;
  ShiftCalendar cal(plant, zone);
  const TimeMs t0 = at("2026-11-10T08:00:00Z");
  PostgresBackend pg;
  const std::string url = pg.new_location();
  auto one = pg.open(url, plant, cal, {});
  auto two = pg.open(url, plant, cal, {});
  for (int round = 0; round < 20; ++round) {
    const TimeMs t = t0 + round * 1000;
    bool fired[2] = {}, resolved[2] = {}, acked[2] = {};
    std::thread a([&] { fired[0] = one->fire_alert(firing("press", t)); });
    std::thread b([&] { fired[1] = two->fire_alert(firing("press", t + 1)); });
    a.join();
    b.join();
    EXPECT_EQ(fired[0] + fired[1], 1) << round;
    std::thread c([&] { resolved[0] = one->resolve_alert("down/press", t + 500, AlertResolution::cleared).has_value(); });
    std::thread d([&] { resolved[1] = two->resolve_alert("down/press", t + 501, AlertResolution::cleared).has_value(); });
    c.join();
    d.join();
    EXPECT_EQ(resolved[0] + resolved[1], 1) << round;
    std::thread e([&] { acked[0] = one->acknowledge_alert("down/press", std::nullopt, "ann", t + 600).has_value(); });
    std::thread f([&] { acked[1] = two->acknowledge_alert("down/press", std::nullopt, "bob", t + 601).has_value(); });
    e.join();
    f.join();
    EXPECT_EQ(acked[0] + acked[1], 1) << round;
  }
  EXPECT_EQ(one->alerts().size(), 20u);
  EXPECT_EQ(ids(one->alerts()), ids(two->alerts()));
}

}  // namespace
}  // namespace oee::storage
