// `oee serve` fed the demo plant (no_data_after_s 60 on every machine) through a real Mosquitto,
// from an `oee simulate` file with its heartbeats: where the feed stopped for 5 minutes the
// server's KPIs count exactly the silence that left as no data, and nowhere else.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

#include "demo_crash_scenario.h"
#include "mqtt_publishing.h"
#include "stopped_feed.h"

namespace {

using namespace std::chrono_literals;

const std::string kAdminToken = "serve-no-data-test-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";
const std::string kClientId = "oee-server-no-data";

// The server's no_data_s of the plant over [from, to).
double no_data_s(std::uint16_t port, oee::TimeMs from, oee::TimeMs to) {
  const auto r = oee::testing::http_get(port, "/api/v1/kpis?from=" + oee::format_rfc3339(from) + "&to=" + oee::format_rfc3339(to), kAuth);
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  EXPECT_TRUE(j.is_object() && j.contains("no_data_s")) << r.body;
  return j.is_object() ? j.value("no_data_s", -1.0) : -1.0;
}

}  // namespace

TEST(ServeNoData, AFeedStoppedForFiveMinutesIsNoDataOfExactlyItsSilence) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee-serve-no-data-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "data");
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  oee::testing::Broker broker(dir);

  // Three hours of the demo plant up to about now; the feed stops 5 minutes an hour in, at an
  // instant off the 10 s heartbeat grid.
  const oee::TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
  const oee::TimeMs start = oee::floor_to(now - 3 * oee::kMsPerHour, oee::kMsPerMinute);
  const oee::TimeMs stop = start + oee::kMsPerHour + 3'456, window_end = start + 2 * oee::kMsPerHour;
  const std::string day = (dir / "simulated.jsonl").string(), stopped = (dir / "stopped.jsonl").string();
  oee::testing::run_oee("simulate --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --seed 1 --from " + oee::format_rfc3339(start) +
                        " --to " + oee::format_rfc3339(window_end + oee::kMsPerHour) + " --out " + day);
  const oee::DurationMs silence = oee::testing::stop_feed(day, stopped, stop, stop + 5 * oee::kMsPerMinute);
  ASSERT_GE(silence, 12 * 5 * oee::kMsPerMinute);
  std::size_t events = 0;
  const auto messages = oee::testing::messages_of(stopped, events);

  oee::testing::ChildProcess server({OEE_BINARY, "serve", "--plant", OEE_DEMO_PLANT_FILE, "--data-dir", (dir / "data").string(),
                                     "--listen", "127.0.0.1:0", "--mqtt", broker.url(), "--mqtt-client-id", kClientId},
                                    (dir / "serve.log").string());
  ASSERT_TRUE(server.wait_for_output("listening on", 60s)) << server.output();
  ASSERT_TRUE(broker.subscribed(kClientId, "oee/v1/#", 30s)) << server.output();
  const std::uint16_t port = oee::testing::listening_port(server.output());
  ASSERT_NE(port, 0);
  oee::testing::Publisher publisher(broker.url(), "serve-no-data-test-publisher");
  publisher.publish(messages, 0, messages.size());
  ASSERT_TRUE(oee::testing::eventually([&] { return oee::testing::stored_events(port, kAuth) >= static_cast<std::int64_t>(events); }, 300s))
      << oee::testing::stored_events(port, kAuth) << " of " << events << "\n" << server.output();

  const double measured = no_data_s(port, start, window_end);
  EXPECT_EQ(measured, static_cast<double>(silence) / 1000.0);
  std::printf("no data over [%s, %s): %.3f s; the stop's silence: %.3f s (12 machines x 300 s and the heartbeat gaps around it)\n",
              oee::format_rfc3339(start).c_str(), oee::format_rfc3339(window_end).c_str(), measured, static_cast<double>(silence) / 1000.0);
  // The silences begin within a heartbeat interval (10 s) before the stop and end within one after it.
  EXPECT_EQ(no_data_s(port, start, stop - 10 * oee::kMsPerSecond), 0);
  EXPECT_EQ(no_data_s(port, stop + 5 * oee::kMsPerMinute + 10 * oee::kMsPerSecond, window_end), 0);
  EXPECT_TRUE(oee::testing::http_get(port, "/api/v1/dead-letters", kAuth).body.starts_with("{\"total\":0,"));
  EXPECT_EQ(server.kill(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}
