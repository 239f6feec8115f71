#pragma once
// The fault seam of the file layer, in the manner of SQLite's test VFS: a test installs an
// injector, and every write and every sync (file or directory) of the process asks it first. It
// counts them and fails the ones it was told to, deterministically: "the 7th write fails with
// ENOSPC after 5 bytes", "the 3rd sync fails with EIO". Without an injector installed the layer
// costs one atomic load per call.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace oee::fileio {

enum class FaultOp { write, sync };

struct Fault {
  FaultOp op = FaultOp::write;
  std::uint64_t nth = 1;  // 1-based, counted from the injector's installation, per op
  int error = 5;          // errno: EIO (5) by default, ENOSPC (28), ...
  // For a write: this many bytes reach the file before it fails (a short write). Default: none.
  std::size_t short_bytes = 0;
};

class FaultInjector {
 public:
  explicit FaultInjector(std::vector<Fault> faults = {}) : faults_(std::move(faults)) {}

  // Called by the layer. For a write of `size` bytes: returns the errno to fail with (0: go on)
  // and sets `write_first` to the bytes to write before failing.
  int on_write(std::size_t size, std::size_t& write_first);
  int on_sync();

  std::uint64_t writes() const { return writes_; }
  std::uint64_t syncs() const { return syncs_; }
  std::uint64_t injected() const { return injected_; }

 private:
  const Fault* match(FaultOp op, std::uint64_t nth) const;

  std::vector<Fault> faults_;
  std::atomic<std::uint64_t> writes_{0};
  std::atomic<std::uint64_t> syncs_{0};
  std::atomic<std::uint64_t> injected_{0};
};

// The sweep of a scripted run that did `writes` writes and `syncs` syncs: one fault per entry, at
// every write (EIO; ENOSPC; a short write of a few bytes, then ENOSPC) and at every sync (EIO).
std::vector<Fault> every_single_fault(std::uint64_t writes, std::uint64_t syncs);
// "short write then ENOSPC at write #7", for test messages.
std::string describe(const Fault& fault);

// Installs `injector` for the whole process (nullptr removes it). Tests only.
void install_fault_injector(std::shared_ptr<FaultInjector> injector);
// The installed injector, or nullptr.
std::shared_ptr<FaultInjector> installed_fault_injector();

// Installs an injector for a scope.
class ScopedFaultInjector {
 public:
  explicit ScopedFaultInjector(std::vector<Fault> faults = {})
      : injector_(std::make_shared<FaultInjector>(std::move(faults))) {
    install_fault_injector(injector_);
  }
  ~ScopedFaultInjector() { install_fault_injector(nullptr); }
  ScopedFaultInjector(const ScopedFaultInjector&) = delete;
  ScopedFaultInjector& operator=(const ScopedFaultInjector&) = delete;
  FaultInjector& operator*() const { return *injector_; }
  FaultInjector* operator->() const { return injector_.get(); }

 private:
  std::shared_ptr<FaultInjector> injector_;
};

}  // namespace oee::fileio
