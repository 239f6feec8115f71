// `oee serve --demo` SIGKILLed in the middle of ingesting, then restarted: nothing committed is lost,
// nothing is counted twice, and its KPIs equal an independent offline computation of the same
// simulated events (`oee simulate` + `oee replay`), to the last digit.
#include <fstream>

#include "demo_crash_scenario.h"

namespace {

// The server's admin token: set in this process's environment, so every `oee serve` child has it.
const std::string kAdminToken = "serve-crash-test-admin-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";

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
  oee::testing::kill_during_history_ingest(serve, dir, 3, std::chrono::seconds(60));
  ASSERT_FALSE(::testing::Test::HasFatalFailure());

  oee::testing::ChildProcess server(serve, (dir / "serve-final.log").string());
  ASSERT_TRUE(server.wait_for_output("listening on", std::chrono::seconds(20))) << server.output();
  const std::uint16_t port = oee::testing::listening_port(server.output());
  ASSERT_NE(port, 0);
  const oee::TimeMs window_end = start + 40 * oee::kMsPerHour;
  oee::testing::wait_until_caught_up(port, kAuth, window_end, 600);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  oee::testing::expect_kpis_equal_offline_replay(port, kAuth, dir, start, window_end);
  // Without the token: 401.
  EXPECT_EQ(oee::testing::http_get(port, "/api/v1/sources").status, 401);
  EXPECT_EQ(server.kill(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}
