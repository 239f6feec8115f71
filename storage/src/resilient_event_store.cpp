#include "oee/storage/resilient_store.h"

#include <fcntl.h>

#include <bit>
#include <cstdio>
#include <cstring>

#include "oee/fileio/file.h"
#include "oee/storage/conflicts.h"
#include "correction_event_slots.h"
#include "run_event_slots.h"

namespace oee::storage {

namespace {

constexpr std::size_t kMaxCachedWindows = 100'000;
constexpr std::size_t kMaxPendingLetters = 10'000;
constexpr std::uint32_t kMaxRecordBytes = 256u << 20;

// Spill records: [u32 length][u64 checksum][payload]; the payload is received_at, the event count
// and the events. A torn last record (a crash while writing) fails its checksum and is dropped: it
// was never acknowledged.
void put_u64(std::string& out, std::uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }
void put_str(std::string& out, const std::string& s) {
  const std::uint32_t n = static_cast<std::uint32_t>(s.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  out += s;
}
std::uint64_t checksum(std::string_view bytes) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool ok() const { return ok_; }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    if (b_.size() - pos_ < 8) return fail();
    std::memcpy(&v, b_.data() + pos_, 8);
    pos_ += 8;
    return v;
  }
  std::string str() {
    std::uint32_t n = 0;
    if (b_.size() - pos_ < 4) return fail(), std::string();
    std::memcpy(&n, b_.data() + pos_, 4);
    pos_ += 4;
    if (b_.size() - pos_ < n) return fail(), std::string();
    std::string s(b_.substr(pos_, n));
    pos_ += n;
    return s;
  }

 private:
  std::uint64_t fail() {
    ok_ = false;
    pos_ = b_.size();
    return 0;
  }
  std::string_view b_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

std::string encode_batch(std::span<const Event> events, TimeMs received_at) {
  std::string p;
  put_u64(p, static_cast<std::uint64_t>(received_at));
  put_u64(p, events.size());
  for (const Event& raw : events) {
    Event slotted;
    const Event& e = raw.type == EventType::run          ? (slotted = run_in_slots(raw))
                     : raw.type == EventType::correction ? (slotted = correction_in_slots(raw))
                                                         : raw;
    // A sample rides in the value (its double's bits) and product (its name) slots, as in PostgreSQL.
    const bool sample = e.type == EventType::sample;
    for (std::int64_t v : {e.ts, static_cast<std::int64_t>(e.type), static_cast<std::int64_t>(e.counter), e.seq, e.good,
                           e.reject, sample ? std::bit_cast<std::int64_t>(e.sample_value) : e.value, e.rollover, e.at})
      put_u64(p, static_cast<std::uint64_t>(v));
    for (const std::string* s : {&e.machine, &e.src, &e.state, &e.reason, sample ? &e.sample_name : &e.product}) put_str(p, *s);
  }
  return p;
}

bool decode_batch(std::string_view payload, std::vector<Event>& out, TimeMs& received_at) {
  Reader r(payload);
  received_at = static_cast<TimeMs>(r.u64());
  const std::uint64_t n = r.u64();
  if (!r.ok() || n > payload.size()) return false;
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    Event e;
    e.ts = static_cast<TimeMs>(r.u64());
    e.type = static_cast<EventType>(r.u64());
    e.counter = static_cast<CounterName>(r.u64());
    e.seq = static_cast<std::int64_t>(r.u64());
    e.good = static_cast<std::int64_t>(r.u64());
    e.reject = static_cast<std::int64_t>(r.u64());
    e.value = static_cast<std::int64_t>(r.u64());
    e.rollover = static_cast<std::int64_t>(r.u64());
    e.at = static_cast<TimeMs>(r.u64());
    e.machine = r.str();
    e.src = r.str();
    e.state = r.str();
    e.reason = r.str();
    e.product = r.str();
    if (e.type == EventType::sample) {
      e.sample_name = std::move(e.product);
      e.sample_value = std::bit_cast<double>(e.value);
      e.product.clear();
      e.value = 0;
    }
    if (e.type == EventType::run) run_from_slots(e);
    if (e.type == EventType::correction) correction_from_slots(e);
    out.push_back(std::move(e));
  }
  return r.ok();
}

struct SpilledBatch {
  std::vector<Event> events;
  TimeMs received_at = 0;
  std::uint64_t end = 0;  // file offset after its record
};

// The whole records of the spill from `offset`, stopping before `end`, after about `max_bytes`
// (always at least one record), or at the first torn or corrupt one. Returns the offset after the
// last record read.
std::uint64_t read_spill(const fileio::File& file, std::uint64_t offset, std::uint64_t end, std::uint64_t max_bytes,
                         std::vector<SpilledBatch>& out) {
  const std::uint64_t start = offset;
  std::string payload;
  while (end - offset >= 12 && (offset == start || offset - start < max_bytes)) {
    char header[12];
    if (file.read_at(header, 12, offset) != 12) break;
    std::uint32_t len;
    std::uint64_t sum;
    std::memcpy(&len, header, 4);
    std::memcpy(&sum, header + 4, 8);
    if (len > kMaxRecordBytes || end - offset - 12 < len) break;
    payload.resize(len);
    if (file.read_at(payload.data(), len, offset + 12) != len || checksum(payload) != sum) break;
    SpilledBatch batch;
    if (!decode_batch(payload, batch.events, batch.received_at)) break;
    offset += 12 + len;
    batch.end = offset;
    out.push_back(std::move(batch));
  }
  return offset;
}

}  // namespace

