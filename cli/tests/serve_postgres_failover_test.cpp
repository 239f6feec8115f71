// `oee serve` on a pg_auto_failover formation (a monitor, a primary, a synchronous secondary: real
// PostgreSQL 15 and pg_autoctl processes on loopback) through libpq's multi-host URL with
// target_session_attrs=read-write, ingesting the demo plant's simulated events from a real
// Mosquitto. The primary's machine is lost mid-ingest (its postgres and its keeper SIGKILLed); the
// monitor promotes the secondary; the server's circuit breaker opens, its spill takes the ingest,
// it reconnects to the new primary and replays: every event acknowledged is stored exactly once
// there, and the KPIs equal an offline `oee replay`. The time from the kill to the first event
// stored on the new primary is printed (bench_postgres_failover measures it).
#include <gtest/gtest.h>

#include <filesystem>

#include "../../storage/tests/pg_auto_failover_cluster.h"
#include "demo_crash_scenario.h"
#include "mqtt_publishing.h"

namespace {

using namespace std::chrono_literals;
using oee::storage::testing::PgAutoFailoverCluster;
using oee::testing::eventually;

const std::string kAdminToken = "serve-postgres-failover-test-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";

// The test's directory, removed at the end also when an assertion ends the test early.
struct RemovedAtExit {
  std::filesystem::path dir;
  ~RemovedAtExit() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

}  // namespace

TEST(ServePostgresFailover, PrimaryLostMidIngestIsPromotedAwayAndNothingAcknowledgedIsLost) {
  PgAutoFailoverCluster cluster(oee::testing::free_port);
  ASSERT_EQ(cluster.primary(), 0);
  const std::string url = cluster.url();
  oee::testing::run_oee("db migrate --storage '" + url + "'");
  const auto dir = std::filesystem::temp_directory_path() / ("oee-pg-failover-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const RemovedAtExit remove_dir{dir};
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  oee::testing::Broker broker(dir);

  const oee::testing::DemoHours stream = oee::testing::three_demo_hours(dir);
  const oee::TimeMs start = stream.start, window_end = stream.window_end;
  const std::size_t events = stream.events;
  const auto& messages = stream.messages;
  ASSERT_GT(events, 1000u);

  oee::testing::ChildProcess server({OEE_BINARY, "serve", "--plant", OEE_DEMO_PLANT_FILE, "--data-dir", dir.string(), "--listen",
                                     "127.0.0.1:0", "--storage", url, "--mqtt", broker.url(), "--mqtt-client-id", "oee-server",
                                     "--mqtt-reconnect-min-ms", "200"},
                                    (dir / "serve.log").string());
  ASSERT_TRUE(server.wait_for_output("listening on", 60s)) << server.output();
  ASSERT_TRUE(server.wait_for_output("mqtt subscriber: connected", 30s)) << server.output();
  ASSERT_TRUE(server.wait_for_output("listening on", 30s)) << server.output();  // printed after the subscriber may connect
  const std::uint16_t port = oee::testing::listening_port(server.output());
  ASSERT_NE(port, 0);
  oee::testing::Publisher publisher(broker.url(), "pg-failover-test-publisher");

  // The primary's machine is lost as soon as the first half's ingest has begun; the second half is
  // published during the failover.
  publisher.publish(messages, 0, messages.size() / 2);
  ASSERT_TRUE(eventually([&] { return cluster.stored_events(0) > 0; }, 60s));
  const auto killed = std::chrono::steady_clock::now();
  cluster.kill_node(0);
  const std::int64_t at_kill = cluster.replayed_events(1);
  ASSERT_GE(at_kill, 0);
  EXPECT_LT(at_kill, static_cast<std::int64_t>(events)) << "the kill came after the ingest";
  publisher.publish(messages, messages.size() / 2, messages.size());
  ASSERT_TRUE(eventually([&] { return cluster.stored_events(1) > at_kill; }, 120s))
      << "nothing stored on node1 after the kill\n" << server.output();
  std::printf("postgres failover: kill -9 of the primary -> first event stored on the new primary: %.2f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count());
  // Promoted by the monitor: the new primary, alone (no standby to wait for), takes writes.
  EXPECT_TRUE(cluster.reaches(1, "wait_primary", 30s)) << cluster.state_of(1);
  EXPECT_EQ(cluster.primary(), 1);

  // Every event stored once on the new primary, and the server answers from it.
  ASSERT_TRUE(eventually([&] { return cluster.stored_events(1) >= static_cast<std::int64_t>(events); }, 300s))
      << cluster.stored_events(1) << " of " << events << "\n" << server.output();
  std::this_thread::sleep_for(500ms);  // the subject: nothing more arrives late (an absence, not a state to poll)
  EXPECT_EQ(cluster.stored_events(1), static_cast<std::int64_t>(events));
  EXPECT_TRUE(eventually([&] { return oee::testing::stored_events(port, kAuth) == static_cast<std::int64_t>(events); }, 60s));
  EXPECT_TRUE(oee::testing::http_get(port, "/api/v1/dead-letters", kAuth).body.starts_with("{\"total\":0,"));
  oee::testing::expect_kpis_equal_offline_replay(port, kAuth, dir, start, window_end);
  EXPECT_EQ(server.kill(SIGTERM), 0);
}
