#include "temp_dir.h"
#include "oee/edge/durable_queue.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using oee::edge::DurableQueue;
using oee::edge::DurableQueueOptions;
using oee::edge::QueueRecord;

namespace {

using oee::edge::testing::TempDir;

DurableQueueOptions opts(const fs::path& dir, std::uint64_t max_bytes = 1ull << 30,
                         std::uint64_t segment_bytes = 0) {
  DurableQueueOptions o;
  o.dir = dir.string();
  o.max_bytes = max_bytes;
  o.segment_bytes = segment_bytes;
  return o;
}

std::string payload_for(std::uint64_t i) { return "event-" + std::to_string(i) + std::string(i % 37, 'x'); }

void write_records(const fs::path& dir, std::uint64_t count) {
  DurableQueue q(opts(dir));
  for (std::uint64_t i = 0; i < count; ++i) q.append(payload_for(i));
  q.flush();
}

std::vector<QueueRecord> read_all(DurableQueue& q, std::uint64_t from = 0) {
  std::vector<QueueRecord> out;
  while (q.read(from, 1000, 1 << 20, out) > 0) from = out.back().id + 1;
  return out;
}

std::vector<fs::path> segments(const fs::path& dir) {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".log") v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST(DurableQueue, AppendReadAckInOrder) {
  TempDir dir;
  DurableQueue q(opts(dir.path));
  for (std::uint64_t i = 0; i < 1000; ++i) EXPECT_EQ(q.append(payload_for(i)), i);
  q.flush();
  auto all = read_all(q);
  ASSERT_EQ(all.size(), 1000u);
  for (std::uint64_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id, i);
    EXPECT_EQ(all[i].payload, payload_for(i));
  }
  q.ack_until(600);
  all = read_all(q);
  ASSERT_EQ(all.size(), 400u);
  EXPECT_EQ(all.front().id, 600u);
  EXPECT_EQ(q.stats().depth_records, 400u);
}

TEST(DurableQueue, RecordsSurviveReopenAndIdsKeepIncreasing) {
  TempDir dir;
  {
    DurableQueue q(opts(dir.path, 1 << 20));  // small segments: many files
    std::vector<std::string> batch;
    for (std::uint64_t i = 0; i < 20000; ++i) batch.push_back(payload_for(i));
    std::vector<std::string_view> views(batch.begin(), batch.end());
    EXPECT_EQ(q.append(views), 0u);
    q.flush();
    q.ack_until(5000);
  }
  {
    DurableQueue q(opts(dir.path, 1 << 20));
    EXPECT_EQ(q.next_id(), 20000u);
    EXPECT_EQ(q.first_unacked(), 5000u);
    auto all = read_all(q);
    ASSERT_EQ(all.size(), 15000u);
    for (std::uint64_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i].payload, payload_for(5000 + i));
    q.ack_until(20000);  // everything delivered: old segments go, the id must not restart
  }
  {
    DurableQueue q(opts(dir.path, 1 << 20));
    EXPECT_EQ(q.next_id(), 20000u);
    EXPECT_EQ(q.stats().depth_records, 0u);
    EXPECT_EQ(q.append("next"), 20000u);
  }
}

TEST(DurableQueue, TornTailRecoversToLastWholeRecord) {
  TempDir dir;
  write_records(dir.path, 100);
  const auto seg = segments(dir.path).back();
  // Cut the last record in half, as a power loss in the middle of a write would.
  fs::resize_file(seg, fs::file_size(seg) - 5);
  {
    DurableQueue q(opts(dir.path));
    EXPECT_GT(q.stats().recovered_truncated_bytes, 0u);
    auto all = read_all(q);
    ASSERT_EQ(all.size(), 99u);
    EXPECT_EQ(all.back().payload, payload_for(98));
    EXPECT_EQ(q.append("after"), 99u);  // the torn id is reused: it was never delivered
    q.flush();
    EXPECT_EQ(read_all(q).back().payload, "after");
  }
}

TEST(DurableQueue, GarbledTailIsCutNeverServed) {
  TempDir dir;
  write_records(dir.path, 100);
  const auto seg = segments(dir.path).back();
  {
    // Flip a byte inside the payload of the last record, and add garbage after it.
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(seg) - 3));
    f.put('#');
    f.seekp(0, std::ios::end);
    f << "garbage that looks like nothing";
  }
  DurableQueue q(opts(dir.path));
  auto all = read_all(q);
  ASSERT_EQ(all.size(), 99u);
  for (std::uint64_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i].payload, payload_for(i));
}

