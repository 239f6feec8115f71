#include "oee/fileio/fault_injector.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace oee::fileio {
namespace {

std::mutex g_mutex;
std::shared_ptr<FaultInjector> g_injector;  // guarded by g_mutex
std::atomic<bool> g_installed{false};       // the fast path: nothing installed

}  // namespace

const Fault* FaultInjector::match(FaultOp op, std::uint64_t nth) const {
  const auto it = std::find_if(faults_.begin(), faults_.end(), [&](const Fault& f) { return f.op == op && f.nth == nth; });
  return it == faults_.end() ? nullptr : &*it;
}

int FaultInjector::on_write(std::size_t size, std::size_t& write_first) {
  write_first = size;
  const Fault* f = match(FaultOp::write, ++writes_);
  if (f == nullptr) return 0;
  ++injected_;
  write_first = std::min(size, f->short_bytes);
  return f->error;
}

int FaultInjector::on_sync() {
  const Fault* f = match(FaultOp::sync, ++syncs_);
  if (f == nullptr) return 0;
  ++injected_;
  return f->error;
}

std::vector<Fault> every_single_fault(std::uint64_t writes, std::uint64_t syncs) {
  std::vector<Fault> out;
  for (const Fault kind : {Fault{FaultOp::write, 0, EIO, 0}, Fault{FaultOp::write, 0, ENOSPC, 0},
                           Fault{FaultOp::write, 0, ENOSPC, 5}, Fault{FaultOp::sync, 0, EIO, 0}}) {
    for (std::uint64_t n = 1; n <= (kind.op == FaultOp::write ? writes : syncs); ++n) {
      out.push_back(kind);
      out.back().nth = n;
    }
  }
  return out;
}

std::string describe(const Fault& fault) {
  std::string s = fault.short_bytes > 0 ? "short write of " + std::to_string(fault.short_bytes) + " bytes then " : "";
  s += std::strerror(fault.error);
  s += fault.op == FaultOp::write ? " at write #" : " at sync #";
  return s + std::to_string(fault.nth);
}

void install_fault_injector(std::shared_ptr<FaultInjector> injector) {
  std::lock_guard lock(g_mutex);
  g_installed = injector != nullptr;
  g_injector = std::move(injector);
}

std::shared_ptr<FaultInjector> installed_fault_injector() {
  if (!g_installed.load(std::memory_order_relaxed)) return nullptr;
  std::lock_guard lock(g_mutex);
  return g_injector;
}

}  // namespace oee::fileio
