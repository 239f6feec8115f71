#include "oee/edge/durable_queue.h"

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "oee/fileio/file.h"
#include "record_seal.h"

namespace oee::edge {
namespace {

// Segment file: 8-byte magic, then records. Record: u32 payload length, u32 CRC32C (of the 20
// header bytes after it plus the length, and the payload), u64 id, i64 appended_ms, payload.
// With a key the payload is sealed (record_seal.h) and the segment says so in its magic.
constexpr char kSegmentMagic[8] = {'O', 'E', 'E', 'Q', 'L', 'O', 'G', '1'};
constexpr char kSealedMagic[8] = {'O', 'E', 'E', 'Q', 'E', 'N', 'C', '1'};
constexpr std::size_t kMagicBytes = sizeof(kSegmentMagic);
constexpr std::size_t kHeaderBytes = 24;
constexpr std::uint64_t kSparseEvery = 512;  // index one record position in 512
constexpr std::size_t kWriteChunkBytes = 1u << 20;
constexpr std::uint64_t kMetaMagic = 0x4154454d51454f31ull;  // "1OEQMETA"

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <typename T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename T>
void store(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

std::uint32_t record_crc(const char* header, const char* payload, std::uint32_t length) {
  std::uint32_t crc = crc32c(0, &length, 4);
  crc = crc32c(crc, header + 8, kHeaderBytes - 8);
  return crc32c(crc, payload, length);
}

// Sequential buffered reading of records from a segment file, verifying each one.
class RecordScanner {
 public:
  RecordScanner(const fileio::File& file, std::uint64_t offset, std::uint64_t limit)
      : file_(file), offset_(offset), limit_(limit) {}

  enum class Result { record, end, corrupt };

  // On `record`, header/payload point into the buffer until the next call.
  Result next(std::uint64_t& id, std::int64_t& appended_ms, std::string_view& payload) {
    if (offset_ >= limit_) return Result::end;
    if (!ensure(kHeaderBytes)) return limit_ - offset_ < kHeaderBytes ? Result::corrupt : Result::corrupt;
    const char* h = buffer_.data() + pos_;
    const auto length = load<std::uint32_t>(h);
    const auto crc = load<std::uint32_t>(h + 4);
    if (length > kMaxQueueRecordBytes + RecordSeal::kOverheadBytes || offset_ + kHeaderBytes + length > limit_) return Result::corrupt;
    if (!ensure(kHeaderBytes + length)) return Result::corrupt;
    h = buffer_.data() + pos_;
    if (record_crc(h, h + kHeaderBytes, length) != crc) return Result::corrupt;
    id = load<std::uint64_t>(h + 8);
    appended_ms = load<std::int64_t>(h + 16);
    payload = std::string_view(h + kHeaderBytes, length);
    record_offset_ = offset_;
    pos_ += kHeaderBytes + length;
    offset_ += kHeaderBytes + length;
    return Result::record;
  }
  std::uint64_t offset() const { return offset_; }             // after the last record returned
  std::uint64_t record_offset() const { return record_offset_; }  // of the last record returned

 private:
  // Makes `need` bytes at pos_ available; false when the file ends first.
  bool ensure(std::size_t need) {
    if (end_ - pos_ >= need) return true;
    buffer_.erase(0, pos_);
    end_ -= pos_;
    pos_ = 0;
    const std::size_t want = std::max<std::size_t>(need, 64u << 10);  // small reads stay cheap
    buffer_.resize(std::max(buffer_.size(), want));
    std::uint64_t file_pos = offset_ + end_;
    while (end_ < need && file_pos < limit_) {
      const std::size_t room = std::min<std::uint64_t>(buffer_.size() - end_, limit_ - file_pos);
      const std::size_t n = file_.read_at(buffer_.data() + end_, room, file_pos);
      if (n == 0) return false;
      end_ += n;
      file_pos += n;
    }
    return end_ - pos_ >= need;
  }

  const fileio::File& file_;
  std::uint64_t offset_;  // file offset of buffer_[pos_]
  std::uint64_t limit_;
  std::uint64_t record_offset_ = 0;
  std::string buffer_;
  std::size_t pos_ = 0, end_ = 0;
};

}  // namespace

struct DurableQueue::File : fileio::File {
  using fileio::File::File;
};

struct DurableQueue::Segment {
  std::uint64_t first_id = 0;
  std::uint64_t end_id = 0;  // exclusive: records are first_id .. end_id-1, contiguous
  std::uint64_t bytes = 0;   // logical size including what is still in pending_
  std::string path;
  std::shared_ptr<File> file;  // read/write descriptor
  // (id, offset) of every kSparseEvery-th record, to find a record without scanning the file.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> sparse;
};

namespace {
std::string segment_name(std::uint64_t first_id) {
  char name[48];
  std::snprintf(name, sizeof name, "seg-%020llu.log", static_cast<unsigned long long>(first_id));
  return name;
}
}  // namespace

DurableQueue::DurableQueue(DurableQueueOptions options) : options_(std::move(options)) {
  if (options_.dir.empty()) throw std::invalid_argument("durable queue: no directory");
  if (options_.encryption_key) seal_ = std::make_unique<RecordSeal>(*options_.encryption_key);
  if (options_.segment_bytes == 0)
    options_.segment_bytes = std::clamp<std::uint64_t>(options_.max_bytes / 8, 64u << 10, 64u << 20);
  fileio::make_dir(options_.dir);
  recover();
  sync_thread_ = std::thread([this] { sync_loop(); });
}

DurableQueue::~DurableQueue() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  dirty_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  std::lock_guard lock(mutex_);
  if (!io_error_.empty()) return;  // after a disk error nothing more is written (see fail_locked)
  try {
    write_pending_locked();
    if (writer_) writer_->datasync();
    if (first_unacked_ != saved_first_unacked_) save_meta_locked(true);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "durable queue: closing: %s\n", e.what());
  }
}

