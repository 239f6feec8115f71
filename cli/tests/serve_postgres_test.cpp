// `oee serve --storage postgresql://...` end to end, against a throwaway PostgreSQL 15 cluster:
// `oee db migrate`, the demo ingesting into PostgreSQL SIGKILLed in the middle of its ingest (mostly
// inside a COPY or the INSERT from the staging table) and restarted: nothing committed is lost,
// nothing counted twice, the KPIs equal an offline `oee replay` of the same simulated events; then
// `oee export` writes the stored events of a window to CSV, one row per event.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "../../storage/tests/postgres_test_cluster.h"
#include "demo_crash_scenario.h"
#include "oee/storage/postgres_store.h"

namespace {

// The server's admin token: set in this process's environment, so every `oee serve` child has it.
const std::string kAdminToken = "serve-postgres-test-admin-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";

std::size_t lines_of(const std::string& file) {
  std::ifstream in(file);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

}  // namespace

TEST(ServePostgres, MigrateServeKilledDuringIngestAndExportAgreeWithAnOfflineReplay) {
  oee::storage::testing::PostgresCluster cluster;
  const std::string url = cluster.create_database();
  const auto dir = std::filesystem::temp_directory_path() / ("oee-serve-pg-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  // Versioned migrations from the command line; bad URLs are bad input.
  const std::string latest = std::to_string(oee::storage::postgres_latest_schema_version());
  EXPECT_NE(oee::testing::run_oee("db migrate --storage '" + url + "'").find("schema version 0 -> " + latest), std::string::npos);
  EXPECT_NE(oee::testing::run_oee("db migrate --storage '" + url + "'").find("up to date"), std::string::npos);
  EXPECT_NE(oee::testing::run_oee("db status --storage '" + url + "'").find("schema version " + latest + " (this build: " + latest + ")"),
            std::string::npos);
  oee::testing::run_oee("db migrate --storage mysql://x/y", 2);
  oee::testing::run_oee("serve --demo --storage mysql://x/y --data-dir " + dir.string(), 2);

  const oee::TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
  const oee::TimeMs start = oee::floor_to(now - 30 * oee::kMsPerHour, oee::kMsPerMinute);
  std::ofstream(dir / "demo-start") << start << "\n";
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  const std::vector<std::string> serve = {OEE_BINARY, "serve", "--demo", "--data-dir", dir.string(),
                                          "--listen", "127.0.0.1:0", "--storage", url};
  oee::testing::kill_during_history_ingest(serve, dir, 2, std::chrono::seconds(120));
  ASSERT_FALSE(::testing::Test::HasFatalFailure());

  oee::testing::ChildProcess server(serve, (dir / "serve-final.log").string());
  ASSERT_TRUE(server.wait_for_output("listening on", std::chrono::seconds(30))) << server.output();
  EXPECT_NE(server.output().find("store postgresql:///"), std::string::npos) << server.output();
  const std::uint16_t port = oee::testing::listening_port(server.output());
  ASSERT_NE(port, 0);
  const oee::TimeMs window_end = start + 24 * oee::kMsPerHour;
  const std::string from = oee::format_rfc3339(start), to = oee::format_rfc3339(window_end);
  oee::testing::wait_until_caught_up(port, kAuth, window_end, 1200);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  oee::testing::expect_kpis_equal_offline_replay(port, kAuth, dir, start, window_end);
  EXPECT_EQ(server.kill(SIGTERM), 0);

  // Export: one CSV row per stored event of the window (the simulator's events of the same window).
  const std::string window_events = (dir / "window.jsonl").string(), csv = (dir / "window.csv").string();
  oee::testing::run_oee("simulate --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --seed 1 --from " + from + " --to " + to + " --out " + window_events);
  oee::testing::run_oee("export --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --storage '" + url + "' --from " + from + " --to " + to +
      " --out " + csv);
  EXPECT_EQ(lines_of(csv), lines_of(window_events) + 1);
  std::ifstream in(csv);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "ts,ts_ms,machine,type,src,seq,state,reason,good,reject,counter,value,rollover,product,at_ms");
  oee::testing::run_oee("export --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --storage '" + url + "' --from " + to + " --to " + from +
      " --out " + csv, 2);
  // Options that would not take effect on a PostgreSQL export are refused, not ignored.
  const std::string pg_export = "export --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --storage '" + url + "' --from " + from +
                                " --to " + to + " --out " + csv;
  EXPECT_NE(oee::testing::run_oee(pg_export + " --data-dir " + dir.string(), 2).find("excludes"), std::string::npos);
  const std::filesystem::path key = dir / "export.key";
  std::ofstream(key) << "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9\n";
  ::chmod(key.c_str(), 0600);
  EXPECT_NE(oee::testing::run_oee(pg_export + " --encryption-key-file " + key.string(), 2).find("is for the embedded store"),
            std::string::npos);
  std::filesystem::remove_all(dir);
}
