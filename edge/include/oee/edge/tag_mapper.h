#pragma once
// Tag mapping: a tag's readings become events of the contract for its machine. Change-driven: a
// reading equal to the previous one says nothing new (except for `count`, see below), so a PLC
// polled every 500 ms does not flood the queue.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "oee/core/event.h"
#include "oee/core/plant_model.h"
#include "oee/edge/edge_config.h"
#include "oee/edge/run_signal.h"

namespace oee::edge {

class TagMapper {
 public:
  // `tag` and `machine` must outlive the mapper.
  TagMapper(const TagConfig& tag, const MachineSpec& machine) : tag_(&tag), machine_(&machine) {}

  // A numeric reading (already decoded from registers; the tag's scale is applied here) at `ts`.
  // Returns true and fills `out` when it makes an event:
  //   state:   the raw value (integers as "1", "2", …) mapped through the machine's state map
  //            (a value the map does not know is passed on raw: the server dead-letters it);
  //   counter: the cumulative value, on change (the engine handles rollover and resets);
  //   count:   a changed, positive value is an increment (event-driven sources: OPC UA, simulator);
  //   product: the value as the product id, on change;
  //   sample:  a `sample` event (name: the signal's, e.g. sample:temperature) on change;
  //   reason:  a `reason` event (reason: the value as text, at: ts) on a change to anything but 0;
  //   run, run_quantity: no event of their own; they go to the machine's run signal (attach_run),
  //            as does the product, which makes its run events at the end of the batch.
  bool on_number(double value, TimeMs ts, Event& out);
  // A text reading (OPC UA strings): state and product use it as is; numbers are parsed.
  bool on_text(std::string_view text, TimeMs ts, Event& out);

  // The run signal of the tag's machine (it must outlive the mapper), for run, run_quantity and
  // product tags.
  void attach_run(RunSignal* run) { run_ = run; }

  const TagConfig& tag() const { return *tag_; }
  std::optional<double> last_number() const { return has_last_ ? std::optional(last_) : std::nullopt; }

 private:
  bool emit_text(std::string text, TimeMs ts, Event& out);

  const TagConfig* tag_;
  const MachineSpec* machine_;
  RunSignal* run_ = nullptr;
  double last_ = 0;
  bool has_last_ = false;
  std::string last_text_;
};

// "1" for 1.0, "2.5" for 2.5: how a numeric raw state or product reads in the plant file.
std::string format_raw_value(double v);

}  // namespace oee::edge
