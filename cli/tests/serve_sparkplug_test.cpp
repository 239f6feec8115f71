// End to end, real processes: an `oee edge` in Sparkplug mode (mqtt.format: sparkplug) -> Mosquitto
// -> `oee serve --sparkplug-host-id`, beside an `oee edge` in JSON mode -> the same Mosquitto ->
// another `oee serve --mqtt`. Both edges simulate the same plant from the same seed and start at
// 1200x real time; the KPIs of both servers over the first simulated hour are the same.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "mqtt_publishing.h"

namespace {

using namespace std::chrono_literals;
using oee::testing::eventually;

const std::string kAdminToken = "serve-sparkplug-test-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";

// Two machines mapped to the Sparkplug edge's devices (path with '.'), every signal the edge's
// simulator source sends. No no_data_after_s: Sparkplug reports by exception (the simulator's
// heartbeats make no metric), so a past stretch replayed at 1200x would be no data on that side only.
constexpr const char* kPlant = R"(timezone: UTC
sites: [{id: berlin, areas: [{id: bottling, lines: [{id: pet1, machines: [
  {id: filler, ideal_cycle_time_s: 0.12, products: {still: 0.12, sparkling: 0.13}, micro_stop_threshold_s: 120,
   sparkplug: {group: plant, node: edge1, device: berlin.bottling.pet1.filler, metrics: &signals {
     state: state, reason: reason, product: product, "counter:total": "counter:total", "counter:reject": "counter:reject",
     "count:good": "count:good", "count:reject": "count:reject"}}},
  {id: capper, ideal_cycle_time_s: 0.11, products: {still: 0.11, sparkling: 0.11},
   sparkplug: {group: plant, node: edge1, device: berlin.bottling.pet1.capper, metrics: *signals}}]}]}]}]
)";

struct Process {
  std::unique_ptr<oee::testing::ChildProcess> child;
  std::uint16_t port = 0;
};