ResilientEventStore::ResilientEventStore(Opener open, ResilienceOptions options)
    : open_(std::move(open)), options_(std::move(options)), open_wait_ms_(options_.open_wait_ms_min) {
  if (options_.spill_path.empty()) throw std::invalid_argument("resilient store: no spill path");
  try {
    open_spill();
  } catch (const fileio::IoError& e) {
    throw std::runtime_error(std::string("resilient store: cannot open the spill: ") + e.what());
  }
  try {
    inner_ = open_();
    inner_name_ = inner_->describe();
  } catch (const StoreUnreachable& e) {
    failed(e);
  }
  if (options_.replay_in_background) replayer_ = std::thread([this] { replay_in_background(); });
}

ResilientEventStore::~ResilientEventStore() {
  if (!replayer_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  spill_grew_.notify_all();
  replayer_.join();
}

// Sleeps while there is nothing to replay or the breaker is open; otherwise probes and replays, as
// a call would.
void ResilientEventStore::replay_in_background() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (status_.spill_bytes == 0 && pending_letters_.empty()) {
      spill_grew_.wait(lock);
    } else if (status_.breaker == BreakerState::open && std::chrono::steady_clock::now() < open_until_) {
      spill_grew_.wait_until(lock, open_until_);
    } else {
      try {
        catch_up_locked();
      } catch (const std::exception& e) {
        // Not the database being away (a poison batch?): the callers' next appends see it too.
        std::fprintf(stderr, "resilient store: replaying the spill: %s\n", e.what());
        spill_grew_.wait_for(lock, std::chrono::milliseconds(options_.open_wait_ms_max));
      }
    }
  }
}

void ResilientEventStore::open_spill() {
  spill_ = std::make_unique<fileio::File>(options_.spill_path, O_RDWR | O_CREAT, 0600);
  // Events spilled by a previous run that stopped before catching up, counted in bounded chunks.
  const std::uint64_t size = spill_->size();
  std::uint64_t good_end = 0;
  for (std::vector<SpilledBatch> chunk;; chunk.clear()) {
    const std::uint64_t next = read_spill(*spill_, good_end, size, options_.spill_drain_bytes, chunk);
    if (next == good_end) break;
    for (const SpilledBatch& b : chunk) status_.spilled_events += static_cast<std::int64_t>(b.events.size());
    good_end = next;
  }
  if (good_end < size) {
    // A torn tail (a crash while writing: never acknowledged). Cut it off before anything is
    // appended after it, or the records appended later would be unreachable behind the tear.
    std::fprintf(stderr, "resilient store: %s: cut %llu bytes of a torn or corrupt tail\n", options_.spill_path.c_str(),
                 static_cast<unsigned long long>(size - good_end));
    spill_->truncate(good_end);
    spill_->sync();
  }
  status_.spill_bytes = good_end;
}

bool ResilientEventStore::allowed() {
  if (status_.breaker == BreakerState::closed) return true;
  if (status_.breaker == BreakerState::open && std::chrono::steady_clock::now() < open_until_) return false;
  status_.breaker = BreakerState::half_open;  // one probe
  return true;
}

void ResilientEventStore::succeeded() {
  status_.breaker = BreakerState::closed;
  status_.consecutive_failures = 0;
  open_wait_ms_ = options_.open_wait_ms_min;
  status_.stale = false;
  status_.stale_reads = 0;
}