void DurableQueue::recover() {
  // Meta: what is acknowledged and how much was evicted.
  const std::string meta_path = options_.dir + "/queue.meta";
  std::optional<fileio::File> meta;
  try {
    meta.emplace(meta_path, O_RDONLY);
  } catch (const fileio::IoError& e) {
    if (e.error() != ENOENT) throw;
  }
  if (meta) {
    char buf[32];
    if (meta->read_at(buf, sizeof buf, 0) == 32 && load<std::uint64_t>(buf) == kMetaMagic &&
        crc32c(0, buf, 24) == load<std::uint32_t>(buf + 24)) {
      first_unacked_ = load<std::uint64_t>(buf + 8);
      evicted_records_ = load<std::uint64_t>(buf + 16);
    } else {
      std::fprintf(stderr, "durable queue: %s unreadable; redelivering from the oldest record\n",
                   meta_path.c_str());
    }
  }
  saved_first_unacked_ = first_unacked_;

  std::vector<std::uint64_t> firsts;
  if (DIR* d = ::opendir(options_.dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      unsigned long long first = 0;
      char tail[8] = {};
      if (std::sscanf(e->d_name, "seg-%20llu.%3s", &first, tail) == 2 && std::strcmp(tail, "log") == 0)
        firsts.push_back(first);
    }
    ::closedir(d);
  }
  std::sort(firsts.begin(), firsts.end());

  std::uint64_t next = first_unacked_;
  for (const std::uint64_t first : firsts) {
    auto seg = std::make_unique<Segment>();
    seg->first_id = first;
    seg->end_id = first;
    seg->path = options_.dir + "/" + segment_name(first);
    seg->file = std::make_shared<File>(seg->path, O_RDWR);
    File& file = *seg->file;
    const std::uint64_t size = file.size();
    char magic[kMagicBytes] = {};
    std::uint64_t good_end = kMagicBytes;
    const bool read_magic = size >= kMagicBytes && file.read_at(magic, kMagicBytes, 0) == kMagicBytes;
    if (read_magic) check_segment_format(seg->path, file, magic, size);
    if (!read_magic || std::memcmp(magic, segment_magic(), kMagicBytes) != 0) {
      // A segment torn while being created (or not ours, or an empty one of the other format):
      // start it over, empty.
      file.truncate(0);
      file.write_at(segment_magic(), kMagicBytes, 0);
      recovered_truncated_bytes_ += size;
    } else {
      RecordScanner scanner(file, kMagicBytes, size);
      std::uint64_t id = 0;
      std::int64_t ms = 0;
      std::string_view payload;
      std::uint64_t count = 0;
      RecordScanner::Result r;
      while ((r = scanner.next(id, ms, payload)) == RecordScanner::Result::record) {
        if (id != first + count) {  // not the record we expect here: treat as corruption
          r = RecordScanner::Result::corrupt;
          good_end = scanner.record_offset();
          break;
        }
        if (count % kSparseEvery == 0) seg->sparse.emplace_back(id, scanner.record_offset());
        ++count;
        good_end = scanner.offset();
      }
      seg->end_id = first + count;
      if (good_end < size) {
        std::fprintf(stderr, "durable queue: %s: cut %llu bytes of torn or corrupt records after id %llu\n",
                     seg->path.c_str(), static_cast<unsigned long long>(size - good_end),
                     static_cast<unsigned long long>(seg->end_id));
        recovered_truncated_bytes_ += size - good_end;
        file.truncate(good_end);
      }
    }
    // Whatever a previous run left in the page cache is on disk before a record is served.
    file.datasync();
    seg->bytes = std::max<std::uint64_t>(good_end, kMagicBytes);
    next = std::max({next, seg->end_id, seg->first_id});
    segments_.push_back(std::move(seg));
  }

  // Drop segments that are empty or fully acknowledged, keeping the newest one for appends.
  std::vector<std::unique_ptr<Segment>> kept;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    auto& seg = segments_[i];
    const bool last = i + 1 == segments_.size();
    if (!last && (seg->end_id == seg->first_id || seg->end_id <= first_unacked_)) {
      fileio::remove_file(seg->path);
      continue;
    }
    kept.push_back(std::move(seg));
  }
  segments_ = std::move(kept);
  next_id_ = written_end_ = durable_end_ = next;
  if (!segments_.empty() && segments_.back()->end_id == next_id_ &&
      segments_.back()->bytes < options_.segment_bytes) {
    writer_ = segments_.back()->file;
  } else {
    open_new_segment_locked(next_id_);
  }
  if (!segments_.empty()) first_unacked_ = std::max(first_unacked_, segments_.front()->first_id);
  first_unacked_ = std::min(first_unacked_, next_id_);
}

