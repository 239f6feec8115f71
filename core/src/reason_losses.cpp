#include "oee/core/reason_losses.h"

namespace oee {

namespace {
State state_of_loss(ReasonLoss loss, State current) {
  switch (loss) {
    case ReasonLoss::breakdown: return State::stopped;
    case ReasonLoss::setup: return State::setup;
    case ReasonLoss::starved: return State::starved;
    case ReasonLoss::blocked: return State::blocked;
    case ReasonLoss::planned: return State::planned_stop;
    case ReasonLoss::small_stop:
    case ReasonLoss::none: break;
  }
  return current;
}
}  // namespace

void apply_reason_losses(const MachineSpec& machine, std::vector<StateInterval>& intervals) {
  for (StateInterval& iv : intervals) {
    if (iv.reason.empty()) continue;
    if (const auto mapped = machine.reason_codes.find(iv.reason); mapped != machine.reason_codes.end())
      iv.reason = mapped->second;
    if (!machine.reasons || !is_unplanned_stop(iv.state)) continue;
    const ReasonNode* node = machine.reasons->find(iv.reason);
    if (!node || node->loss == ReasonLoss::none) continue;
    iv.loss = node->loss;
  }
}

State loss_state(const StateInterval& iv) { return state_of_loss(iv.loss, iv.state); }

}  // namespace oee
