#pragma once
// One simulated machine: a discrete-event process that produces its events lazily and in time
// order. Nothing it does depends on when or in what slices it is asked for events.
#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "oee/core/event.h"
#include "oee/core/plant_model.h"
#include "oee/core/shift_calendar.h"
#include "oee/simulator/plant_simulator.h"
#include "planned_timeline.h"
#include "random_stream.h"

namespace oee::simulator {

class SimulatedMachine {
 public:
  // `calendar` is the machine's own (ShiftCalendar::for_machine); its plant must outlive the machine.
  SimulatedMachine(const MachineSpec& spec, ShiftCalendar calendar, std::uint64_t plant_seed, TimeMs start,
                   const SimulatorOptions& options);

  // Every future event of this machine has ts >= key().
  TimeMs key() const { return pending_.empty() ? now_ : pending_.front().ts; }
  bool has_pending() const { return !pending_.empty(); }
  Event take_pending() {
    Event e = std::move(pending_.front());
    pending_.pop_front();
    return e;
  }
  // Generates the next piece of the machine's history: appends events or at least moves now_ on.
  void step();

  const MachineBehaviour& behaviour() const { return behaviour_; }

 private:
  enum class Mode : std::uint8_t { off_shift, running, stopped };
  enum class Disruption : std::uint8_t { breakdown, micro_stop, starved, blocked, changeover };

  void draw_behaviour(const SimulatorOptions& options);
  void begin_running(TimeMs t, bool after_start_or_long_stop);
  void begin_disruption(TimeMs t);
  void end_stop(TimeMs t);
  // Called at plan_end_: either the planned stretch really ends (planned_stop) or continues.
  void cross_plan_boundary(TimeMs t);
  // Out of planned time: planned_stop, named after the downtime window it stops for, if any.
  void go_off_plan(TimeMs t);
  void produce_until(TimeMs t);
  void add_parts(std::int64_t parts);
  void report_production(TimeMs t);
  void redraw_reject_gap();
  TimeMs next_report_time(TimeMs after) const;

  Event& emit(TimeMs t, EventType type);
  void emit_state(TimeMs t, State s, std::string_view reason = {});
  void emit_product(TimeMs t);
  void emit_counter(TimeMs t, CounterName name, std::int64_t cumulative);

  MachineSpec spec_;
  MachineBehaviour behaviour_;
  RandomStream rng_;
  PlannedTimeline timeline_;
  std::int64_t rollover_;
  std::array<std::string, kStateCount> state_values_;  // what the machine's PLC says per state
  std::vector<std::string> products_;
  std::size_t product_ = 0;

  std::deque<Event> pending_;
  TimeMs now_;       // everything before now_ has been generated
  Mode mode_ = Mode::off_shift;
  TimeMs plan_end_;  // end of the current planned / unplanned stretch

  // running
  TimeMs run_start_ = 0;
  TimeMs run_until_ = 0;
  Disruption next_disruption_ = Disruption::breakdown;
  std::int64_t cycle_us_ = 1;        // actual cycle of this run period
  std::int64_t progress_us_ = 0;     // progress into the part on the machine
  TimeMs produced_to_ = 0;           // production accounted up to here
  TimeMs startup_until_ = 0;         // elevated reject rate before this instant
  std::int64_t parts_to_next_reject_ = 0;
  double lot_remaining_ms_ = 0;      // run time left before the next changeover

  // stopped
  TimeMs stop_start_ = 0;
  TimeMs stop_until_ = 0;
  bool stop_is_long_ = false;        // >= micro-stop threshold: a start-up follows
  std::string deferred_reason_;      // entered by the operator when the stop ends

  // production reporting
  std::int64_t unreported_good_ = 0;
  std::int64_t unreported_reject_ = 0;
  std::int64_t total_counter_ = 0;   // cumulative counters as the PLC shows them (mod rollover)
  std::int64_t reject_counter_ = 0;
  TimeMs report_phase_ms_ = 0;
};

}  // namespace oee::simulator