void ResilientEventStore::failed(const std::exception& e) {
  status_.last_error = e.what();
  ++status_.consecutive_failures;
  if (status_.breaker == BreakerState::half_open || status_.consecutive_failures >= options_.failures_to_open) {
    status_.breaker = BreakerState::open;
    open_until_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(open_wait_ms_);
    open_wait_ms_ = std::min(open_wait_ms_ * 2, options_.open_wait_ms_max);
  }
}

EventStore& ResilientEventStore::inner() {
  if (!inner_) {
    inner_ = open_();
    inner_name_ = inner_->describe();
  }
  return *inner_;
}

void ResilientEventStore::drain() {
  EventStore& s = inner();
  if (!pending_letters_.empty()) {
    for (const DeadLetter& l : pending_letters_) s.add_dead_letter(l);
    pending_letters_.clear();
  }
  if (status_.spill_bytes == 0) return;
  // Replayed in order, a bounded chunk at a time; if this fails half way, the next replay goes on
  // from the last batch the database took (after a restart: from the start, and the store's dedup
  // skips what already arrived).
  while (drained_bytes_ < status_.spill_bytes) {
    std::vector<SpilledBatch> chunk;
    if (read_spill(*spill_, drained_bytes_, status_.spill_bytes, options_.spill_drain_bytes, chunk) == drained_bytes_) {
      // Every record was whole when it was acknowledged: the disk corrupted it since.
      std::fprintf(stderr, "resilient store: %s: corrupt record at byte %llu; %llu spilled bytes after it are dropped\n",
                   options_.spill_path.c_str(), static_cast<unsigned long long>(drained_bytes_),
                   static_cast<unsigned long long>(status_.spill_bytes - drained_bytes_));
      break;
    }
    for (const SpilledBatch& b : chunk) {
      // What the server would have done had the database taken the batch at once: events sent
      // again under a stored identity with other content are kept as conflicts, never dropped.
      const AppendResult r = s.append(b.events, b.received_at);
      if (!r.identity_duplicates.empty()) s.add_conflicts(find_conflicts(s, b.events, r.identity_duplicates, b.received_at));
      drained_bytes_ = b.end;
      status_.spilled_events -= static_cast<std::int64_t>(b.events.size());
    }
  }
  spill_->truncate(0);
  spill_->sync();
  drained_bytes_ = 0;
  status_.spilled_events = 0;
  status_.spill_bytes = 0;
}

void ResilientEventStore::spill(std::span<const Event> events, TimeMs received_at) {
  const std::string payload = encode_batch(events, received_at);
  if (status_.spill_bytes + payload.size() + 12 > options_.spill_bytes_max || payload.size() > kMaxRecordBytes)
    throw StoreUnavailable("storage unavailable (" + status_.last_error + ") and the local spill is full (" +
                           std::to_string(status_.spill_bytes) + " bytes)");
  std::string record;
  const std::uint32_t len = static_cast<std::uint32_t>(payload.size());
  record.append(reinterpret_cast<const char*>(&len), 4);
  put_u64(record, checksum(payload));
  record += payload;
  const std::uint64_t at = status_.spill_bytes;
  try {
    spill_->write_at(record.data(), record.size(), at);
    spill_->datasync();
  } catch (const fileio::IoError& e) {
    // Not acknowledged: neither its torn part (a short write) nor the record whose sync failed
    // (its pages may be gone) stays; the next record is written over it. The sync is never retried.
    try {
      spill_->truncate(at);
    } catch (const fileio::IoError& t) {
      std::fprintf(stderr, "resilient store: %s (the next open cuts the torn tail)\n", t.what());
    }
    throw StoreUnavailable(std::string("storage unavailable and the spill failed: ") + e.what());
  }
  status_.spill_bytes += record.size();
  status_.spilled_events += static_cast<std::int64_t>(events.size());
  spill_grew_.notify_one();
}

AppendResult ResilientEventStore::append(std::span<const Event> events, TimeMs received_at) {
  std::lock_guard lock(mutex_);
  if (allowed()) {
    try {
      drain();
      const AppendResult r = inner().append(events, received_at);
      succeeded();
      return r;
    } catch (const StoreUnreachable& e) {
      failed(e);
    }
  }
  spill(events, received_at);
  // Whether they are new is known only when they reach the database.
  return {events.size(), 0, {}};
}

