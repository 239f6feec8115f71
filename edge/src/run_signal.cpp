#include "oee/edge/run_signal.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "oee/fileio/file.h"

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

namespace {

// The sources of an edge share one state file, each rewriting only its own machines' lines.
std::mutex& state_file_mutex() {
  static std::mutex m;
  return m;
}

// A line per machine with an open order: "<machine>\t<order>". A missing file holds none.
std::map<std::string, std::string, std::less<>> read_open_orders(const std::string& file) {
  std::map<std::string, std::string, std::less<>> orders;
  std::ifstream f(file);
  std::string line;
  while (std::getline(f, line)) {
    const auto tab = line.find('\t');
    if (tab != std::string::npos && tab > 0) orders[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return orders;
}

// Whole or not at all, and durable before it replaces the old file. Throws fileio::IoError.
void write_open_orders(const std::string& file, const std::map<std::string, std::string, std::less<>>& orders) {
  std::string text;
  for (const auto& [machine, order] : orders) text += machine + '\t' + order + '\n';
  fileio::replace_file(file, text);
}

bool is_legacy_state_file(const std::string& name) {
  return name.size() > 5 && name.starts_with("runs-") &&
         name.find_first_not_of("0123456789", 5) == std::string::npos;
}

}  // namespace

void RunSignals::load() {
  if (state_file_.empty()) return;
  for (const auto& [machine, order] : read_open_orders(state_file_)) {
    const auto it = by_machine_.find(machine);
    if (it != by_machine_.end()) it->second.restore_open(order);
  }
}

// Written after the events were handed to the queue (after_sink): a crash between the two sends the start again
// after the restart, which changes nothing (a start of the open run), rather than losing an end.
void RunSignals::save() const {
  if (state_file_.empty()) return;
  const std::lock_guard lock(state_file_mutex());
  auto orders = read_open_orders(state_file_);
  for (const auto& [machine, signal] : by_machine_) {
    if (!signal.open().empty() && signal.open().find_first_of("\t\n") == std::string::npos)
      orders[machine] = signal.open();
    else
      orders.erase(machine);
  }
  try {
    write_open_orders(state_file_, orders);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edge: the open orders are not kept across a restart: %s\n", e.what());
  }
}

// Earlier versions kept a file per source, runs-<source index>, so that reordering the sources
// handed one source's orders to another. Their lines (keyed by machine) move into the one file.
void migrate_run_state_files(const std::string& data_dir) {
  std::vector<std::string> legacy;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir, ec))
    if (is_legacy_state_file(entry.path().filename().string())) legacy.push_back(entry.path().string());
  if (legacy.empty()) return;
  const std::string file = data_dir + "/runs";
  if (!std::filesystem::exists(file)) {  // else a crash came after the move, before the removals
    std::map<std::string, std::string, std::less<>> orders;
    for (const auto& f : legacy) orders.merge(read_open_orders(f));
    write_open_orders(file, orders);
  }
  for (const auto& f : legacy) fileio::remove_file(f);
  fileio::sync_dir(data_dir);
}

}  // namespace oee::edge