// `log`: the log file's name (a restart's own, so that the old one's "listening on" is not read).
Process start_server(const std::filesystem::path& dir, const std::string& name, std::vector<std::string> extra,
                     const std::string& log = "") {
  std::filesystem::create_directories(dir / name);
  std::vector<std::string> argv = {OEE_BINARY, "serve", "--plant", (dir / "plant.yaml").string(), "--data-dir", (dir / name).string(),
                                   "--listen", "127.0.0.1:0", "--mqtt-client-id", "oee-" + name, "--mqtt-reconnect-min-ms", "200"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Process p;
  p.child = std::make_unique<oee::testing::ChildProcess>(argv, (dir / (log.empty() ? name + ".log" : log)).string());
  EXPECT_TRUE(p.child->wait_for_output("listening on", 60s)) << p.child->output();
  p.port = oee::testing::listening_port(p.child->output());
  return p;
}

std::unique_ptr<oee::testing::ChildProcess> start_edge(const std::filesystem::path& dir, const std::string& name,
                                                       const std::string& broker, oee::TimeMs start, const std::string& mqtt_extra) {
  std::filesystem::create_directories(dir / name);
  const auto config = dir / name / "edge.yaml";
  std::ofstream(config) << "id: " << name << "\ndata_dir: " << (dir / name / "data").string() << "\ndrain_timeout_ms: 10000\n"
                        << "mqtt:\n  brokers: [\"" << broker << "\"]\n  reconnect_min_ms: 200\n  reconnect_max_ms: 1000\n"
                        << mqtt_extra << "plant: " << (dir / "plant.yaml").string() << "\nsources:\n"
                        << "  - {type: simulator, seed: 1, speed: 1200, start: " << start << "}\n";
  return std::make_unique<oee::testing::ChildProcess>(std::vector<std::string>{OEE_BINARY, "edge", "--config", config.string()},
                                                      (dir / (name + ".log")).string());
}

std::string kpis(std::uint16_t port, oee::TimeMs from, oee::TimeMs to, const std::string& node) {
  return oee::testing::http_get(port, "/api/v1/kpis?from=" + oee::format_rfc3339(from) + "&to=" + oee::format_rfc3339(to) + node, kAuth)
      .body;
}

// Whether the server holds data past `t` (counts in the ten minutes after it).
bool stored_past(std::uint16_t port, oee::TimeMs t) {
  return kpis(port, t, t + 10 * oee::kMsPerMinute, "").find("\"total_count\":0,") == std::string::npos;
}

// Both paths from the same start; with `kill_midstream` the host's server is SIGKILLed once it stored
// the first 20 simulated minutes, and started again on its data: its persistent session hands over
// what came meanwhile or was not committed, so its KPIs still equal the JSON path's (a lost state
// or a count stored twice would show).
void expect_sparkplug_kpis_equal_json(const std::string& name, bool kill_midstream) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee-serve-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "plant.yaml") << kPlant;
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  oee::testing::Broker broker(dir);
  // The host's server takes no JSON topic of the edges (a filter nothing publishes to).
  const std::vector<std::string> host_flags = {"--mqtt", broker.url(), "--mqtt-topic", "oee/v1/nothing/#", "--sparkplug-host-id", "scada"};
  Process sparkplug = start_server(dir, "sparkplug-server", host_flags);
  Process json = start_server(dir, "json-server", {"--mqtt", broker.url()});
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  // The JSON server, no Sparkplug host, says at its start that it takes nothing of the mapped machines.
  const std::string not_host = "without --sparkplug-host-id this server takes no Sparkplug";
  EXPECT_NE(json.child->output().find(not_host), std::string::npos) << json.child->output();
  EXPECT_EQ(sparkplug.child->output().find(not_host), std::string::npos) << sparkplug.child->output();
  ASSERT_TRUE(broker.subscribed("oee-json-server", "oee/v1/#", 30s));
  ASSERT_TRUE(broker.subscribed("oee-sparkplug-server-sparkplug-scada", "spBv1.0/#", 30s)) << sparkplug.child->output();
  const oee::TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const oee::TimeMs start = oee::floor_to(now - 6 * oee::kMsPerHour, oee::kMsPerMinute), window_end = start + oee::kMsPerHour;
  auto sparkplug_edge = start_edge(dir, "sparkplug-edge", broker.url(), start,
                                   "  format: sparkplug\n  sparkplug: {group: plant, node: edge1, primary_host: scada}\n");
  auto json_edge = start_edge(dir, "json-edge", broker.url(), start, "");
  if (kill_midstream) {
    ASSERT_TRUE(eventually([&] { return stored_past(sparkplug.port, start + 20 * oee::kMsPerMinute); }, 60s)) << sparkplug_edge->output();
    const bool window_stored = stored_past(sparkplug.port, window_end);
    EXPECT_EQ(sparkplug.child->kill(SIGKILL), -SIGKILL);
    ASSERT_FALSE(window_stored) << "killed after the window: the test proves little";
    sparkplug = start_server(dir, "sparkplug-server", host_flags, "sparkplug-server-restarted.log");
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
  }
  // Both stored well past the window, then stopped (the queues drain).
  const oee::TimeMs settled = window_end + oee::kMsPerHour;
  ASSERT_TRUE(eventually([&] { return stored_past(sparkplug.port, settled) && stored_past(json.port, settled); }, 120s))
      << sparkplug_edge->output() << sparkplug.child->output() << json_edge->output();
  EXPECT_EQ(sparkplug_edge->kill(SIGTERM), 0) << sparkplug_edge->output();
  EXPECT_EQ(json_edge->kill(SIGTERM), 0) << json_edge->output();
  for (const std::string node : {"", "&node=berlin/bottling/pet1/filler", "&node=berlin/bottling/pet1/capper"}) {
    const std::string sparkplug_kpis = kpis(sparkplug.port, start, window_end, node);
    EXPECT_NE(sparkplug_kpis.find("\"good_count\":"), std::string::npos) << sparkplug_kpis;
    EXPECT_EQ(sparkplug_kpis.find("\"total_count\":0,"), std::string::npos) << sparkplug_kpis;
    EXPECT_EQ(sparkplug_kpis, kpis(json.port, start, window_end, node)) << node;
  }
  EXPECT_TRUE(oee::testing::http_get(sparkplug.port, "/api/v1/dead-letters", kAuth).body.starts_with("{\"total\":0,"))
      << oee::testing::http_get(sparkplug.port, "/api/v1/dead-letters", kAuth).body;
  EXPECT_EQ(sparkplug.child->kill(SIGTERM), 0);
  EXPECT_EQ(json.child->kill(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

TEST(ServeSparkplug, EdgeInSparkplugModeToTheHostMakesTheKpisOfTheJsonPath) {
  expect_sparkplug_kpis_equal_json("sparkplug", false);
}

TEST(ServeSparkplug, HostServerSigkilledMidStreamLosesNothingAndStoresNothingTwice) {
  expect_sparkplug_kpis_equal_json("sparkplug-kill", true);
}

}  // namespace