bool ResilientEventStore::catch_up() {
  std::lock_guard lock(mutex_);
  return catch_up_locked();
}

bool ResilientEventStore::catch_up_locked() {
  if (status_.spill_bytes == 0 && pending_letters_.empty()) return true;
  if (!allowed()) return false;
  try {
    drain();
    succeeded();
    return true;
  } catch (const StoreUnreachable& e) {
    failed(e);
    return false;
  }
}

template <class T, class F>
T ResilientEventStore::guarded(F&& f) {
  if (!allowed()) throw StoreUnavailable("storage unavailable (circuit open): " + status_.last_error);
  try {
    drain();
    T out = f(inner());
    succeeded();
    return out;
  } catch (const StoreUnreachable& e) {
    failed(e);
    throw StoreUnavailable("storage unavailable: " + std::string(e.what()));
  }
}

std::vector<Event> ResilientEventStore::machine_events(std::string_view machine, TimeMs from, TimeMs to) {
  std::lock_guard lock(mutex_);
  return guarded<std::vector<Event>>([&](EventStore& s) { return s.machine_events(machine, from, to); });
}

std::vector<Event> ResilientEventStore::machine_corrections(std::string_view machine, TimeMs from, TimeMs to) {
  std::lock_guard lock(mutex_);
  return guarded<std::vector<Event>>([&](EventStore& s) { return s.machine_corrections(machine, from, to); });
}

std::vector<Event> ResilientEventStore::machine_run_events(std::string_view machine, TimeMs to) {
  std::lock_guard lock(mutex_);
  return guarded<std::vector<Event>>([&](EventStore& s) { return s.machine_run_events(machine, to); });
}

MachineHistory ResilientEventStore::machine_history(const MachineSpec& machine, TimeMs from, TimeMs to) {
  std::lock_guard lock(mutex_);
  return guarded<MachineHistory>([&](EventStore& s) { return s.machine_history(machine, from, to); });
}

KpiTotals ResilientEventStore::totals_or_last_known(std::string cache_key, TimeMs from, TimeMs to,
                                                    const std::function<KpiTotals(EventStore&)>& query) {
  auto key = std::make_tuple(std::move(cache_key), from, to);
  try {
    KpiTotals t = guarded<KpiTotals>(query);
    if (last_totals_.size() >= kMaxCachedWindows) last_totals_.clear();
    last_totals_[std::move(key)] = t;
    return t;
  } catch (const StoreUnavailable&) {
    auto it = last_totals_.find(key);
    if (it == last_totals_.end()) throw;
    status_.stale = true;
    ++status_.stale_reads;
    return it->second;
  }
}

KpiTotals ResilientEventStore::machine_totals(const MachineSpec& machine, TimeMs from, TimeMs to, TimeMs horizon) {
  std::lock_guard lock(mutex_);
  return totals_or_last_known(machine.path, from, to,
                              [&](EventStore& s) { return s.machine_totals(machine, from, to, horizon); });
}

KpiTotals ResilientEventStore::machines_totals(std::span<const MachineSpec* const> machines, TimeMs from, TimeMs to,
                                               TimeMs horizon) {
  std::lock_guard lock(mutex_);
  // A group's cache key is its machine paths joined by a character paths cannot hold.
  std::string paths;
  for (const MachineSpec* m : machines) (paths += m->path) += '\n';
  return totals_or_last_known(std::move(paths), from, to,
                              [&](EventStore& s) { return s.machines_totals(machines, from, to, horizon); });
}

std::int64_t ResilientEventStore::event_count() {
  std::lock_guard lock(mutex_);
  try {
    last_event_count_ = guarded<std::int64_t>([](EventStore& s) { return s.event_count(); });
    return *last_event_count_ + status_.spilled_events;
  } catch (const StoreUnavailable&) {
    if (!last_event_count_) throw;
    status_.stale = true;
    return *last_event_count_ + status_.spilled_events;
  }
}

std::vector<SourceStats> ResilientEventStore::sources() {
  std::lock_guard lock(mutex_);
  return guarded<std::vector<SourceStats>>([](EventStore& s) { return s.sources(); });
}

std::int64_t ResilientEventStore::add_dead_letter(const DeadLetter& letter) {
  std::lock_guard lock(mutex_);
  try {
    return guarded<std::int64_t>([&](EventStore& s) { return s.add_dead_letter(letter); });
  } catch (const StoreUnavailable&) {
    // Kept in memory until the database is back (bounded: the oldest give way).
    if (pending_letters_.size() >= kMaxPendingLetters) pending_letters_.erase(pending_letters_.begin());
    pending_letters_.push_back(letter);
    spill_grew_.notify_one();
    return 0;
  }
}

