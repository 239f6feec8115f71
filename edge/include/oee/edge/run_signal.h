#pragma once
// A machine's production run as its PLC tells it (docs/edge.md, "Runs from a PLC tag"): a tag holds
// the order id, others the product and the planned quantity. When the order id changes, the old run
// ends and the new one starts at the instant of the change; an empty or zero id is no run.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "oee/core/event.h"
#include "oee/edge/edge_config.h"

namespace oee::edge {

class RunSignal {
 public:
  // `product` and `quantity`: the run tag's fixed values, for a machine without a product or a
  // quantity tag (or before they are read); "" and 0: none.
  RunSignal(std::string machine, std::string product, std::int64_t quantity)
      : machine_(std::move(machine)), fixed_product_(std::move(product)), fixed_quantity_(quantity) {}

  void on_order(std::string order, TimeMs ts);
  void on_product(std::string product) { product_ = std::move(product); }
  void on_quantity(std::int64_t quantity) { quantity_ = quantity; }

  // After a batch of readings (one Modbus poll, one OPC UA publish): the end of the old run and the
  // start of the new one when the order id changed. Deferred to the batch's end so that a start
  // carries the product and quantity read with its order id, whatever the tags' order. Returns
  // whether the open order changed.
  bool take_events(std::vector<Event>& out);
  // The order whose start was sent ("": none), and the same after a restart (RunSignals' file).
  const std::string& open() const { return open_; }
  void restore_open(std::string order) { open_ = pending_ = std::move(order); }

  const std::string& machine() const { return machine_; }

 private:
  Event run_event(RunAction action, const std::string& order) const;

  std::string machine_;
  std::string fixed_product_;
  std::int64_t fixed_quantity_;
  std::string product_;
  std::int64_t quantity_ = 0;
  std::string open_;      // the order whose start was sent ("": none)
  std::string pending_;   // the order id last read
  TimeMs pending_ts_ = 0;
  bool changed_ = false;
};

// The run signals of one source: one per machine with a run tag. With a state file (the source's
// run_state_file, shared by the edge's sources, keyed by machine) the open orders outlive an edge
// restart: an order cleared or changed while the edge was down still ends the run it had started,
// and the same order read again starts nothing.
class RunSignals {
 public:
  explicit RunSignals(std::string state_file = {}) : state_file_(std::move(state_file)) {}
  void add(const TagConfig& tag);  // keeps the run tags, ignores the rest
  // After the adds: the open orders the state file holds for these machines (none when missing).
  void load();
  // The signal a tag feeds (its machine's, for run, run_quantity and product tags), else null.
  // Stable while this object lives.
  RunSignal* for_tag(const TagConfig& tag);
  void take_events(std::vector<Event>& out);
  // Once the source has handed those events to the queue: the open orders to the state file.
  void after_sink();

 private:
  void save() const;

  std::string state_file_;
  bool dirty_ = false;
  std::map<std::string, RunSignal, std::less<>> by_machine_;
};

// Moves the open orders of the per-source files of earlier versions (data_dir/runs-<index>) into
// data_dir/runs, the file every source shares now. Call before any source loads. Throws
// fileio::IoError when it cannot write.
void migrate_run_state_files(const std::string& data_dir);

// "" and "0" (a cleared order register) mean no run.
bool is_no_run(std::string_view order);

}  // namespace oee::edge
