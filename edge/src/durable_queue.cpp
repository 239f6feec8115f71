#include "oee/edge/durable_queue.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace oee::edge {
namespace {

// Segment file: 8-byte magic, then records. Record: u32 payload length, u32 CRC32C (of the 20
// header bytes after it plus the length, and the payload), u64 id, i64 appended_ms, payload.
constexpr char kSegmentMagic[8] = {'O', 'E', 'E', 'Q', 'L', 'O', 'G', '1'};
constexpr std::size_t kMagicBytes = sizeof(kSegmentMagic);
constexpr std::size_t kHeaderBytes = 24;
constexpr std::uint64_t kSparseEvery = 512;  // index one record position in 512
constexpr std::size_t kWriteChunkBytes = 1u << 20;
constexpr std::uint64_t kMetaMagic = 0x4154454d51454f31ull;  // "1OEQMETA"

std::runtime_error io_error(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

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

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw io_error("open directory", dir);
  ::fsync(fd);
  ::close(fd);
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Sequential buffered reading of records from a segment file, verifying each one.
class RecordScanner {
 public:
  RecordScanner(int fd, std::uint64_t offset, std::uint64_t limit)
      : fd_(fd), offset_(offset), limit_(limit) {}

  enum class Result { record, end, corrupt };

  // On `record`, header/payload point into the buffer until the next call.
  Result next(std::uint64_t& id, std::int64_t& appended_ms, std::string_view& payload) {
    if (offset_ >= limit_) return Result::end;
    if (!ensure(kHeaderBytes)) return limit_ - offset_ < kHeaderBytes ? Result::corrupt : Result::corrupt;
    const char* h = buffer_.data() + pos_;
    const auto length = load<std::uint32_t>(h);
    const auto crc = load<std::uint32_t>(h + 4);
    if (length > kMaxQueueRecordBytes || offset_ + kHeaderBytes + length > limit_) return Result::corrupt;
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
      const ssize_t n = ::pread(fd_, buffer_.data() + end_, room, static_cast<off_t>(file_pos));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      end_ += static_cast<std::size_t>(n);
      file_pos += static_cast<std::uint64_t>(n);
    }
    return end_ - pos_ >= need;
  }

  int fd_;
  std::uint64_t offset_;  // file offset of buffer_[pos_]
  std::uint64_t limit_;
  std::uint64_t record_offset_ = 0;
  std::string buffer_;
  std::size_t pos_ = 0, end_ = 0;
};

}  // namespace

