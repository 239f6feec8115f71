// The simulator as a source: the whole plant of the plant file, running `speed` times real time
// from `start` (default: now). Its events carry the simulated timestamps.
#include <atomic>
#include <chrono>
#include <thread>

#include "oee/edge/event_source.h"
#include "heartbeat.h"
#include "source_thread.h"
#include "oee/simulator/plant_simulator.h"

namespace oee::edge {
namespace {

TimeMs wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class SimulatorSource final : public EventSource {
 public:
  SimulatorSource(const SourceConfig& config, const PlantModel& plant, const ShiftCalendar& calendar, EventSink sink)
      : config_(config), plant_(plant), calendar_(calendar), sink_(std::move(sink)) {}
  ~SimulatorSource() override { stop(); }

  void start() override {
    thread_.start([this] { run(); });
  }
  void stop() override { thread_.stop(); }
  std::string describe() const override { return "simulator seed " + std::to_string(config_.seed); }

 private:
  void run() {
    const TimeMs wall_start = wall_ms();
    const TimeMs sim_start = config_.start_ms.value_or(wall_start);
    simulator::PlantSimulator sim(plant_, calendar_, config_.seed, sim_start);
    std::vector<std::string> machines;
    for (const MachineSpec* m : plant_.machines()) machines.push_back(m->path);
    Heartbeats heartbeats(config_.heartbeat_ms, std::move(machines));
    std::vector<Event> events;
    while (thread_.running()) {
      const auto elapsed = static_cast<double>(wall_ms() - wall_start);
      events.clear();
      const TimeMs now = sim_start + static_cast<TimeMs>(elapsed * config_.speed);
      sim.advance_to(now, events);
      if (now > sim_start) heartbeats.through(now - 1, events);  // advance_to gave the events before now
      if (!events.empty()) {
        for (auto& e : events) {  // the edge's queue gives src and seq
          e.src.clear();
          e.seq = -1;
        }
        sink_(events);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  SourceConfig config_;
  const PlantModel& plant_;
  const ShiftCalendar& calendar_;
  EventSink sink_;
  SourceThread thread_;
};

}  // namespace

std::unique_ptr<EventSource> make_simulator_source(const SourceConfig& config, const PlantModel& plant,
                                                   const ShiftCalendar& calendar, EventSink sink) {
  return std::make_unique<SimulatorSource>(config, plant, calendar, std::move(sink));
}

}  // namespace oee::edge
