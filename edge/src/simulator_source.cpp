// The simulator as a source: the whole plant of the plant file, running `speed` times real time
// from `start` (default: now), with its heartbeats every heartbeat_s of simulated time. Its events
// carry the simulated timestamps.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "oee/edge/event_source.h"
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
  SimulatorSource(const SourceConfig& config, const PlantModel& plant, const ShiftCalendar& calendar, EventSink sink,
                  std::uint64_t resume_after)
      : config_(config), plant_(plant), calendar_(calendar), sink_(std::move(sink)), resume_after_(resume_after) {}
  ~SimulatorSource() override { stop(); }

  void start() override {
    thread_.start([this] { run(); });
  }
  void stop() override { thread_.stop(); }
  std::string describe() const override { return "simulator seed " + std::to_string(config_.seed); }

 private:
  void run() {
    simulator::SimulatorOptions options;
    options.heartbeat_ms = config_.heartbeat_ms;  // the simulator's, in its stream's order
    simulator::PlantSimulator sim(plant_, calendar_, config_.seed, config_.start_ms.value_or(wall_ms()), options);
    std::vector<Event> events;
    skip_sent(sim, events);
    const TimeMs wall_start = wall_ms();
    const TimeMs sim_start = sim.position();
    const TimeMs until = config_.until_ms.value_or(kTimeMax);
    bool ended = false;
    while (thread_.running()) {
      const auto elapsed = static_cast<double>(wall_ms() - wall_start);
      if (!ended) {
        sim.advance_to(std::min(until, sim_start + static_cast<TimeMs>(elapsed * config_.speed)), events);
        send(events);
        ended = sim.position() >= until;
        if (ended)
          std::fprintf(stderr, "simulator seed %llu: reached its end at simulated %s (until)\n",
                       static_cast<unsigned long long>(config_.seed), format_rfc3339(until).c_str());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // Generates (fast) the stream sent before a restart and drops its first resume_after_ events
  // (the simulator's stream is the same however time is sliced); what the last step made beyond
  // them goes out now.
  void skip_sent(simulator::PlantSimulator& sim, std::vector<Event>& events) {
    if (resume_after_ == 0) return;
    std::uint64_t made = 0;
    const TimeMs until = config_.until_ms.value_or(kTimeMax);
    while (made < resume_after_ && thread_.running() && sim.position() < until) {
      sim.advance_to(std::min(until, sim.position() + kMsPerMinute), events);
      const std::uint64_t dropped = std::min<std::uint64_t>(events.size(), resume_after_ - made);
      made += events.size();
      events.erase(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(dropped));
      send(events);
    }
    std::fprintf(stderr, "simulator seed %llu: resumed after the %llu events already queued, at simulated %s\n",
                 static_cast<unsigned long long>(config_.seed), static_cast<unsigned long long>(resume_after_),
                 format_rfc3339(sim.position()).c_str());
  }

  void send(std::vector<Event>& events) {
    if (events.empty()) return;
    for (auto& e : events) {  // the edge's queue gives src and seq
      e.src.clear();
      e.seq = -1;
    }
    sink_(events);
    events.clear();
  }

  SourceConfig config_;
  const PlantModel& plant_;
  const ShiftCalendar& calendar_;
  EventSink sink_;
  std::uint64_t resume_after_;
  SourceThread thread_;
};

}  // namespace

std::unique_ptr<EventSource> make_simulator_source(const SourceConfig& config, const PlantModel& plant,
                                                   const ShiftCalendar& calendar, EventSink sink,
                                                   std::uint64_t resume_after_events) {
  return std::make_unique<SimulatorSource>(config, plant, calendar, std::move(sink),
                                           config.start_ms ? config.skip + resume_after_events : 0);
}

}  // namespace oee::edge