struct DurableQueue::File {
  int fd = -1;
  explicit File(int f) : fd(f) {}
  ~File() {
    if (fd >= 0) ::close(fd);
  }
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
  if (options_.segment_bytes == 0)
    options_.segment_bytes = std::clamp<std::uint64_t>(options_.max_bytes / 8, 64u << 10, 64u << 20);
  if (::mkdir(options_.dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw io_error("create directory", options_.dir);
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
  write_pending_locked();
  if (writer_) ::fdatasync(writer_->fd);
  if (first_unacked_ != saved_first_unacked_) save_meta_locked(true);
}

void DurableQueue::recover() {
  // Meta: what is acknowledged and how much was evicted.
  const std::string meta_path = options_.dir + "/queue.meta";
  if (const int fd = ::open(meta_path.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    char buf[32];
    if (::pread(fd, buf, sizeof buf, 0) == 32 && load<std::uint64_t>(buf) == kMetaMagic &&
        crc32c(0, buf, 24) == load<std::uint32_t>(buf + 24)) {
      first_unacked_ = load<std::uint64_t>(buf + 8);
      evicted_records_ = load<std::uint64_t>(buf + 16);
    } else {
      std::fprintf(stderr, "durable queue: %s unreadable; redelivering from the oldest record\n",
                   meta_path.c_str());
    }
    ::close(fd);
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
    const int fd = ::open(seg->path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) throw io_error("open", seg->path);
    seg->file = std::make_shared<File>(fd);
    struct stat st {};
    ::fstat(fd, &st);
    const auto size = static_cast<std::uint64_t>(st.st_size);
    char magic[kMagicBytes] = {};
    std::uint64_t good_end = kMagicBytes;
    if (size < kMagicBytes || ::pread(fd, magic, kMagicBytes, 0) != static_cast<ssize_t>(kMagicBytes) ||
        std::memcmp(magic, kSegmentMagic, kMagicBytes) != 0) {
      // A segment torn while being created (or not ours): start it over, empty.
      if (::ftruncate(fd, 0) != 0 || !write_all(fd, kSegmentMagic, kMagicBytes)) throw io_error("rewrite", seg->path);
      recovered_truncated_bytes_ += size;
    } else {
      RecordScanner scanner(fd, kMagicBytes, size);
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
        if (::ftruncate(fd, static_cast<off_t>(good_end)) != 0) throw io_error("truncate", seg->path);
      }
    }
    ::fdatasync(fd);
    seg->bytes = std::max<std::uint64_t>(good_end, kMagicBytes);
    ::lseek(fd, static_cast<off_t>(seg->bytes), SEEK_SET);
    next = std::max({next, seg->end_id, seg->first_id});
    segments_.push_back(std::move(seg));
  }

  // Drop segments that are empty or fully acknowledged, keeping the newest one for appends.
  std::vector<std::unique_ptr<Segment>> kept;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    auto& seg = segments_[i];
    const bool last = i + 1 == segments_.size();
    if (!last && (seg->end_id == seg->first_id || seg->end_id <= first_unacked_)) {
      ::unlink(seg->path.c_str());
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

void DurableQueue::open_new_segment_locked(std::uint64_t first_id) {
  auto seg = std::make_unique<Segment>();
  seg->first_id = seg->end_id = first_id;
  seg->path = options_.dir + "/" + segment_name(first_id);
  const int fd = ::open(seg->path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error("create", seg->path);
  seg->file = std::make_shared<File>(fd);
  if (!write_all(fd, kSegmentMagic, kMagicBytes)) throw io_error("write", seg->path);
  ::fdatasync(fd);
  fsync_dir(options_.dir);  // the file name carries first_id: the next id survives a power loss
  seg->bytes = kMagicBytes;
  writer_ = seg->file;
  segments_.push_back(std::move(seg));
}

void DurableQueue::write_pending_locked() {
  if (pending_.empty()) return;
  if (!write_all(writer_->fd, pending_.data(), pending_.size()))
    throw io_error("write", segments_.back()->path);
  pending_.clear();
  written_end_ = next_id_;
}

void DurableQueue::roll_segment_locked() {
  write_pending_locked();
  if (::fdatasync(writer_->fd) != 0) throw io_error("fdatasync", segments_.back()->path);
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
    ::unlink(victim.path.c_str());
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
    ::unlink(segments_.front()->path.c_str());
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
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error("create", tmp);
  const bool ok = write_all(fd, buf.data(), buf.size()) && (!sync || ::fdatasync(fd) == 0);
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) throw io_error("write", path);
  if (sync) fsync_dir(options_.dir);
  saved_first_unacked_ = first_unacked_;
}

std::uint64_t DurableQueue::append(std::span<const std::string_view> payloads) {
  for (const auto& p : payloads)
    if (p.size() > kMaxQueueRecordBytes) throw std::invalid_argument("durable queue: record too large");
  const std::int64_t now = wall_ms();
  std::unique_lock lock(mutex_);
  if (stopping_) throw std::runtime_error("durable queue: closed");
  const std::uint64_t first = next_id_;
  for (const auto& p : payloads) {
    const std::uint64_t size = kHeaderBytes + p.size();
    Segment* seg = segments_.back().get();
    if (seg->end_id > seg->first_id && seg->bytes + size > options_.segment_bytes) {
      roll_segment_locked();
      seg = segments_.back().get();
    }
    const auto length = static_cast<std::uint32_t>(p.size());
    const std::size_t at = pending_.size();
    store(pending_, length);
    store(pending_, std::uint32_t{0});
    store(pending_, next_id_);
    store(pending_, now);
    pending_.append(p);
    const std::uint32_t crc = record_crc(pending_.data() + at, p.data(), length);
    std::memcpy(pending_.data() + at + 4, &crc, 4);
    if ((next_id_ - seg->first_id) % kSparseEvery == 0) seg->sparse.emplace_back(next_id_, seg->bytes);
    seg->bytes += size;
    ++next_id_;
    seg->end_id = next_id_;
    if (pending_.size() >= kWriteChunkBytes) write_pending_locked();
  }
  lock.unlock();
  dirty_cv_.notify_one();
  return first;
}

void DurableQueue::sync_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    dirty_cv_.wait(lock, [&] { return stopping_ || next_id_ > durable_end_; });
    if (stopping_) return;
    if (options_.group_commit_ms > 0) {
      // Gather: appends arriving meanwhile share this fdatasync.
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.group_commit_ms));
      lock.lock();
    }
    try {
      write_pending_locked();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "durable queue: %s\n", e.what());
    }
    const std::shared_ptr<File> file = writer_;
    const std::uint64_t end = written_end_;
    lock.unlock();
    const int rc = ::fdatasync(file->fd);
    lock.lock();
    if (rc != 0) {
      std::fprintf(stderr, "durable queue: fdatasync: %s (retrying)\n", std::strerror(errno));
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      lock.lock();
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
  if (timeout == std::chrono::milliseconds::max()) {
    durable_cv_.wait(lock, [&] { return durable_end_ >= id_end; });
    return true;
  }
  return durable_cv_.wait_for(lock, timeout, [&] { return durable_end_ >= id_end; });
}

void DurableQueue::flush() { wait_durable(next_id()); }

bool DurableQueue::wait_readable(std::uint64_t from_id, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return durable_cv_.wait_for(lock, timeout, [&] { return durable_end_ > std::max(from_id, first_unacked_); });
}

std::size_t DurableQueue::read(std::uint64_t from_id, std::size_t max_records, std::size_t max_bytes,
                               std::vector<QueueRecord>& out) {
  std::lock_guard lock(mutex_);
  return read_locked(from_id, max_records, max_bytes, out);
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
    RecordScanner scanner(seg.file->fd, offset, seg.bytes - (segments_.size() - 1 == i ? pending_.size() : 0));
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
      out.push_back(QueueRecord{id, ms, std::string(payload)});
      bytes += payload.size();
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
  drop_acked_segments_locked();
  // Losing an acknowledgement only means a redelivery the server deduplicates: no fsync here.
  if (first_unacked_ != saved_first_unacked_) save_meta_locked(false);
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
        if (self->read_locked(first_unacked_, 1, 1, one) == 1) s.oldest_unacked_appended_ms = one[0].appended_ms;
      } else {
        s.oldest_unacked_appended_ms = wall_ms();
      }
    }
  }
  s.segments = segments_.size();
  s.evicted_records = evicted_records_;
  s.recovered_truncated_bytes = recovered_truncated_bytes_;
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
