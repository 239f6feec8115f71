// `oee serve --storage postgresql://...` end to end, against a throwaway PostgreSQL 15 cluster:
// `oee db migrate`, the demo ingesting into PostgreSQL SIGKILLed in the middle of its ingest (mostly
// inside a COPY or the INSERT from the staging table) and restarted: nothing committed is lost,
// nothing counted twice, the KPIs equal an offline `oee replay` of the same simulated events; then
// `oee export` writes the stored events of a window to CSV, one row per event.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "../../server/tests/http_client.h"
#include "../../storage/tests/postgres_test_cluster.h"
#include "child_process.h"
#include "oee/core/time.h"

namespace {

std::string run(const std::string& args, int want_status = 0) {
  const std::string command = std::string(OEE_BINARY) + " " + args + " 2>&1";
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, want_status) << command << "\n" << out;
  return out;
}

// The server's admin token: set in this process's environment, so every `oee serve` child has it.
const std::string kAdminToken = "serve-postgres-test-admin-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";

std::uint16_t port_of(const std::string& output) {
  const std::string prefix = "listening on http://127.0.0.1:";
  const std::size_t at = output.find(prefix);
  return at == std::string::npos ? 0 : static_cast<std::uint16_t>(std::stoi(output.substr(at + prefix.size())));
}

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
  EXPECT_NE(run("db migrate --storage '" + url + "'").find("schema version 0 -> 1"), std::string::npos);
  EXPECT_NE(run("db migrate --storage '" + url + "'").find("up to date"), std::string::npos);
  EXPECT_NE(run("db status --storage '" + url + "'").find("schema version 1"), std::string::npos);
  run("db migrate --storage mysql://x/y", 2);
  run("serve --demo --storage mysql://x/y --data-dir " + dir.string(), 2);

  const oee::TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
  const oee::TimeMs start = oee::floor_to(now - 30 * oee::kMsPerHour, oee::kMsPerMinute);
  std::ofstream(dir / "demo-start") << start << "\n";
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  const std::vector<std::string> serve = {OEE_BINARY, "serve", "--demo", "--data-dir", dir.string(),
                                          "--listen", "127.0.0.1:0", "--storage", url};
  std::mt19937 rng(static_cast<unsigned>(now));
  for (int crash = 0; crash < 2; ++crash) {
    oee::testing::ChildProcess server(serve, (dir / ("serve-" + std::to_string(crash) + ".log")).string());
    ASSERT_TRUE(server.wait_for_output("listening on", std::chrono::seconds(30))) << server.output();
    ASSERT_TRUE(server.wait_for_output("demo: simulated history stored up to", std::chrono::seconds(120))) << server.output();
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));
    EXPECT_EQ(server.kill(SIGKILL), -SIGKILL);
    EXPECT_EQ(server.output().find("caught up"), std::string::npos) << "the kill came after the ingest: " << server.output();
  }

  oee::testing::ChildProcess server(serve, (dir / "serve-final.log").string());
  ASSERT_TRUE(server.wait_for_output("listening on", std::chrono::seconds(30))) << server.output();
  EXPECT_NE(server.output().find("store postgresql:///"), std::string::npos) << server.output();
  const std::uint16_t port = port_of(server.output());
  ASSERT_NE(port, 0);
  const oee::TimeMs window_end = start + 24 * oee::kMsPerHour;
  const std::string from = oee::format_rfc3339(start), to = oee::format_rfc3339(window_end);
  std::string sources;
  for (int i = 0; i < 1200; ++i) {
    sources = oee::testing::http_get(port, "/api/v1/sources", kAuth).body;
    const auto kpis = oee::testing::http_get(port, "/api/v1/kpis?from=" + oee::format_rfc3339(window_end) +
                                                      "&to=" + oee::format_rfc3339(window_end + oee::kMsPerHour), kAuth).body;
    if (sources.find("\"gaps\":[]") != std::string::npos && kpis.find("\"total_count\":0,") == std::string::npos &&
        kpis.find("\"unknown_time_s\":0,") != std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(sources.find("\"src\":\"sim\""), std::string::npos) << sources;
  EXPECT_NE(sources.find("\"seq_min\":0,"), std::string::npos) << sources;
  EXPECT_NE(sources.find("\"gaps\":[]"), std::string::npos) << sources;

  const std::string events = (dir / "events.jsonl").string();
  run("simulate --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --seed 1 --from " + from + " --to " +
      oee::format_rfc3339(window_end + oee::kMsPerHour) + " --out " + events);
  for (const std::string node : {"", "berlin/bottling/pet1", "berlin/bottling/glass2/filler"}) {
    const std::string node_arg = node.empty() ? "" : " --node " + node;
    std::string offline = run("replay --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --events " + events + " --from " +
                              from + " --to " + to + " --as-of " + oee::format_rfc3339(window_end + oee::kMsPerHour) + node_arg);
    offline.erase(offline.find_last_not_of('\n') + 1);
    const auto online = oee::testing::http_get(port, "/api/v1/kpis?from=" + from + "&to=" + to + (node.empty() ? "" : "&node=" + node), kAuth);
    ASSERT_EQ(online.status, 200) << online.body;
    EXPECT_EQ(online.body, offline) << "node " << node;
  }
  EXPECT_EQ(server.kill(SIGTERM), 0);

  // Export: one CSV row per stored event of the window (the simulator's events of the same window).
  const std::string window_events = (dir / "window.jsonl").string(), csv = (dir / "window.csv").string();
  run("simulate --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --seed 1 --from " + from + " --to " + to + " --out " + window_events);
  run("export --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --storage '" + url + "' --from " + from + " --to " + to +
      " --out " + csv);
  EXPECT_EQ(lines_of(csv), lines_of(window_events) + 1);
  std::ifstream in(csv);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "ts,ts_ms,machine,type,src,seq,state,reason,good,reject,counter,value,rollover,product,at_ms");
  run("export --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --storage '" + url + "' --from " + to + " --to " + from +
      " --out " + csv, 2);
  std::filesystem::remove_all(dir);
}
