#include "oee/simulator/plant_simulator.h"

#include <algorithm>

#include "simulated_machine.h"

namespace oee::simulator {
namespace {

// std heaps are max-heaps: "a after b" puts the earliest (key, machine) on top.
struct LaterEntry {
  template <class Entry>
  bool operator()(const Entry& a, const Entry& b) const {
    return a.key != b.key ? a.key > b.key : a.machine > b.machine;
  }
};

}  // namespace

PlantSimulator::PlantSimulator(const PlantModel& plant, const ShiftCalendar& calendar, std::uint64_t seed,
                               TimeMs start, SimulatorOptions options)
    : options_(std::move(options)),
      position_(start),
      next_heartbeat_(options_.heartbeat_ms > 0 ? start : kTimeMax),
      next_seq_(options_.first_seq) {
  for (const MachineSpec* spec : plant.machines()) {
    // Each machine plans by its own calendar, as the engine counts its planned time: a machine
    // running in its line's maintenance window or outside its line's shifts would make no sense.
    machines_.push_back(std::make_unique<SimulatedMachine>(*spec, calendar.for_machine(*spec), seed, start, options_));
    paths_.push_back(spec->path);
  }
  heap_.reserve(machines_.size());
  for (std::uint32_t i = 0; i < machines_.size(); ++i) push_entry(i);
}

PlantSimulator::~PlantSimulator() = default;

const MachineBehaviour& PlantSimulator::behaviour(std::size_t machine_index) const {
  return machines_.at(machine_index)->behaviour();
}

void PlantSimulator::push_entry(std::uint32_t machine) {
  heap_.push_back({machines_[machine]->key(), machine});
  std::push_heap(heap_.begin(), heap_.end(), LaterEntry{});
}

void PlantSimulator::append_heartbeats(std::vector<Event>& out) {
  for (const std::string& path : paths_) {
    Event& e = out.emplace_back();
    e.ts = next_heartbeat_;
    e.machine = path;
    e.type = EventType::heartbeat;
    e.src = options_.src;
    e.seq = next_seq_++;
  }
  next_heartbeat_ += options_.heartbeat_ms;
}

void PlantSimulator::advance_to(TimeMs t, std::vector<Event>& out) {
  if (t <= position_) return;
  // The sequence of heap operations depends only on the machines, never on t: t only says where
  // to pause, which is why slicing the generation does not change the events. The heartbeats of
  // an instant go once every machine is past it (its key beyond), which does not depend on t either.
  for (;;) {
    const TimeMs next_machine = heap_.empty() ? kTimeMax : heap_.front().key;
    if (next_heartbeat_ < t && next_heartbeat_ < next_machine) {
      append_heartbeats(out);
      continue;
    }
    if (next_machine >= t) break;
    advance_earliest_machine(out);
  }
  position_ = t;
}

void PlantSimulator::advance_earliest_machine(std::vector<Event>& out) {
  std::pop_heap(heap_.begin(), heap_.end(), LaterEntry{});
  const std::uint32_t index = heap_.back().machine;
  heap_.pop_back();
  SimulatedMachine& machine = *machines_[index];
  if (machine.has_pending()) {
    Event& e = out.emplace_back(machine.take_pending());
    e.src = options_.src;
    e.seq = next_seq_++;
  } else {
    machine.step();
  }
  push_entry(index);
}

std::vector<Event> simulate(const PlantModel& plant, const ShiftCalendar& calendar, std::uint64_t seed,
                            TimeMs from, TimeMs to, SimulatorOptions options) {
  PlantSimulator simulator(plant, calendar, seed, from, std::move(options));
  std::vector<Event> events;
  simulator.advance_to(to, events);
  return events;
}

}  // namespace oee::simulator