std::vector<DeadLetter> ResilientEventStore::dead_letters(std::int64_t before_id, std::size_t limit) {
  std::lock_guard lock(mutex_);
  return guarded<std::vector<DeadLetter>>([&](EventStore& s) { return s.dead_letters(before_id, limit); });
}

std::int64_t ResilientEventStore::dead_letter_count() {
  std::lock_guard lock(mutex_);
  return guarded<std::int64_t>([](EventStore& s) { return s.dead_letter_count(); });
}

void ResilientEventStore::add_conflicts(std::span<const Conflict> list) {
  try {
    std::lock_guard lock(mutex_);
    guarded<int>([&](EventStore& s) {
      s.add_conflicts(list);
      return 0;
    });
  } catch (const StoreUnavailable&) {
    // Kept visible all the same: as dead letters, which wait in memory for the database.
    for (const Conflict& c : list)
      add_dead_letter({0, c.received, "conflict", c.received_json,
                       "conflict: " + c.src + " inc '" + c.incarnation + "' seq " + std::to_string(c.seq) +
                           " was stored with other content: " + c.stored_json});
  }
}

std::vector<Conflict> ResilientEventStore::conflicts(std::int64_t before_id, std::size_t limit) {
  std::lock_guard lock(mutex_);
  return guarded<std::vector<Conflict>>([&](EventStore& s) { return s.conflicts(before_id, limit); });
}

std::int64_t ResilientEventStore::conflict_count() {
  std::lock_guard lock(mutex_);
  return guarded<std::int64_t>([](EventStore& s) { return s.conflict_count(); });
}

// A comment is an operator's answer: refused (StoreUnavailable) rather than kept only in memory.
std::int64_t ResilientEventStore::add_stop_comment(const StopComment& comment) {
  std::lock_guard lock(mutex_);
  return guarded<std::int64_t>([&](EventStore& s) { return s.add_stop_comment(comment); });
}

std::int64_t ResilientEventStore::pseudonymise_comment_author(std::string_view name, std::string_view pseudonym) {
  std::lock_guard lock(mutex_);
  return guarded<std::int64_t>([&](EventStore& s) { return s.pseudonymise_comment_author(name, pseudonym); });
}

std::vector<StopComment> ResilientEventStore::stop_comments(std::string_view machine, TimeMs from, TimeMs to) {
  std::lock_guard lock(mutex_);
  return guarded<std::vector<StopComment>>([&](EventStore& s) { return s.stop_comments(machine, from, to); });
}

// Alerts, like comments, are refused (StoreUnavailable) rather than kept only in memory: the
// monitor tries again at its next evaluation.
bool ResilientEventStore::fire_alert(const Alert& alert) {
  std::lock_guard lock(mutex_);
  return guarded<bool>([&](EventStore& s) { return s.fire_alert(alert); });
}

std::optional<Alert> ResilientEventStore::resolve_alert(std::string_view id, TimeMs at, AlertResolution why) {
  std::lock_guard lock(mutex_);
  return guarded<std::optional<Alert>>([&](EventStore& s) { return s.resolve_alert(id, at, why); });
}

std::optional<Alert> ResilientEventStore::acknowledge_alert(std::string_view id, std::optional<TimeMs> fired, std::string_view user,
                                                            TimeMs at) {
  std::lock_guard lock(mutex_);
  return guarded<std::optional<Alert>>([&](EventStore& s) { return s.acknowledge_alert(id, fired, user, at); });
}

std::vector<Alert> ResilientEventStore::alerts() {
  std::lock_guard lock(mutex_);
  return guarded<std::vector<Alert>>([](EventStore& s) { return s.alerts(); });
}

RetentionResult ResilientEventStore::apply_retention(TimeMs now) {
  std::lock_guard lock(mutex_);
  return guarded<RetentionResult>([&](EventStore& s) { return s.apply_retention(now); });
}

std::string ResilientEventStore::describe() const {
  std::lock_guard lock(mutex_);
  return (inner_name_.empty() ? std::string("(not connected)") : inner_name_) + " with spill " + options_.spill_path;
}

ResilienceStatus ResilientEventStore::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

}  // namespace oee::storage
