// The resilient store's local spill under disk faults, injected through the file layer's seam
// (fileio/fault_injector.h) at every write and every sync of a scripted run: whatever fails, every
// batch the spill acknowledged reaches the database after catching up, intact and once, and no
// event arrives that was never appended. The database is SQLite here (the spill does not care
// which store is behind it); "down" is an opener that throws StoreUnreachable.
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "oee/core/shift_calendar.h"
#include "oee/fileio/fault_injector.h"
#include "oee/storage/resilient_store.h"
#include "storage_test_support.h"
#include "store_backends.h"

namespace oee::storage {
namespace {

using namespace testing;
using fileio::Fault;
using fileio::FaultOp;
using fileio::ScopedFaultInjector;

class SpillFixture {
 public:
  SpillFixture() : plant_(test_plant(1, 1)), cal_(plant_, zone_), machine_(*plant_.machines()[0]) {
    GeneratorOptions g;
    g.anonymous = false;  // every event has src+seq: what arrived is identifiable
    events_ = random_events(7, at("2026-11-10T00:00:00Z"), at("2026-11-10T06:00:00Z"), machine_.path, g);
    options_.spill_path = dir_.file("spill.log");
    options_.failures_to_open = 1;
    options_.open_wait_ms_min = options_.open_wait_ms_max = 3'600'000;  // no probe during a run
    options_.spill_drain_bytes = 1024;                                 // several chunks to replay
    database_ = sqlite_.new_location();
  }

  // A store whose database is down: every append goes to the spill.
  std::unique_ptr<ResilientEventStore> down() {
    return std::make_unique<ResilientEventStore>(
        []() -> std::unique_ptr<EventStore> { throw StoreUnreachable("database down (test)"); }, options_);
  }
  std::unique_ptr<ResilientEventStore> up() {
    return std::make_unique<ResilientEventStore>([this] { return sqlite_.open(database_, plant_, cal_, {}); }, options_);
  }
  std::span<const Event> batch(std::size_t i) const {
    const std::size_t from = std::min(events_.size(), i * 10);
    return std::span(events_).subspan(from, std::min<std::size_t>(10, events_.size() - from));
  }
  std::size_t batches() const { return (events_.size() + 9) / 10; }
  const std::string& spill_path() const { return options_.spill_path; }

  // The events in the database, by seq; fails the test on a duplicate.
  std::map<std::int64_t, Event> stored() {
    std::map<std::int64_t, Event> out;
    for (Event& e : sqlite_.open(database_, plant_, cal_, {})->machine_events(machine_.path, kTimeMin, kTimeMax))
      EXPECT_TRUE(out.emplace(e.seq, std::move(e)).second) << "seq " << e.seq << " stored twice";
    return out;
  }
  const Event* original(std::int64_t seq) const {
    for (const Event& e : events_)
      if (e.seq == seq) return &e;
    return nullptr;
  }

 private:
  TempDir dir_;
  SqliteBackend sqlite_;
  const PlantModel plant_;
  const FixedOffsetZone zone_;
  const ShiftCalendar cal_;
  const MachineSpec& machine_;
  std::vector<Event> events_;
  ResilienceOptions options_;
  std::string database_;
};

struct SpillRun {
  std::set<std::int64_t> acknowledged;  // seqs of the batches append() returned for
  bool refused = false;                 // an append threw or catching up failed
};

// Spill batches with the database down, reopen (down still) and spill more, reopen with the
// database up and catch up: every write and sync of the spill's life.
SpillRun scripted_spill(SpillFixture& f) {
  SpillRun run;
  const auto spill = [&](ResilientEventStore& store, std::size_t i) {
    try {
      store.append(f.batch(i), 0);
      for (const Event& e : f.batch(i)) run.acknowledged.insert(e.seq);
    } catch (const StoreUnavailable&) {
      run.refused = true;  // not acknowledged: the caller keeps the messages
    }
  };
  for (auto store = f.down(); const std::size_t i : {0, 1, 2, 3}) spill(*store, i);
  for (auto store = f.down(); const std::size_t i : {4, 5}) spill(*store, i);
  try {
    auto store = f.up();
    if (!store->catch_up()) run.refused = true;
  } catch (const std::exception&) {
    run.refused = true;  // the spill could not be emptied: it is replayed again next time
  }
  return run;
}

void check_caught_up(SpillFixture& f, const SpillRun& run, const std::string& what) {
  SCOPED_TRACE(what);
  {
    auto store = f.up();  // no faults now: whatever is left in the spill is replayed
    ASSERT_TRUE(store->catch_up());
    EXPECT_EQ(store->status().spilled_events, 0);
  }
  const auto stored = f.stored();
  for (const auto& [seq, e] : stored) {
    const Event* want = f.original(seq);
    ASSERT_NE(want, nullptr) << "seq " << seq << " was never appended";
    EXPECT_EQ(e.ts, want->ts) << "seq " << seq;
    EXPECT_EQ(e.type, want->type) << "seq " << seq;
  }
  for (const std::int64_t seq : run.acknowledged) EXPECT_TRUE(stored.contains(seq)) << "acknowledged seq " << seq << " lost";
}

TEST(SpillFaults, AFailureAtEveryWriteAndEverySyncLosesNoAcknowledgedBatchAndInventsNone) {
  std::uint64_t total_writes = 0, total_syncs = 0;
  {
    SpillFixture f;
    ASSERT_GE(f.batches(), 6u);
    ScopedFaultInjector counting;
    const SpillRun clean = scripted_spill(f);
    ASSERT_FALSE(clean.refused);
    total_writes = counting->writes();
    total_syncs = counting->syncs();
  }
  RecordProperty("writes", static_cast<int>(total_writes));  // the size of the sweep, in the XML report
  RecordProperty("syncs", static_cast<int>(total_syncs));
  ASSERT_GE(total_writes, 6u);
  ASSERT_GE(total_syncs, 7u);
  for (const Fault& fault : fileio::every_single_fault(total_writes, total_syncs)) {
    SpillFixture f;
    SpillRun run;
    {
      ScopedFaultInjector faults({fault});
      run = scripted_spill(f);
      ASSERT_EQ(faults->injected(), 1u) << describe(fault) << " was not reached";
    }
    EXPECT_TRUE(run.refused) << describe(fault) << ": the failure must be reported, not hidden";
    check_caught_up(f, run, describe(fault));
    if (HasFatalFailure()) return;
  }
}

TEST(SpillFaults, ATornTailIsCutAtOpenSoThatLaterBatchesAreReplayedToo) {
  SpillFixture f;
  SpillRun run;
  for (auto store = f.down(); const std::size_t i : {0, 1}) {
    store->append(f.batch(i), 0);
    for (const Event& e : f.batch(i)) run.acknowledged.insert(e.seq);
  }
  const auto whole = std::filesystem::file_size(f.spill_path());
  {
    // A crash while writing a third batch: its first bytes only.
    std::ofstream torn(f.spill_path(), std::ios::binary | std::ios::app);
    torn.write("\x40\x00\x00\x00garbage", 11);
  }
  {
    auto store = f.down();
    EXPECT_EQ(std::filesystem::file_size(f.spill_path()), whole) << "the torn tail is cut at open";
    store->append(f.batch(2), 0);  // acknowledged after the tear
    for (const Event& e : f.batch(2)) run.acknowledged.insert(e.seq);
  }
  check_caught_up(f, run, "torn tail");
  EXPECT_EQ(f.stored().size(), run.acknowledged.size());
}

}  // namespace
}  // namespace oee::storage
