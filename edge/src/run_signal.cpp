#include "oee/edge/run_signal.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

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

bool RunSignal::take_events(std::vector<Event>& out) {
  if (!changed_) return false;
  changed_ = false;
  if (pending_ == open_) return false;  // changed and changed back within one batch
  if (!open_.empty()) out.push_back(run_event(RunAction::end, open_));
  if (!pending_.empty()) out.push_back(run_event(RunAction::start, pending_));
  open_ = pending_;
  return true;
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
  for (auto& [machine, signal] : by_machine_) dirty_ = signal.take_events(out) || dirty_;
}

void RunSignals::after_sink() {
  if (!dirty_) return;
  dirty_ = false;
  save();
}

// A line per machine with an open order: "<machine>\t<order>".
void RunSignals::load() {
  if (state_file_.empty()) return;
  std::ifstream f(state_file_);
  std::string line;
  while (std::getline(f, line)) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    const auto it = by_machine_.find(std::string_view(line).substr(0, tab));
    if (it != by_machine_.end()) it->second.restore_open(line.substr(tab + 1));
  }
}

// Written after the events were handed to the queue (after_sink): a crash between the two sends the start again
// after the restart, which changes nothing (a start of the open run), rather than losing an end.
void RunSignals::save() const {
  if (state_file_.empty()) return;
  const std::string tmp = state_file_ + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    for (const auto& [machine, signal] : by_machine_)
      if (!signal.open().empty() && signal.open().find_first_of("\t\n") == std::string::npos)
        f << machine << '\t' << signal.open() << '\n';
    if (!f.flush()) {
      std::fprintf(stderr, "edge: cannot write %s: the open orders are not kept across a restart\n", tmp.c_str());
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, state_file_, ec);
  if (ec) std::fprintf(stderr, "edge: cannot write %s: %s\n", state_file_.c_str(), ec.message().c_str());
}

}  // namespace oee::edge
