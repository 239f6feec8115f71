#pragma once
// The edge's store-and-forward queue: a segmented append-only log on local disk.
//
// An appended record gets the next id (gapless, strictly increasing, also across restarts). It is
// handed to readers only once it is fsynced (group commit by a background thread, typically within
// one fdatasync, bounded by `group_commit_ms`). Records leave only when acknowledged (ack_through),
// or when the byte cap forces the oldest segment out (counted in `evicted_records`). Every record
// carries a CRC32C: after SIGKILL, power loss or a torn write the log recovers to the last whole
// record and never serves a corrupt one. All file I/O goes through fileio/ (with its fault seam): a
// failed write or sync stops the queue (stats().io_error) instead of being retried. docs/edge.md
// explains the format, the disk-error behaviour and why not SQLite.
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace oee::fileio {
class File;
}

namespace oee::edge {

class RecordSeal;

struct DurableQueueOptions {
  std::string dir;                                // created when missing
  std::uint64_t max_bytes = 1ull << 30;           // disk cap; oldest segments are evicted beyond it
  std::uint64_t segment_bytes = 0;                // 0: max_bytes / 8, clamped to [64 KiB, 64 MiB]
  std::uint32_t group_commit_ms = 5;              // the sync thread gathers appends this long at most
  // Called (from the appending thread) when a segment is evicted: records lost, ids [first, end).
  std::function<void(std::uint64_t records, std::uint64_t first_id, std::uint64_t end_id)> on_evict;
  // The queue's key (fileio::derive_key(master, KeyUse::queue)): records are sealed on disk
  // (edge/src/record_seal.h). A queue written with a key does not open without it, nor the reverse.
  std::optional<std::array<unsigned char, 32>> encryption_key;
};

inline constexpr std::uint32_t kMaxQueueRecordBytes = 16u << 20;

struct QueueRecord {
  std::uint64_t id = 0;
  std::int64_t appended_ms = 0;  // wall clock at append (age of the oldest unsent)
  std::string payload;
};

struct DurableQueueStats {
  std::uint64_t next_id = 0;          // id the next append gets
  std::uint64_t durable_end = 0;      // ids below are on disk
  std::uint64_t first_unacked = 0;    // ids below are acknowledged (or evicted)
  std::uint64_t depth_records = 0;    // durable or not, not yet acknowledged
  std::uint64_t disk_bytes = 0;       // all segments
  std::uint64_t segments = 0;
  std::uint64_t evicted_records = 0;  // total over the queue's life (persisted)
  std::uint64_t recovered_truncated_bytes = 0;  // cut off at open: torn or corrupt tails
  std::int64_t oldest_unacked_appended_ms = 0;  // 0 when empty
  // Set after a failed write or sync: the queue no longer accepts records (until reopened).
  std::string io_error;
};

class DurableQueue {
 public:
  // Opens (recovering) or creates the queue. Throws std::runtime_error on I/O errors.
  explicit DurableQueue(DurableQueueOptions options);
  ~DurableQueue();
  DurableQueue(const DurableQueue&) = delete;
  DurableQueue& operator=(const DurableQueue&) = delete;

  // Appends records; returns the id of the first. Does not wait for the disk (see wait_durable).
  // Throws std::invalid_argument for a record above kMaxQueueRecordBytes, runtime_error on I/O.
  // After a failed write or sync (stats().io_error) every append throws: see docs/edge.md.
  std::uint64_t append(std::span<const std::string_view> payloads);
  std::uint64_t append(std::string_view payload) { return append(std::span(&payload, 1)); }

  // Blocks until every id below `id_end` is fsynced (or the timeout passes, or a disk error makes
  // that impossible; false then).
  bool wait_durable(std::uint64_t id_end,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds::max());
  // Syncs what was appended so far and waits for it.
  void flush();

  // Appends to `out` up to max_records durable records with id >= from_id (ids skipped by eviction
  // or recovery are skipped here too), at most ~max_bytes of payload (always at least one record).
  // Returns how many were appended.
  std::size_t read(std::uint64_t from_id, std::size_t max_records, std::size_t max_bytes,
                   std::vector<QueueRecord>& out);
  // Blocks until a durable record with id >= from_id exists, or the timeout passes.
  bool wait_readable(std::uint64_t from_id, std::chrono::milliseconds timeout);

  // Every record with id < id_end is delivered: it leaves the queue (segments fully acknowledged
  // are deleted). Lower values than before are ignored.
  void ack_until(std::uint64_t id_end);

  DurableQueueStats stats() const;
  std::uint64_t next_id() const;
  std::uint64_t first_unacked() const;

 private:
  struct Segment;
  struct File;

  void recover();
  const char* segment_magic() const;
  void check_segment_format(const std::string& path, const fileio::File& file, const char* magic,
                            std::uint64_t size) const;
  void open_new_segment_locked(std::uint64_t first_id);
  void append_locked(std::span<const std::string_view> payloads, std::int64_t now);
  void write_pending_locked();
  void fail_locked(const std::exception& e);
  void roll_segment_locked();
  void evict_locked();
  void drop_acked_segments_locked();
  void save_meta_locked(bool sync);
  void sync_loop();
  std::size_t read_locked(std::uint64_t from_id, std::size_t max_records, std::size_t max_bytes,
                          std::vector<QueueRecord>& out);

  DurableQueueOptions options_;
  std::unique_ptr<RecordSeal> seal_;  // set when the queue has a key
  mutable std::mutex mutex_;
  std::condition_variable durable_cv_;   // durable_end_ advanced
  std::condition_variable dirty_cv_;     // something to sync
  std::vector<std::unique_ptr<Segment>> segments_;  // oldest first; the last one is written
  std::shared_ptr<File> writer_;
  std::string pending_;                  // encoded records not yet write()n
  std::uint64_t next_id_ = 0;
  std::uint64_t written_end_ = 0;        // ids below are write()n to the active segment
  std::uint64_t durable_end_ = 0;
  std::uint64_t first_unacked_ = 0;
  std::uint64_t evicted_records_ = 0;
  std::uint64_t recovered_truncated_bytes_ = 0;
  std::uint64_t saved_first_unacked_ = 0;
  std::string io_error_;                 // the first disk error; non-empty: no more writes
  bool stopping_ = false;
  std::thread sync_thread_;
};

// CRC32C (Castagnoli), hardware-accelerated when the CPU has SSE4.2.
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size);

}  // namespace oee::edge