TEST(DurableQueue, ZeroFilledTailFromPowerLossIsCut) {
  TempDir dir;
  write_records(dir.path, 10);
  const auto seg = segments(dir.path).back();
  fs::resize_file(seg, fs::file_size(seg) + 4096);  // extent allocated, data never written
  DurableQueue q(opts(dir.path));
  EXPECT_EQ(read_all(q).size(), 10u);
  EXPECT_EQ(q.next_id(), 10u);
}

TEST(DurableQueue, DiskCapEvictsOldestFirstAndCounts) {
  TempDir dir;
  std::uint64_t evicted_seen = 0;
  auto o = opts(dir.path, 512 << 10, 64 << 10);
  o.on_evict = [&](std::uint64_t n, std::uint64_t, std::uint64_t) { evicted_seen += n; };
  auto queue = std::make_unique<DurableQueue>(o);
  DurableQueue& q = *queue;
  const std::string body(100, 'e');
  for (std::uint64_t i = 0; i < 50000; ++i) q.append(body + std::to_string(i));
  q.flush();
  const auto s = q.stats();
  EXPECT_LE(s.disk_bytes, (512u << 10) + (64u << 10));
  EXPECT_GT(s.evicted_records, 40000u);
  EXPECT_EQ(evicted_seen, s.evicted_records);
  auto all = read_all(q);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.size() + s.evicted_records, 50000u);  // every record is either kept or counted
  EXPECT_EQ(all.back().payload, body + "49999");       // the newest survive
  for (std::size_t i = 1; i < all.size(); ++i) ASSERT_EQ(all[i].id, all[i - 1].id + 1);
  // The count survives a restart.
  queue.reset();
  DurableQueue reopened(opts(dir.path, 512 << 10, 64 << 10));
  EXPECT_EQ(reopened.stats().evicted_records, s.evicted_records);
}

TEST(DurableQueue, RejectsOversizedRecord) {
  TempDir dir;
  DurableQueue q(opts(dir.path));
  const std::string huge(oee::edge::kMaxQueueRecordBytes + 1, 'x');
  EXPECT_THROW(q.append(huge), std::invalid_argument);
  EXPECT_EQ(q.next_id(), 0u);
}

// A child process appends as fast as it can and reports, through a pipe, every id known durable;
// the parent SIGKILLs it mid-stream. Every reported record must be there, whole and in order.
TEST(DurableQueue, SurvivesSigkillMidStream) {
  TempDir dir;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    DurableQueue q(opts(dir.path, 64 << 20, 1 << 20));
    std::vector<std::string> batch;
    for (std::uint64_t i = 0;; i += 100) {
      batch.clear();
      for (std::uint64_t k = 0; k < 100; ++k) batch.push_back(payload_for(i + k));
      std::vector<std::string_view> views(batch.begin(), batch.end());
      const auto first = q.append(views);
      if (i % 1000 == 0) {
        q.wait_durable(first + 100);
        const std::uint64_t end = first + 100;
        if (::write(fds[1], &end, sizeof end) != sizeof end) ::_exit(1);
      }
    }
  }
  ::close(fds[1]);
  std::uint64_t durable = 0, v = 0;
  while (durable < 30000 && ::read(fds[0], &v, sizeof v) == sizeof v) durable = v;
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  while (::read(fds[0], &v, sizeof v) == sizeof v) durable = v;
  ::close(fds[0]);
  ASSERT_GE(durable, 30000u);

  DurableQueue q(opts(dir.path, 64 << 20, 1 << 20));
  auto all = read_all(q);
  ASSERT_GE(all.size(), durable);
  for (std::uint64_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].id, i);
    ASSERT_EQ(all[i].payload, payload_for(i));
  }
  EXPECT_EQ(q.next_id(), all.size());
}

TEST(DurableQueue, ConcurrentReaderSeesOnlyDurableRecordsInOrder) {
  TempDir dir;
  DurableQueue q(opts(dir.path, 1ull << 30, 256 << 10));
  std::thread writer([&] {
    for (std::uint64_t i = 0; i < 50000; ++i) q.append(payload_for(i));
  });
  std::uint64_t next = 0;
  std::vector<QueueRecord> got;
  while (next < 50000) {
    got.clear();
    if (!q.wait_readable(next, std::chrono::milliseconds(2000))) break;
    q.read(next, 777, 1 << 16, got);
    for (const auto& r : got) {
      ASSERT_EQ(r.id, next);
      ASSERT_LT(r.id, q.stats().durable_end);
      ASSERT_EQ(r.payload, payload_for(next));
      ++next;
    }
    q.ack_until(next);
  }
  writer.join();
  EXPECT_EQ(next, 50000u);
}
