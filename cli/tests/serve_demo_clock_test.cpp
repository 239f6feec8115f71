// `oee serve --demo --speed X`: the server's clock is the simulated plant's. Its "now" runs X times
// as fast as the wall clock (and says so as `clock_rate`), and no machine has an event after it;
// before, the simulation ran ahead of a wall-clock "now", so stops began "in the future": timers
// showed 0:00:00 and a machine_down alert never fired.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <thread>

#include "../../server/tests/http_client.h"
#include "child_process.h"
#include "oee/core/time.h"

namespace {

const std::string kAdminToken = "serve-demo-clock-test-admin-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";
constexpr double kSpeed = 20;

using WallClock = std::chrono::system_clock;
oee::TimeMs wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(WallClock::now().time_since_epoch()).count();
}

struct PlantReading {
  oee::TimeMs asked = 0, answered = 0;  // wall clock around the request
  nlohmann::json plant;
  oee::TimeMs now() const { return oee::parse_timestamp(plant.at("now").get<std::string>()).value(); }
};

PlantReading read_plant(std::uint16_t port) {
  PlantReading r;
  r.asked = wall_ms();
  const auto reply = oee::testing::http_get(port, "/api/v1/plant", kAuth);
  r.answered = wall_ms();
  EXPECT_EQ(reply.status, 200) << reply.body;
  r.plant = nlohmann::json::parse(reply.body);
  return r;
}

// The port of "listening on http://127.0.0.1:PORT" in the server's output; 0 when absent.
std::uint16_t listening_port(const std::string& output) {
  const std::string prefix = "listening on http://127.0.0.1:";
  const std::size_t at = output.find(prefix);
  return at == std::string::npos ? 0 : static_cast<std::uint16_t>(std::stoi(output.substr(at + prefix.size())));
}

template <typename F>
void each_machine(const nlohmann::json& node, F&& f) {
  if (node.contains("machines"))
    for (const auto& m : node["machines"]) f(m);
  for (const char* children : {"sites", "areas", "lines"})
    if (node.contains(children))
      for (const auto& c : node[children]) each_machine(c, f);
}

TEST(ServeDemoClock, NowRunsAtTheSpeedAndNoMachineHasAnEventAfterIt) {
  const auto dir = std::filesystem::temp_directory_path() / ("serve-demo-clock-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  oee::testing::ChildProcess server({OEE_BINARY, "serve", "--demo", "--speed", "20", "--history-hours", "1", "--data-dir",
                                     dir.string(), "--listen", "127.0.0.1:0"},
                                    (std::filesystem::temp_directory_path() / ("serve-demo-clock-" + std::to_string(::getpid()) + ".log")).string());
  ASSERT_TRUE(server.wait_for_output("caught up", std::chrono::seconds(120))) << server.output();
  const std::uint16_t port = listening_port(server.output());
  ASSERT_NE(port, 0);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the live feed's ticks: 60 simulated seconds

  const PlantReading first = read_plant(port);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const PlantReading second = read_plant(port);
  EXPECT_EQ(second.plant.at("clock_rate").get<double>(), kSpeed);
  // The wall time between the two readings lies within these bounds; the server's clock moved
  // kSpeed times as far (1 ms either side for rounding).
  const double simulated = static_cast<double>(second.now() - first.now());
  EXPECT_GE(simulated, kSpeed * static_cast<double>(second.asked - first.answered) - 1) << second.plant.at("now");
  EXPECT_LE(simulated, kSpeed * static_cast<double>(second.answered - first.asked) + 1) << second.plant.at("now");

  int live = 0;
  each_machine(second.plant, [&](const nlohmann::json& m) {
    ASSERT_TRUE(m.contains("last_event")) << m;
    const oee::TimeMs last = oee::parse_timestamp(m["last_event"].get<std::string>()).value();
    EXPECT_LE(last, second.now()) << m["path"] << " has an event after the server's now";
    if (m.contains("since")) {
      EXPECT_LE(oee::parse_timestamp(m["since"].get<std::string>()).value(), second.now()) << m;
    }
    if (second.now() - last <= 60 * oee::kMsPerSecond) ++live;  // the feed follows the clock
  });
  EXPECT_GT(live, 0);
  EXPECT_EQ(server.kill(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
