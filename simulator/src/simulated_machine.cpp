#include "simulated_machine.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace oee::simulator {
namespace {

constexpr DurationMs kDefaultStartupWindowMs = 5 * kMsPerMinute;

// Breakdown reasons with their share of breakdowns and repair time (lognormal: the median in
// minutes and the spread), in the ranges maintenance logs of packaging lines show: many short
// jams, a few long motor and electrical faults.
struct BreakdownKind {
  const char* reason;
  double weight;
  double median_repair_min;
  double sigma;
};
constexpr BreakdownKind kBreakdowns[] = {
    {"jam", 0.42, 2.5, 0.6},          {"sensor_fault", 0.18, 6.0, 0.7},
    {"tool_wear", 0.15, 12.0, 0.5},   {"electrical_fault", 0.10, 18.0, 0.8},
    {"motor_fault", 0.08, 35.0, 0.6}, {"material_quality", 0.07, 4.0, 0.5},
};
constexpr const char* kStarvedReasons[] = {"material_shortage", "upstream_empty", "no_operator"};
constexpr const char* kBlockedReasons[] = {"downstream_full", "pallet_missing"};

template <std::size_t N>
const char* pick(RandomStream& rng, const char* const (&options)[N]) {
  return options[rng.below(N)];
}

DurationMs to_ms(double seconds) { return static_cast<DurationMs>(std::llround(seconds * 1000.0)); }

}  // namespace

// ---------------------------------------------------------------------------------------------

SimulatedMachine::SimulatedMachine(const MachineSpec& spec, ShiftCalendar calendar, std::uint64_t plant_seed,
                                   TimeMs start, const SimulatorOptions& options)
    : spec_(spec),
      rng_(plant_seed ^ fnv1a64(spec.path)),
      timeline_(std::move(calendar), start),
      rollover_(options.counter_rollover > 0 ? options.counter_rollover : 65536),
      now_(start),
      plan_end_(start) {
  // What the PLC says for each canonical state: the first raw value mapped to it, else its name.
  for (int i = 0; i < kStateCount; ++i) state_values_[i] = std::string(state_name(static_cast<State>(i)));
  std::array<bool, kStateCount> mapped{};
  for (const auto& [raw, canonical] : spec_.state_map) {
    const auto idx = static_cast<std::size_t>(canonical);
    if (!mapped[idx] && spec_.resolve_state(raw) == canonical) {
      state_values_[idx] = raw;
      mapped[idx] = true;
    }
  }
  for (const auto& [product, cycle] : spec_.product_cycle_us) products_.push_back(product);

  draw_behaviour(options);

  // The opening events: product, counter baselines, then the state at `start`.
  if (!products_.empty()) {
    product_ = rng_.below(products_.size());
    emit_product(start);
  }
  if (behaviour_.reports_counters) {
    // Start the PLC words near the top so the first rollover comes early.
    total_counter_ = 40'000 + static_cast<std::int64_t>(rng_.below(25'000));
    reject_counter_ = static_cast<std::int64_t>(rng_.below(1'000));
    emit_counter(start, CounterName::total, total_counter_);
    emit_counter(start, CounterName::reject, reject_counter_);
  }
  lot_remaining_ms_ = behaviour_.mean_lot_run_s > 0 ? rng_.uniform(0.1, 1.0) * behaviour_.mean_lot_run_s * 1000.0
                                                    : 1e300;
  const auto stretch = timeline_.stretch_at(start);
  plan_end_ = stretch.end;
  if (stretch.planned) {
    begin_running(start, true);
  } else {
    go_off_plan(start);
  }
}

