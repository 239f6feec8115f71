// `oee serve --demo` SIGKILLed in the middle of ingesting, then restarted: nothing committed is lost,
// nothing is counted twice, and its KPIs equal an independent offline computation of the same
// simulated events (`oee simulate` + `oee replay`), to the last digit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "../../server/tests/http_client.h"
#include "child_process.h"
#include "oee/core/time.h"

namespace {

std::string run(const std::string& args) {
  const std::string command = std::string(OEE_BINARY) + " " + args + " 2>&1";
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0) << command << "\n" << out;
  return out;
}

// The server's admin token: set in this process's environment, so every `oee serve` child has it.
const std::string kAdminToken = "serve-crash-test-admin-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";

std::uint16_t port_of(const std::string& output) {
  const std::string prefix = "listening on http://127.0.0.1:";
  const std::size_t at = output.find(prefix);
  return at == std::string::npos ? 0 : static_cast<std::uint16_t>(std::stoi(output.substr(at + prefix.size())));
}

}  // namespace

TEST(ServeCrash, KilledDuringIngestLosesNothingAndCountsNothingTwice) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee-serve-crash-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const oee::TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
  // Two simulated days of history to ingest before real time: the kills land in the middle of it.
  const oee::TimeMs start = oee::floor_to(now - 48 * oee::kMsPerHour, oee::kMsPerMinute);
  std::ofstream(dir / "demo-start") << start << "\n";
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  const std::vector<std::string> serve = {OEE_BINARY, "serve", "--demo", "--data-dir", dir.string(), "--listen", "127.0.0.1:0"};

  std::mt19937 rng(static_cast<unsigned>(now));
  for (int crash = 0; crash < 3; ++crash) {
    oee::testing::ChildProcess server(serve, (dir / ("serve-" + std::to_string(crash) + ".log")).string());
    ASSERT_TRUE(server.wait_for_output("listening on", std::chrono::seconds(20))) << server.output();
    // Kill once some history is stored (the first progress line of a run that re-reads what was
    // stored before), at a random moment after it.
    ASSERT_TRUE(server.wait_for_output("demo: simulated history stored up to", std::chrono::seconds(60))) << server.output();
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));
    EXPECT_EQ(server.kill(SIGKILL), -SIGKILL);
    EXPECT_EQ(server.output().find("caught up"), std::string::npos) << "the kill came after the ingest: " << server.output();
  }

  oee::testing::ChildProcess server(serve, (dir / "serve-final.log").string());
  ASSERT_TRUE(server.wait_for_output("listening on", std::chrono::seconds(20))) << server.output();
  const std::uint16_t port = port_of(server.output());
  ASSERT_NE(port, 0);
  // Caught up when the simulator's source has no gaps and reaches past the window.
  const oee::TimeMs window_end = start + 40 * oee::kMsPerHour;
  const std::string from = oee::format_rfc3339(start), to = oee::format_rfc3339(window_end);
  std::string sources;
  for (int i = 0; i < 600; ++i) {
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

  // The same events computed offline.
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
  // Without the token: 401.
  EXPECT_EQ(oee::testing::http_get(port, "/api/v1/sources").status, 401);
  EXPECT_EQ(server.kill(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}
