// Disk faults at every write and every sync of the durable queue, injected through the file
// layer's seam (fileio/fault_injector.h): whatever fails, every record wait_durable confirmed is
// there after reopening, intact and in order, and no record is served that was never appended.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "temp_dir.h"
#include "oee/edge/durable_queue.h"
#include "oee/fileio/fault_injector.h"

namespace fs = std::filesystem;
using oee::edge::DurableQueue;
using oee::edge::DurableQueueOptions;
using oee::edge::QueueRecord;
using oee::fileio::Fault;
using oee::fileio::FaultOp;
using oee::fileio::ScopedFaultInjector;

namespace {

struct TempDir : oee::edge::testing::TempDir {
  TempDir() : oee::edge::testing::TempDir("oee-queue-fault-") {}
};

DurableQueueOptions small_segments(const fs::path& dir) {
  DurableQueueOptions o;
  o.dir = dir.string();
  o.segment_bytes = 1024;  // a few batches per segment: rolls, new segment files, deletions
  o.group_commit_ms = 0;
  return o;
}

std::vector<QueueRecord> read_all(DurableQueue& q) {
  std::vector<QueueRecord> out;
  std::uint64_t from = 0;
  while (q.read(from, 1000, 1 << 20, out) > 0) from = out.back().id + 1;
  return out;
}

// What a scripted run appended and what the queue confirmed.
struct ScriptedRun {
  // id -> payload of every record offered to append (durable or not; an append that throws may
  // have kept a prefix of its batch)
  std::map<std::uint64_t, std::string> appended;
  std::uint64_t durable_end = 0;                  // wait_durable returned true up to here
  std::uint64_t acked_until = 0;                  // ack_until was called with this
  bool failed = false;                            // an append threw or a wait returned false
};

// Batches of records, each waited for, some acknowledged: every kind of write the queue does
// (records, segment headers, the meta file, directory syncs, removals of acknowledged segments).
ScriptedRun scripted_run(const fs::path& dir) {
  ScriptedRun run;
  try {
    DurableQueue q(small_segments(dir));
    for (std::uint64_t round = 0; round < 10; ++round) {
      std::vector<std::string> batch;
      for (std::uint64_t k = 0; k < 3; ++k)
        batch.push_back("r" + std::to_string(round) + "-" + std::to_string(k) + std::string(60 + round * 7 + k, 'p'));
      const std::vector<std::string_view> views(batch.begin(), batch.end());
      const std::uint64_t first = q.next_id();
      for (std::uint64_t k = 0; k < batch.size(); ++k) run.appended[first + k] = batch[k];
      EXPECT_EQ(q.append(views), first);
      if (!q.wait_durable(first + batch.size())) {
        run.failed = true;
        EXPECT_FALSE(q.stats().io_error.empty()) << "a wait ends false only on a disk error";
        EXPECT_THROW(q.append("after the error"), std::runtime_error) << "the queue stops accepting";
        return run;
      }
      run.durable_end = first + batch.size();
      if (round % 3 == 2) {
        q.ack_until(first);
        run.acked_until = first;
      }
    }
  } catch (const std::exception&) {
    run.failed = true;
  }
  return run;
}

// Reopens the queue without faults and checks it against the run.
void check_after_reopen(const fs::path& dir, const ScriptedRun& run, const std::string& what) {
  SCOPED_TRACE(what);
  DurableQueue q(small_segments(dir));
  const std::vector<QueueRecord> served = read_all(q);
  std::uint64_t previous = 0;
  for (std::size_t i = 0; i < served.size(); ++i) {
    const QueueRecord& r = served[i];
    if (i > 0) {
      ASSERT_GT(r.id, previous) << "in order";
    }
    previous = r.id;
    const auto it = run.appended.find(r.id);
    ASSERT_NE(it, run.appended.end()) << "record " << r.id << " was never appended";
    ASSERT_EQ(r.payload, it->second) << "record " << r.id << " is not what was appended";
  }
  // Every confirmed record not acknowledged is served: the served ids cover [acked_until, durable_end).
  std::uint64_t expect = run.acked_until;
  for (const QueueRecord& r : served) {
    if (r.id < expect) continue;
    ASSERT_EQ(r.id, expect) << "confirmed record " << expect << " is lost";
    ++expect;
  }
  ASSERT_GE(expect, run.durable_end) << "confirmed record " << expect << " is lost";
  // And the reopened queue works: a new record gets an id no served or confirmed record has (ids
  // of records never made durable, hence never served, may be given again) and becomes durable.
  const std::uint64_t id = q.append("after reopen");
  EXPECT_GE(id, std::max(run.durable_end, served.empty() ? 0 : served.back().id + 1));
  EXPECT_TRUE(q.wait_durable(id + 1));
  EXPECT_TRUE(q.stats().io_error.empty());
}

TEST(DurableQueueFaults, AFailureAtEveryWriteAndEverySyncLosesNoConfirmedRecordAndServesNoCorruptOne) {
  std::uint64_t total_writes = 0, total_syncs = 0;
  {
    TempDir dir;
    ScopedFaultInjector counting;
    const ScriptedRun clean = scripted_run(dir.path);
    ASSERT_FALSE(clean.failed);
    total_writes = counting->writes();
    total_syncs = counting->syncs();
  }
  RecordProperty("writes", static_cast<int>(total_writes));  // the size of the sweep, in the XML report
  RecordProperty("syncs", static_cast<int>(total_syncs));
  ASSERT_GT(total_writes, 10u);
  ASSERT_GT(total_syncs, 10u);
  int failed_runs = 0;
  for (const Fault& fault : oee::fileio::every_single_fault(total_writes, total_syncs)) {
    TempDir dir;
    ScriptedRun run;
    {
      ScopedFaultInjector faults({fault});
      run = scripted_run(dir.path);
      ASSERT_EQ(faults->injected(), 1u) << describe(fault) << " was not reached";
    }
    failed_runs += run.failed;
    check_after_reopen(dir.path, run, describe(fault));
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(failed_runs, 0);
}

TEST(DurableQueueFaults, AFailedFdatasyncIsNeverRetriedTheQueueStopsAndSaysWhy) {
  TempDir dir;
  DurableQueueOptions o = small_segments(dir.path);
  {
    DurableQueue q(o);
    ASSERT_EQ(q.append("durable"), 0u);
    ASSERT_TRUE(q.wait_durable(1));
    ScopedFaultInjector faults({Fault{FaultOp::sync, 1, EIO, 0}});
    ASSERT_EQ(q.append("in doubt"), 1u);
    // Retrying the fdatasync would "succeed" (Linux dropped the dirty pages): it must not.
    EXPECT_FALSE(q.wait_durable(2));
    EXPECT_NE(q.stats().io_error.find("fdatasync"), std::string::npos) << q.stats().io_error;
    EXPECT_EQ(q.stats().durable_end, 1u);
    EXPECT_THROW(q.append("refused"), std::runtime_error);
    std::vector<QueueRecord> out;
    q.read(0, 10, 1 << 20, out);
    ASSERT_EQ(out.size(), 1u) << "only the confirmed record is served";
    EXPECT_EQ(out[0].payload, "durable");
    EXPECT_EQ(faults->syncs(), 1u) << "no sync after the failed one";
  }
  // Reopened (the edge restarted): records are re-verified from disk by their CRC.
  DurableQueue q(o);
  const auto served = read_all(q);
  ASSERT_GE(served.size(), 1u);
  EXPECT_EQ(served[0].payload, "durable");
  if (served.size() == 2) {
    EXPECT_EQ(served[1].payload, "in doubt");
  }
  EXPECT_LE(served.size(), 2u);
}

TEST(DurableQueueFaults, AShortWriteIsCutBackToTheLastWholeRecord) {
  TempDir dir;
  DurableQueue q(small_segments(dir.path));
  ASSERT_TRUE(q.wait_durable(q.append("whole") + 1));
  const auto segment = dir.path / "seg-00000000000000000000.log";
  const auto size_before = fs::file_size(segment);
  ScopedFaultInjector faults({Fault{FaultOp::write, 1, ENOSPC, 10}});
  q.append("torn by a full disk");
  EXPECT_FALSE(q.wait_durable(2));
  EXPECT_EQ(fs::file_size(segment), size_before) << "the 10 bytes written before ENOSPC were cut off";
  EXPECT_NE(q.stats().io_error.find("No space"), std::string::npos) << q.stats().io_error;
}

}  // namespace