void SimulatedMachine::draw_behaviour(const SimulatorOptions& options) {
  MachineBehaviour& b = behaviour_;
  b.path = spec_.path;
  switch (options.counters) {
    case CounterMode::never: b.reports_counters = false; break;
    case CounterMode::always: b.reports_counters = true; break;
    case CounterMode::by_machine: {
      // FNV's low bits are poor; mix them before taking one machine in three.
      std::uint64_t h = fnv1a64(spec_.path);
      b.reports_counters = splitmix64(h) % 3 == 0;
      break;
    }
  }
  // Counters are polled like PLC words; increments are pushed in batches.
  b.count_period_ms = b.reports_counters ? 2'000 : 5'000;
  report_phase_ms_ = static_cast<TimeMs>(rng_.below(static_cast<std::uint64_t>(b.count_period_ms)));
  // One machine in four is a slow one (worn, or run below rate on purpose).
  b.speed_factor = rng_.bernoulli(0.25) ? rng_.uniform(1.18, 1.35) : rng_.uniform(1.03, 1.12);
  // Machines differ in how well they are maintained: one factor scales every failure rate.
  const double care = rng_.uniform(0.7, 1.3);
  b.mean_run_between_breakdowns_s = 65.0 * 60.0 * care;
  b.mean_run_between_starved_s = 150.0 * 60.0 * care;
  b.mean_run_between_blocked_s = 180.0 * 60.0 * care;
  b.mean_run_between_micro_stops_s = spec_.micro_stop_threshold_ms > 0 ? rng_.uniform(5.0, 15.0) * 60.0 : 0.0;
  b.mean_lot_run_s = products_.size() >= 2 ? rng_.uniform(2.5, 5.0) * 3600.0 : 0.0;
  b.reject_rate = rng_.uniform(0.003, 0.015);
  b.startup_reject_rate = b.reject_rate * rng_.uniform(5.0, 10.0);
  b.startup_window_ms = spec_.startup_window_ms > 0 ? spec_.startup_window_ms : kDefaultStartupWindowMs;
}

Event& SimulatedMachine::emit(TimeMs t, EventType type) {
  Event& e = pending_.emplace_back();
  e.ts = t;
  e.machine = spec_.path;
  e.type = type;
  return e;
}

void SimulatedMachine::emit_state(TimeMs t, State s, std::string_view reason) {
  Event& e = emit(t, EventType::state);
  e.state = state_values_[static_cast<std::size_t>(s)];
  e.reason = reason;
}

void SimulatedMachine::emit_product(TimeMs t) {
  Event& e = emit(t, EventType::product);
  e.product = products_[product_];
}

void SimulatedMachine::emit_counter(TimeMs t, CounterName name, std::int64_t cumulative) {
  Event& e = emit(t, EventType::counter);
  e.counter = name;
  e.value = cumulative % rollover_;
  e.rollover = rollover_;
}

void SimulatedMachine::redraw_reject_gap() {
  const bool startup = produced_to_ < startup_until_;
  parts_to_next_reject_ = rng_.geometric(startup ? behaviour_.startup_reject_rate : behaviour_.reject_rate);
}

void SimulatedMachine::begin_running(TimeMs t, bool after_start_or_long_stop) {
  mode_ = Mode::running;
  emit_state(t, State::running);
  run_start_ = t;
  produced_to_ = t;
  if (after_start_or_long_stop) {
    startup_until_ = t + behaviour_.startup_window_ms;
    redraw_reject_gap();
  } else if (parts_to_next_reject_ <= 0) {
    redraw_reject_gap();
  }
  // The speed drifts from one run period to the next, never faster than ideal.
  const std::int64_t ideal_us =
      products_.empty() ? spec_.ideal_cycle_us : spec_.cycle_us_for(products_[product_]);
  const double factor = std::max(1.0, behaviour_.speed_factor * std::exp(rng_.normal(0.0, 0.03)));
  cycle_us_ = std::max<std::int64_t>(1, std::llround(static_cast<double>(std::max<std::int64_t>(ideal_us, 1)) * factor));

  // Competing hazards over run time; a changeover comes when the lot is done.
  const MachineBehaviour& b = behaviour_;
  const double rates[] = {
      1.0 / b.mean_run_between_breakdowns_s,
      b.mean_run_between_micro_stops_s > 0 ? 1.0 / b.mean_run_between_micro_stops_s : 0.0,
      1.0 / b.mean_run_between_starved_s,
      1.0 / b.mean_run_between_blocked_s,
  };
  const double total_rate = rates[0] + rates[1] + rates[2] + rates[3];
  const double run_s = rng_.exponential(1.0 / total_rate);
  double pick_at = rng_.uniform() * total_rate;
  int kind = 0;
  while (kind < 3 && pick_at >= rates[kind]) pick_at -= rates[kind++];
  next_disruption_ = static_cast<Disruption>(kind);
  double run_ms = std::max(1.0, run_s * 1000.0);
  if (lot_remaining_ms_ <= run_ms) {
    run_ms = std::max(1.0, lot_remaining_ms_);
    next_disruption_ = Disruption::changeover;
  }
  run_until_ = t + static_cast<DurationMs>(std::min(run_ms, 1e15));
}