const char* DurableQueue::segment_magic() const { return seal_ ? kSealedMagic : kSegmentMagic; }

// A segment of the other format that holds records not yet acknowledged is refused, never
// rewritten: they are kept for the run with (or without) the key. A sealed one must open with
// this key: its first record is tried before anything is cut.
void DurableQueue::check_segment_format(const std::string& path, const fileio::File& file, const char* magic,
                                        std::uint64_t size) const {
  const char* other = seal_ ? kSegmentMagic : kSealedMagic;
  std::uint64_t id = 0;
  std::int64_t ms = 0;
  std::string_view sealed;
  bool unacked = false;
  for (RecordScanner all(file, kMagicBytes, size);
       !unacked && all.next(id, ms, sealed) == RecordScanner::Result::record;)
    unacked = id >= first_unacked_;
  if (std::memcmp(magic, other, kMagicBytes) == 0 && unacked)
    throw std::runtime_error("durable queue: " + path +
                             (seal_ ? " holds records written without an encryption key; deliver them first (run without the key)"
                                    : " is encrypted: give its key (--encryption-key-file or OEE_ENCRYPTION_KEY)"));
  if (!seal_ || std::memcmp(magic, kSealedMagic, kMagicBytes) != 0) return;
  RecordScanner scanner(file, kMagicBytes, size);
  std::string payload;
  if (scanner.next(id, ms, sealed) == RecordScanner::Result::record &&
      !seal_->open(sealed, sealed.data() - RecordSeal::kBoundBytes, payload))
    throw std::runtime_error("durable queue: " + path + ": wrong encryption key (its first record fails authentication)");
}

void DurableQueue::open_new_segment_locked(std::uint64_t first_id) {
  auto seg = std::make_unique<Segment>();
  seg->first_id = seg->end_id = first_id;
  seg->path = options_.dir + "/" + segment_name(first_id);
  seg->file = std::make_shared<File>(seg->path, O_RDWR | O_CREAT | O_TRUNC);
  seg->file->write_at(segment_magic(), kMagicBytes, 0);
  seg->file->datasync();
  fileio::sync_dir(options_.dir);  // the file name carries first_id: the next id survives a power loss
  seg->bytes = kMagicBytes;
  writer_ = seg->file;
  segments_.push_back(std::move(seg));
}

