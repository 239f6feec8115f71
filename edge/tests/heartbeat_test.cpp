// Heartbeats flow while a source reads its machines, and only then (docs/edge.md).
#include "../src/heartbeat.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "oee/edge/event_source.h"
#include "oee/plant/plant_file.h"
#include "../../transport/tests/eventually.h"

namespace oee::edge {
namespace {

using namespace std::chrono_literals;

const char* kPlant = R"(timezone: UTC
sites:
  - id: s
    areas:
      - id: a
        lines:
          - id: l
            machines:
              - {id: m1, ideal_cycle_time_s: 1}
              - {id: m2, ideal_cycle_time_s: 1}
)";

using oee::testing::eventually;

// What a source hands its sink, by machine: heartbeat times and the count of other events.
struct Collected {
  std::mutex mutex;
  std::map<std::string, std::vector<TimeMs>> heartbeats;
  std::size_t others = 0;
  EventSink sink() {
    return [this](std::vector<Event>& events) {
      std::lock_guard lock(mutex);
      for (const Event& e : events)
        if (e.type == EventType::heartbeat) heartbeats[e.machine].push_back(e.ts);
        else ++others;
    };
  }
  std::size_t fewest_heartbeats(std::size_t machines) {
    std::lock_guard lock(mutex);
    if (heartbeats.size() < machines) return 0;
    std::size_t n = SIZE_MAX;
    for (const auto& [m, ts] : heartbeats) n = std::min(n, ts.size());
    return n;
  }
};

// The plant's simulation at 600x from a fixed instant.
SourceConfig simulator_config(DurationMs heartbeat_ms) {
  SourceConfig config;
  config.seed = 3;
  config.speed = 600;
  config.start_ms = 1'800'000'000'000;
  config.heartbeat_ms = heartbeat_ms;
  return config;
}

}  // namespace

TEST(Heartbeats, OnePerMachinePerIntervalAfterSuccessfulReads) {
  Heartbeats h(1000, {"a", "b"});
  std::vector<Event> out;
  h.after_read(5000, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].type, EventType::heartbeat);
  EXPECT_EQ(out[1].machine, "b");
  h.after_read(5999, out);  // within the interval: none
  EXPECT_EQ(out.size(), 2u);
  h.after_read(7500, out);  // one per read, not one per missed interval (no read, no sign of life)
  EXPECT_EQ(out.size(), 4u);
  EXPECT_EQ(out[3].ts, 7500);
  Heartbeats off(0, {"a"});
  off.after_read(5000, out);
  EXPECT_EQ(out.size(), 4u);
}

TEST(Heartbeats, TheSimulatorSourceSendsThemForEveryMachineEveryHeartbeatSeconds) {
  const plant::LoadedPlant plant = plant::load_plant_yaml(kPlant, "plant.yaml");
  const ShiftCalendar calendar(plant.model, *plant.zone);
  const SourceConfig config = simulator_config(10'000);
  Collected got;
  auto source = make_simulator_source(config, plant.model, calendar, got.sink());
  source->start();
  ASSERT_TRUE(eventually([&] { return got.fewest_heartbeats(2) >= 10; }, 20s));
  source->stop();
  std::lock_guard lock(got.mutex);
  for (const auto& [machine, ts] : got.heartbeats) {
    for (std::size_t i = 1; i < ts.size(); ++i) EXPECT_EQ(ts[i] - ts[i - 1], 10'000) << machine;
    EXPECT_GE(ts.front(), *config.start_ms);
  }
  EXPECT_EQ(got.heartbeats.count("s/a/l/m1"), 1u);
  EXPECT_EQ(got.heartbeats.count("s/a/l/m2"), 1u);
}

TEST(Heartbeats, HeartbeatSecondsZeroSendsNone) {
  const plant::LoadedPlant plant = plant::load_plant_yaml(kPlant, "plant.yaml");
  const ShiftCalendar calendar(plant.model, *plant.zone);
  const SourceConfig config = simulator_config(0);
  Collected got;
  auto source = make_simulator_source(config, plant.model, calendar, got.sink());
  source->start();
  ASSERT_TRUE(eventually([&] { std::lock_guard l(got.mutex); return got.others >= 50; }, 20s));
  source->stop();
  std::lock_guard lock(got.mutex);
  EXPECT_TRUE(got.heartbeats.empty());
}

// A Modbus device that accepts connections and hangs up at once: every read fails.
TEST(Heartbeats, AModbusSourceWhoseReadsFailSendsNone) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::atomic<int> accepted{0};
  std::atomic<bool> done{false};
  std::thread device([&] {
    while (!done) {
      pollfd p{listener, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept(listener, nullptr, nullptr);
      if (c >= 0) {
        ::close(c);
        ++accepted;
      }
    }
  });

  const plant::LoadedPlant plant = plant::load_plant_yaml(kPlant, "plant.yaml");
  SourceConfig config;
  config.type = SourceType::modbus;
  config.host = "127.0.0.1";
  config.port = ntohs(addr.sin_port);
  config.poll_ms = 20;
  config.timeout_ms = 200;
  config.heartbeat_ms = 1;  // would be one per poll if reads succeeded
  TagConfig tag;
  tag.machine = "s/a/l/m1";
  tag.area = RegisterArea::holding;
  tag.signal = SignalKind::state;
  config.tags.push_back(tag);
  Collected got;
  auto source = make_modbus_source(config, plant.model, got.sink());
  source->start();
  const bool retried = eventually([&] { return accepted >= 3; }, 20s);  // three failed rounds
  source->stop();
  done = true;
  device.join();
  ::close(listener);
  ASSERT_TRUE(retried);
  std::lock_guard lock(got.mutex);
  EXPECT_TRUE(got.heartbeats.empty());
  EXPECT_EQ(got.others, 0u);
}

}  // namespace oee::edge
