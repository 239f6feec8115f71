#pragma once
// A deterministic simulated plant: every machine of a PlantModel produces the events a real PLC
// would (state changes with reasons, product changes, count increments or cumulative counters),
// each following its own calendar (ShiftCalendar::for_machine: its site's zone, its line's or
// site's shifts, holidays, the rotation, the planned-downtime windows on it or its line), so the
// engine finds it in planned_stop exactly outside its planned time. The same model, calendar, seed
// and start give the same events, whether generated in one call or in many: advance_to(b) then
// advance_to(c) yields exactly the events of advance_to(c). Real-time use calls advance_to(now)
// periodically; "faster than real time" just passes later instants.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "oee/core/event.h"
#include "oee/core/plant_model.h"
#include "oee/core/shift_calendar.h"
#include "oee/core/time.h"

namespace oee::simulator {

enum class CounterMode : std::uint8_t {
  by_machine,  // a stable third of the machines (by path hash) report cumulative counters
  never,       // every machine reports `count` increments
  always,      // every machine reports cumulative counters
};

struct SimulatorOptions {
  // Source id of every event; seq counts from first_seq without gaps, in emission order.
  std::string src = "sim";
  std::int64_t first_seq = 0;
  CounterMode counters = CounterMode::by_machine;
  // PLC word size of the cumulative counters: 16 bits roll over at 65536.
  std::int64_t counter_rollover = 65536;
  // A `heartbeat` event per machine at the start and every heartbeat_ms after it (0: none), after
  // the other events of its instant, as the edge sends them: the signs of life that tell a quiet
  // machine from silence (the plant's no_data_after_s). Readers of the demo use kDefaultHeartbeatMs.
  DurationMs heartbeat_ms = 0;
};

// The heartbeat interval of `oee simulate`, `oee serve --demo` and the edge (its heartbeat_s
// default): the same seed gives them the same events.
inline constexpr DurationMs kDefaultHeartbeatMs = 10 * kMsPerSecond;

// How one simulated machine behaves, drawn once from its own random stream (seed + path), so
// adding a machine to the plant leaves every other machine's behaviour unchanged.
struct MachineBehaviour {
  std::string path;
  bool reports_counters = false;   // cumulative `counter` events instead of `count` increments
  DurationMs count_period_ms = 0;  // how often production is reported while running
  double speed_factor = 1.0;       // typical actual cycle / ideal cycle (>= 1)
  double mean_run_between_breakdowns_s = 0;
  double mean_run_between_micro_stops_s = 0;  // 0: no micro-stops (threshold 0)
  double mean_run_between_starved_s = 0;
  double mean_run_between_blocked_s = 0;
  double mean_lot_run_s = 0;       // run time between changeovers; 0: one product, none
  double reject_rate = 0;          // fraction of parts rejected in steady running
  double startup_reject_rate = 0;  // ... within the start-up window after a start or a setup
  DurationMs startup_window_ms = 0;
};

class SimulatedMachine;

class PlantSimulator {
 public:
  // `calendar` is the plant's (built on `plant`); that plant must outlive the simulator (the machines
  // are copied, their calendars point into it). Each machine emits its initial product, counter
  // baselines and state at `start`.
  PlantSimulator(const PlantModel& plant, const ShiftCalendar& calendar, std::uint64_t seed, TimeMs start,
                 SimulatorOptions options = {});
  ~PlantSimulator();
  PlantSimulator(const PlantSimulator&) = delete;
  PlantSimulator& operator=(const PlantSimulator&) = delete;

  // Appends, in time order, every event with position() <= ts < t (heartbeats included), then
  // position() becomes t.
  // A t at or before position() appends nothing.
  void advance_to(TimeMs t, std::vector<Event>& out);

  TimeMs position() const { return position_; }
  std::int64_t next_seq() const { return next_seq_; }
  std::size_t machine_count() const { return machines_.size(); }
  const MachineBehaviour& behaviour(std::size_t machine_index) const;

 private:
  struct HeapEntry {
    TimeMs key;
    std::uint32_t machine;
  };
  void push_entry(std::uint32_t machine);
  void append_heartbeats(std::vector<Event>& out);
  void advance_earliest_machine(std::vector<Event>& out);

  SimulatorOptions options_;
  std::vector<std::unique_ptr<SimulatedMachine>> machines_;
  // Min-heap on (key, machine): key = the machine's next event time, or its generation frontier
  // when it has nothing pending. Ties go to the lower machine index, so the order is total.
  std::vector<HeapEntry> heap_;
  std::vector<std::string> paths_;  // by machine index, for the heartbeats
  TimeMs position_;
  TimeMs next_heartbeat_;  // kTimeMax without heartbeats
  std::int64_t next_seq_;
};

// Convenience: the events of [from, to).
std::vector<Event> simulate(const PlantModel& plant, const ShiftCalendar& calendar, std::uint64_t seed,
                            TimeMs from, TimeMs to, SimulatorOptions options = {});

}  // namespace oee::simulator
