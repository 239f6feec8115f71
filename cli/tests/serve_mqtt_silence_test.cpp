// `oee serve --mqtt … --mqtt-silence-reconnect-s 1`: with no message for a second the server's
// subscriber reconnects (counted in /metrics), keeps its persistent session, resets it once after
// two silent connections in a row (counted too), and an event published afterwards is stored once. docs/mqtt.md, "A stalled subscription", says why the flag exists.
#include <csignal>
#include <filesystem>
#include <string>

#include "demo_crash_scenario.h"
#include "mqtt_publishing.h"
#include "oee/codec/event_json.h"

namespace {

using namespace oee;
using namespace std::chrono_literals;

const std::string kAdminToken = "serve-mqtt-silence-test-admin-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";

// The value of an unlabelled metric in Prometheus text; -1 when absent.
double metric(const std::string& text, const std::string& name) {
  const std::size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

}  // namespace

TEST(ServeMqttSilence, ReconnectsAfterSilenceCountsItAndStillTakesEvents) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee-serve-mqtt-silence-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  oee::testing::Broker broker(dir);
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  const std::string client_id = "serve-mqtt-silence-test";
  oee::testing::ChildProcess server({OEE_BINARY, "serve", "--plant", OEE_DEMO_PLANT_FILE, "--data-dir", dir.string(),
                                     "--listen", "127.0.0.1:0", "--mqtt", broker.url(), "--mqtt-client-id", client_id,
                                     "--mqtt-silence-reconnect-s", "1"},
                                    (dir / "serve.log").string());
  ASSERT_TRUE(server.wait_for_output("listening on", 20s)) << server.output();
  ASSERT_TRUE(broker.subscribed(client_id, "oee/v1/#", 30s)) << server.output();
  const std::uint16_t port = oee::testing::listening_port(server.output());
  ASSERT_NE(port, 0);
  std::string metrics;
  ASSERT_TRUE(oee::testing::eventually([&] {
    metrics = oee::testing::http_get(port, "/metrics", kAuth).body;
    // Two silent connections in a row reset the session once (a clean session, then a new
    // persistent one), and the third is the new session's: what is published now waits in it.
    return metric(metrics, "oee_mqtt_silence_reconnects_total") >= 3 && metric(metrics, "oee_mqtt_session_resets_total") >= 1;
  }, 20s)) << metrics << server.output();
  EXPECT_EQ(metric(metrics, "oee_mqtt_session_resets_total"), 1) << metrics;
  EXPECT_NE(server.output().find("no message from"), std::string::npos) << server.output();
  EXPECT_NE(server.output().find("reset on " + broker.url() + " (clean session)"), std::string::npos) << server.output();

  Event e;
  e.ts = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count() - kMsPerMinute;
  e.machine = "berlin/bottling/glass2/filler";
  e.type = EventType::state;
  e.state = "running";
  e.src = "silence-test-edge";
  e.seq = 0;
  oee::testing::Publisher publisher(broker.url(), "serve-mqtt-silence-publisher");
  publisher.publish({{"oee/v1/berlin/bottling/glass2/filler/events", "[" + codec::event_to_json(e) + "]"}}, 0, 1);
  ASSERT_TRUE(oee::testing::eventually([&] {
    metrics = oee::testing::http_get(port, "/metrics", kAuth).body;
    return metric(metrics, "oee_ingest_inserted_total") >= 1;
  }, 20s)) << metrics << server.output();
  EXPECT_EQ(metric(metrics, "oee_ingest_inserted_total"), 1) << metrics;
  EXPECT_EQ(server.kill(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

TEST(ServeMqttSilence, ANegativeHugeOrNonNumericSilenceIsRefusedAtStart) {
  const auto log = std::filesystem::temp_directory_path() / ("oee-serve-mqtt-silence-bad-" + std::to_string(::getpid()) + ".log");
  for (const std::string bad : {"-1", "86401", "soon"}) {
    oee::testing::ChildProcess server({OEE_BINARY, "serve", "--plant", OEE_DEMO_PLANT_FILE, "--mqtt", "mqtt://127.0.0.1:1",
                                       "--mqtt-silence-reconnect-s", bad},
                                      log.string());
    EXPECT_NE(server.wait(), 0) << bad;
    EXPECT_NE(server.output().find("--mqtt-silence-reconnect-s"), std::string::npos) << server.output();
  }
  std::filesystem::remove(log);
}