void DurableQueue::write_pending_locked() {
  if (pending_.empty()) return;
  const std::uint64_t at = segments_.back()->bytes - pending_.size();  // end of the last whole record
  try {
    writer_->write_at(pending_.data(), pending_.size(), at);
  } catch (const std::exception&) {
    // A short write (ENOSPC) leaves part of a record: cut it off so that no torn record stays in
    // the file, even if recovery's CRC check would drop it too.
    try {
      writer_->truncate(at);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "durable queue: %s (recovery will cut the torn tail)\n", e.what());
    }
    throw;
  }
  pending_.clear();
  written_end_ = next_id_;
}

void DurableQueue::fail_locked(const std::exception& e) {
  // A failed write or sync stops the queue: Linux drops the dirty pages of a failed fsync, so a
  // retry would "succeed" on data that is not on disk. What was durable stays readable and
  // acknowledgeable; appends throw; waits for durability return false. Reopening the queue (a
  // restart of the edge) re-verifies every record from disk by its CRC.
  if (io_error_.empty()) {
    io_error_ = e.what();
    std::fprintf(stderr, "durable queue: disk error, no longer accepting records: %s\n", e.what());
  }
  durable_cv_.notify_all();
}

void DurableQueue::roll_segment_locked() {
  write_pending_locked();
  writer_->datasync();
  durable_end_ = std::max(durable_end_, written_end_);
  durable_cv_.notify_all();
  open_new_segment_locked(next_id_);
  evict_locked();
}

void DurableQueue::evict_locked() {
  std::uint64_t total = 0;
  for (const auto& s : segments_) total += s->bytes;
  while (total > options_.max_bytes && segments_.size() > 1) {
    Segment& victim = *segments_.front();
    const std::uint64_t from = std::max(first_unacked_, victim.first_id);
    const std::uint64_t lost = victim.end_id > from ? victim.end_id - from : 0;
    evicted_records_ += lost;
    first_unacked_ = std::max(first_unacked_, victim.end_id);
    save_meta_locked(true);  // the count and the new start survive before the data goes
    std::fprintf(stderr, "durable queue: disk cap %llu bytes reached: evicted %llu unsent records (ids %llu..%llu)\n",
                 static_cast<unsigned long long>(options_.max_bytes), static_cast<unsigned long long>(lost),
                 static_cast<unsigned long long>(from), static_cast<unsigned long long>(victim.end_id));
    if (options_.on_evict && lost > 0) options_.on_evict(lost, from, victim.end_id);
    total -= victim.bytes;
    fileio::remove_file(victim.path);
    segments_.erase(segments_.begin());
  }
}

void DurableQueue::drop_acked_segments_locked() {
  bool saved = false;
  while (segments_.size() > 1 && segments_.front()->end_id <= first_unacked_) {
    if (!saved) {
      save_meta_locked(true);
      saved = true;
    }
    fileio::remove_file(segments_.front()->path);
    segments_.erase(segments_.begin());
  }
}

