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
    : options_(std::move(options)), position_(start), next_seq_(options_.first_seq) {
  for (const MachineSpec* spec : plant.machines()) {
    machines_.push_back(std::make_unique<SimulatedMachine>(*spec, calendar, seed, start, options_));
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

void PlantSimulator::advance_to(TimeMs t, std::vector<Event>& out) {
  if (t <= position_) return;
  // The sequence of heap operations depends only on the machines, never on t: t only says where
  // to pause, which is why slicing the generation does not change the events.
  while (!heap_.empty() && heap_.front().key < t) {
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
  position_ = t;
}

std::vector<Event> simulate(const PlantModel& plant, const ShiftCalendar& calendar, std::uint64_t seed,
                            TimeMs from, TimeMs to, SimulatorOptions options) {
  PlantSimulator simulator(plant, calendar, seed, from, std::move(options));
  std::vector<Event> events;
  simulator.advance_to(to, events);
  return events;
}

}  // namespace oee::simulator
