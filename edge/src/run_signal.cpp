#include "oee/edge/run_signal.h"

namespace oee::edge {

bool is_no_run(std::string_view order) { return order.empty() || order == "0"; }

void RunSignal::on_order(std::string order, TimeMs ts) {
  if (is_no_run(order)) order.clear();
  if (order == pending_) return;
  pending_ = std::move(order);
  pending_ts_ = ts;
  changed_ = true;
}

Event RunSignal::run_event(RunAction action, const std::string& order) const {
  Event e;
  e.ts = pending_ts_;
  e.machine = machine_;
  e.type = EventType::run;
  e.run_action = action;
  e.run = order;
  if (action == RunAction::start) {
    e.product = !product_.empty() ? product_ : fixed_product_;
    // A quantity tag that reads 0 or less names no plan: the fixed quantity, if any, stands in
    // (else the server dead-letters the start for its quantity, visibly).
    e.quantity = quantity_ > 0 || fixed_quantity_ <= 0 ? quantity_ : fixed_quantity_;
  }
  return e;
}

void RunSignal::take_events(std::vector<Event>& out) {
  if (!changed_) return;
  changed_ = false;
  if (pending_ == open_) return;  // changed and changed back within one batch
  if (!open_.empty()) out.push_back(run_event(RunAction::end, open_));
  if (!pending_.empty()) out.push_back(run_event(RunAction::start, pending_));
  open_ = pending_;
}

void RunSignals::add(const TagConfig& tag) {
  if (tag.signal == SignalKind::run) by_machine_.try_emplace(tag.machine, tag.machine, tag.run_product, tag.run_quantity);
}

RunSignal* RunSignals::for_tag(const TagConfig& tag) {
  if (tag.signal != SignalKind::run && tag.signal != SignalKind::run_quantity && tag.signal != SignalKind::product)
    return nullptr;
  const auto it = by_machine_.find(tag.machine);
  return it == by_machine_.end() ? nullptr : &it->second;
}

void RunSignals::take_events(std::vector<Event>& out) {
  for (auto& [machine, signal] : by_machine_) signal.take_events(out);
}

}  // namespace oee::edge