void DurableQueue::save_meta_locked(bool sync) {
  std::string buf;
  store(buf, kMetaMagic);
  store(buf, first_unacked_);
  store(buf, evicted_records_);
  store(buf, crc32c(0, buf.data(), 24));
  store(buf, std::uint32_t{0});
  const std::string path = options_.dir + "/queue.meta";
  const std::string tmp = path + ".tmp";
  {
    fileio::File f(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    f.write_at(buf.data(), buf.size(), 0);
    if (sync) f.datasync();
  }
  fileio::rename_file(tmp, path);
  if (sync) fileio::sync_dir(options_.dir);
  saved_first_unacked_ = first_unacked_;
}

std::uint64_t DurableQueue::append(std::span<const std::string_view> payloads) {
  for (const auto& p : payloads)
    if (p.size() > kMaxQueueRecordBytes) throw std::invalid_argument("durable queue: record too large");
  const std::int64_t now = wall_ms();
  std::unique_lock lock(mutex_);
  if (stopping_) throw std::runtime_error("durable queue: closed");
  if (!io_error_.empty()) throw std::runtime_error("durable queue: disk error: " + io_error_);
  try {
    append_locked(payloads, now);
  } catch (const fileio::IoError& e) {
    fail_locked(e);
    throw;
  }
  const std::uint64_t first = next_id_ - payloads.size();
  lock.unlock();
  dirty_cv_.notify_one();
  return first;
}

void DurableQueue::append_locked(std::span<const std::string_view> payloads, std::int64_t now) {
  for (const auto& p : payloads) {
    const std::uint64_t size = kHeaderBytes + p.size() + (seal_ ? RecordSeal::kOverheadBytes : 0);
    Segment* seg = segments_.back().get();
    if (seg->end_id > seg->first_id && seg->bytes + size > options_.segment_bytes) {
      roll_segment_locked();
      seg = segments_.back().get();
    }
    const auto length = static_cast<std::uint32_t>(size - kHeaderBytes);
    const std::size_t at = pending_.size();
    store(pending_, length);
    store(pending_, std::uint32_t{0});
    store(pending_, next_id_);
    store(pending_, now);
    if (seal_)
      seal_->seal(pending_, p, pending_.data() + at + 8);
    else
      pending_.append(p);
    const std::uint32_t crc = record_crc(pending_.data() + at, pending_.data() + at + kHeaderBytes, length);
    std::memcpy(pending_.data() + at + 4, &crc, 4);
    if ((next_id_ - seg->first_id) % kSparseEvery == 0) seg->sparse.emplace_back(next_id_, seg->bytes);
    seg->bytes += size;
    ++next_id_;
    seg->end_id = next_id_;
    if (pending_.size() >= kWriteChunkBytes) write_pending_locked();
  }
}

void DurableQueue::sync_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    dirty_cv_.wait(lock, [&] { return stopping_ || (next_id_ > durable_end_ && io_error_.empty()); });
    if (stopping_) return;
    if (options_.group_commit_ms > 0) {
      // Gather: appends arriving meanwhile share this fdatasync.
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.group_commit_ms));
      lock.lock();
    }
    if (!io_error_.empty()) continue;
    try {
      write_pending_locked();
    } catch (const fileio::IoError& e) {
      fail_locked(e);
      continue;
    }
    const std::shared_ptr<File> file = writer_;
    const std::uint64_t end = written_end_;
    lock.unlock();
    std::optional<fileio::IoError> error;
    try {
      file->datasync();
    } catch (const fileio::IoError& e) {
      error = e;
    }
    lock.lock();
    if (error) {
      fail_locked(*error);  // never retried: see fail_locked
      continue;
    }
    if (end > durable_end_) {
      durable_end_ = end;
      durable_cv_.notify_all();
    }
  }
}

bool DurableQueue::wait_durable(std::uint64_t id_end, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  id_end = std::min(id_end, next_id_);
  dirty_cv_.notify_one();
  // After a disk error what is not durable yet never will be: the wait ends (false).
  const auto done = [&] { return durable_end_ >= id_end || !io_error_.empty(); };
  if (timeout == std::chrono::milliseconds::max()) {
    durable_cv_.wait(lock, done);
  } else if (!durable_cv_.wait_for(lock, timeout, done)) {
    return false;
  }
  return durable_end_ >= id_end;
}

void DurableQueue::flush() { wait_durable(next_id()); }

bool DurableQueue::wait_readable(std::uint64_t from_id, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return durable_cv_.wait_for(lock, timeout, [&] { return durable_end_ > std::max(from_id, first_unacked_); });
}

std::size_t DurableQueue::read(std::uint64_t from_id, std::size_t max_records, std::size_t max_bytes,
                               std::vector<QueueRecord>& out) {
  std::lock_guard lock(mutex_);
  const std::size_t before = out.size();
  try {
    return read_locked(from_id, max_records, max_bytes, out);
  } catch (const fileio::IoError& e) {
    // A read error is not a torn record: nothing is cut or skipped, the caller reads again later.
    std::fprintf(stderr, "durable queue: %s (will read again)\n", e.what());
    return out.size() - before;
  }
}