void SimulatedMachine::begin_disruption(TimeMs t) {
  mode_ = Mode::stopped;
  stop_start_ = t;
  deferred_reason_.clear();
  const DurationMs threshold = spec_.micro_stop_threshold_ms;
  DurationMs duration = 0;
  switch (next_disruption_) {
    case Disruption::micro_stop: {
      // Shorter than the threshold by construction: a small stop, a performance loss.
      const double d = static_cast<double>(threshold) * rng_.uniform(0.1, 0.95);
      duration = std::clamp<DurationMs>(std::llround(d), 1, std::max<DurationMs>(1, threshold - 1));
      emit_state(t, State::stopped);
      break;
    }
    case Disruption::breakdown: {
      double pick_at = rng_.uniform();
      const BreakdownKind* kind = &kBreakdowns[0];
      for (const auto& k : kBreakdowns) {
        kind = &k;
        if (pick_at < k.weight) break;
        pick_at -= k.weight;
      }
      // The crew first tries to clear it as a small stop; past the threshold it is a breakdown and
      // the repair time proper starts.
      const double minutes = std::min(240.0, rng_.lognormal_median(kind->median_repair_min, kind->sigma));
      duration = threshold + std::max<DurationMs>(5'000, to_ms(minutes * 60.0));
      // A quarter of the breakdowns get their reason from the operator afterwards.
      if (rng_.bernoulli(0.25)) {
        deferred_reason_ = kind->reason;
        emit_state(t, State::stopped);
      } else {
        emit_state(t, State::stopped, kind->reason);
      }
      break;
    }
    case Disruption::starved:
      duration = std::max<DurationMs>(5'000, to_ms(rng_.exponential(120.0)));
      emit_state(t, State::starved, pick(rng_, kStarvedReasons));
      break;
    case Disruption::blocked:
      duration = std::max<DurationMs>(5'000, to_ms(rng_.exponential(90.0)));
      emit_state(t, State::blocked, pick(rng_, kBlockedReasons));
      break;
    case Disruption::changeover: {
      duration = std::max<DurationMs>(60'000, to_ms(rng_.lognormal_median(12.0, 0.35) * 60.0));
      emit_state(t, State::setup, "changeover");
      // Setup belongs to the product being set up for.
      const std::size_t next = rng_.below(products_.size() - 1);
      product_ = next >= product_ ? next + 1 : next;
      emit_product(t);
      lot_remaining_ms_ = std::max(0.3, rng_.normal(1.0, 0.25)) * behaviour_.mean_lot_run_s * 1000.0;
      break;
    }
  }
  stop_until_ = t + duration;
  stop_is_long_ = next_disruption_ == Disruption::changeover || duration >= threshold;
}

void SimulatedMachine::end_stop(TimeMs t) {
  if (!deferred_reason_.empty()) {
    Event& e = emit(t, EventType::reason);
    e.reason = std::move(deferred_reason_);
    e.at = stop_start_ + (t - stop_start_) / 2;
    deferred_reason_.clear();
  }
}

void SimulatedMachine::produce_until(TimeMs t) {
  while (produced_to_ < t) {
    const bool startup = produced_to_ < startup_until_;
    const TimeMs upto = startup ? std::min(t, startup_until_) : t;
    progress_us_ += (upto - produced_to_) * 1000;
    const std::int64_t parts = progress_us_ / cycle_us_;
    progress_us_ %= cycle_us_;
    add_parts(parts);
    produced_to_ = upto;
    if (startup && upto == startup_until_) redraw_reject_gap();  // back to the steady reject rate
  }
}

void SimulatedMachine::add_parts(std::int64_t parts) {
  // Rejects as gaps between rejected parts (geometric): cost per reject, not per part.
  while (parts >= parts_to_next_reject_) {
    parts -= parts_to_next_reject_;
    unreported_good_ += parts_to_next_reject_ - 1;
    unreported_reject_ += 1;
    redraw_reject_gap();
  }
  unreported_good_ += parts;
  parts_to_next_reject_ -= parts;
}

void SimulatedMachine::report_production(TimeMs t) {
  if (unreported_good_ + unreported_reject_ == 0) return;
  if (behaviour_.reports_counters) {
    // Only the residue modulo the PLC word is kept: it is all a real counter shows.
    total_counter_ = (total_counter_ + unreported_good_ + unreported_reject_) % rollover_;
    emit_counter(t, CounterName::total, total_counter_);
    if (unreported_reject_ > 0) {
      reject_counter_ = (reject_counter_ + unreported_reject_) % rollover_;
      emit_counter(t, CounterName::reject, reject_counter_);
    }
  } else {
    Event& e = emit(t, EventType::count);
    e.good = unreported_good_;
    e.reject = unreported_reject_;
  }
  unreported_good_ = unreported_reject_ = 0;
}

TimeMs SimulatedMachine::next_report_time(TimeMs after) const {
  const DurationMs period = behaviour_.count_period_ms;
  return floor_to(after - report_phase_ms_, period) + period + report_phase_ms_;
}

void SimulatedMachine::cross_plan_boundary(TimeMs t) {
  const auto stretch = timeline_.stretch_at(t);
  plan_end_ = stretch.end;
  if (stretch.planned) return;  // only a look-ahead horizon: carry on
  end_stop(t);
  go_off_plan(t);
}

void SimulatedMachine::go_off_plan(TimeMs t) {
  mode_ = Mode::off_shift;
  // A stop for maintenance carries the window's name as its reason, as an operator would enter it;
  // a machine already off shift when a window opens stays in the planned_stop it is in.
  emit_state(t, State::planned_stop, timeline_.downtime_window_at(t));
}

void SimulatedMachine::step() {
  switch (mode_) {
    case Mode::off_shift: {
      now_ = plan_end_;
      const auto stretch = timeline_.stretch_at(now_);
      plan_end_ = stretch.end;
      if (stretch.planned) begin_running(now_, true);
      return;
    }
    case Mode::running: {
      const TimeMs report_at = next_report_time(now_);
      const TimeMs stop_at = std::min(run_until_, plan_end_);
      if (report_at < stop_at) {
        produce_until(report_at);
        report_production(report_at);
        now_ = report_at;
        return;
      }
      produce_until(stop_at);
      report_production(stop_at);
      now_ = stop_at;
      lot_remaining_ms_ -= static_cast<double>(stop_at - run_start_);
      run_start_ = stop_at;
      if (stop_at == plan_end_) {
        cross_plan_boundary(stop_at);
        if (mode_ == Mode::running && run_until_ == stop_at) begin_disruption(stop_at);
        return;
      }
      begin_disruption(stop_at);
      return;
    }
    case Mode::stopped: {
      const TimeMs end = std::min(stop_until_, plan_end_);
      now_ = end;
      if (end == plan_end_) {
        cross_plan_boundary(end);
        if (mode_ == Mode::off_shift || end < stop_until_) return;
      }
      end_stop(end);
      begin_running(end, stop_is_long_);
      return;
    }
  }
}

}  // namespace oee::simulator