std::size_t DurableQueue::read_locked(std::uint64_t from_id, std::size_t max_records, std::size_t max_bytes,
                                      std::vector<QueueRecord>& out) {
  std::size_t taken = 0, bytes = 0;
  from_id = std::max(from_id, first_unacked_);
  for (std::size_t i = 0; i < segments_.size() && taken < max_records; ++i) {
    Segment& seg = *segments_[i];
    if (seg.end_id <= from_id) continue;
    if (seg.first_id >= durable_end_) break;
    const std::uint64_t stop_id = std::min(seg.end_id, durable_end_);
    // Start at the indexed position at or before from_id.
    std::uint64_t offset = kMagicBytes;
    auto it = std::upper_bound(seg.sparse.begin(), seg.sparse.end(), from_id,
                               [](std::uint64_t id, const auto& e) { return id < e.first; });
    if (it != seg.sparse.begin()) offset = std::prev(it)->second;
    // Only bytes already write()n are in the file; durable ones are all written.
    RecordScanner scanner(*seg.file, offset, seg.bytes - (segments_.size() - 1 == i ? pending_.size() : 0));
    std::uint64_t id = 0;
    std::int64_t ms = 0;
    std::string_view payload;
    while (taken < max_records && (taken == 0 || bytes < max_bytes)) {
      const auto r = scanner.next(id, ms, payload);
      if (r != RecordScanner::Result::record) {
        if (r == RecordScanner::Result::corrupt)
          std::fprintf(stderr, "durable queue: %s: corrupt record on read; skipping the rest of the segment\n",
                       seg.path.c_str());
        break;
      }
      if (id >= stop_id) break;
      if (id < from_id) continue;
      QueueRecord record{id, ms, {}};
      if (!seal_) {
        record.payload = payload;
      } else if (!seal_->open(payload, payload.data() - RecordSeal::kBoundBytes, record.payload)) {
        std::fprintf(stderr, "durable queue: %s: record %llu fails authentication (tampered); not delivered, skipping the rest of the segment\n",
                     seg.path.c_str(), static_cast<unsigned long long>(id));
        break;
      }
      bytes += record.payload.size();
      out.push_back(std::move(record));
      ++taken;
      from_id = id + 1;
    }
    if (taken > 0 && bytes >= max_bytes) break;
  }
  return taken;
}

void DurableQueue::ack_until(std::uint64_t id_end) {
  std::lock_guard lock(mutex_);
  id_end = std::min(id_end, next_id_);
  if (id_end <= first_unacked_) return;
  first_unacked_ = id_end;
  try {
    drop_acked_segments_locked();
    // Losing an acknowledgement only means a redelivery the server deduplicates: no fsync here.
    if (first_unacked_ != saved_first_unacked_) save_meta_locked(false);
  } catch (const fileio::IoError& e) {
    fail_locked(e);  // the acknowledgement holds in memory; on disk it may be redelivered
  }
}

DurableQueueStats DurableQueue::stats() const {
  std::lock_guard lock(mutex_);
  DurableQueueStats s;
  s.next_id = next_id_;
  s.durable_end = durable_end_;
  s.first_unacked = first_unacked_;
  s.depth_records = next_id_ - first_unacked_;
  for (const auto& seg : segments_) {
    s.disk_bytes += seg->bytes;
    if (seg->end_id > first_unacked_ && s.oldest_unacked_appended_ms == 0 && seg->end_id > seg->first_id) {
      // Read the header of the oldest unacknowledged record.
      if (first_unacked_ < durable_end_) {
        auto* self = const_cast<DurableQueue*>(this);
        std::vector<QueueRecord> one;
        try {
          if (self->read_locked(first_unacked_, 1, 1, one) == 1) s.oldest_unacked_appended_ms = one[0].appended_ms;
        } catch (const fileio::IoError&) {
          s.oldest_unacked_appended_ms = wall_ms();  // unknown this time: the age reads 0
        }
      } else {
        s.oldest_unacked_appended_ms = wall_ms();
      }
    }
  }
  s.segments = segments_.size();
  s.evicted_records = evicted_records_;
  s.recovered_truncated_bytes = recovered_truncated_bytes_;
  s.io_error = io_error_;
  return s;
}

std::uint64_t DurableQueue::next_id() const {
  std::lock_guard lock(mutex_);
  return next_id_;
}

std::uint64_t DurableQueue::first_unacked() const {
  std::lock_guard lock(mutex_);
  return first_unacked_;
}

}  // namespace oee::edge
