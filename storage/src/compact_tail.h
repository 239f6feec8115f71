#pragma once
// The events of a machine's in-memory tail (docs/storage.md, "Tail"), kept in the compact form of
// the event blocks (event_block_codec.h: varints, the source as its integer id) and turned back into
// Events only when the engine reads them (once per settled hour, or for an out-of-order batch). An
// Event is about 300 bytes of strings and fields; a counter reading encoded is about 15, and at 1,000
// machines sending two a second the tail holds millions of them (bench/bench_store_tail.cpp).
#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "event_block_codec.h"
#include "signs_of_life.h"
#include "source_identity.h"

namespace oee::storage {

class CompactTail {
 public:
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  // The latest ts of the events kept (kTimeMin: none).
  TimeMs max_ts() const { return max_ts_; }
  // Heap bytes held: what the tail costs in memory.
  std::size_t bytes() const { return bytes_.capacity(); }

  void clear() {
    std::string().swap(bytes_);
    count_ = 0;
    max_ts_ = kTimeMin;
    last_two_ = {kNone, kNone};
  }

  // Appends `events` (in arrival order; src_ids[i] the source id of events[i], 0: none) and keeps
  // their signs of life bare as keep_signs_bare does from the last two kept: a run of signs goes on
  // across batches. `events` is consumed.
  void append(std::vector<Event>& events, std::span<const std::int64_t> src_ids, DurationMs no_data_after_ms) {
    std::vector<Event> window;
    std::vector<std::int64_t> ids;  // of the window's events that are not signs, in order
    window.reserve(events.size() + 2);
    const std::size_t cut = last_two_[0] != kNone ? last_two_[0] : last_two_[1] != kNone ? last_two_[1] : bytes_.size();
    BlockReader r(std::string_view(bytes_).substr(cut));
    while (!r.done()) {
      std::int64_t id = 0;
      window.push_back(r.event(id));
      if (!is_sign(window.back())) ids.push_back(id);
      --count_;
    }
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (!is_sign(events[i])) ids.push_back(src_ids[i]);
      window.push_back(std::move(events[i]));
    }
    keep_signs_bare(window, 0, no_data_after_ms);
    bytes_.resize(cut);
    last_two_ = {kNone, kNone};
    std::size_t next_id = 0;
    for (const Event& e : window) push(e, is_sign(e) ? 0 : ids[next_id++]);
  }

  // Keeps only the events at or after t (a settled hour moved on); the order stays.
  void keep_from(TimeMs t) {
    std::string kept;
    const std::string all = std::move(bytes_);
    clear();
    BlockReader r(all);
    while (!r.done()) {
      const char* start = r.position();
      std::int64_t id = 0;
      const TimeMs ts = r.event(id).ts;
      if (ts < t) continue;
      note(kept.size(), ts);
      kept.append(start, r.position());
    }
    bytes_ = std::move(kept);
  }

  // Appends every event to `out` with its source (name_of(id): const SourceName*, nullptr: none)
  // and no machine path, as the engine reads them.
  template <class NameOf>
  void decode(std::vector<Event>& out, const NameOf& name_of) const {
    BlockReader r(bytes_);
    while (!r.done()) {
      std::int64_t id = 0;
      Event e = r.event(id);
      if (const SourceName* s = id != 0 ? name_of(id) : nullptr) {
        e.src = s->src;
        e.inc = s->inc;
      }
      out.push_back(std::move(e));
    }
  }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  static bool is_sign(const Event& e) { return e.type == EventType::heartbeat || e.type == EventType::sample; }

  void push(const Event& e, std::int64_t src_id) {
    writer_.clear();
    writer_.event(e, src_id);
    note(bytes_.size(), e.ts);
    bytes_.append(writer_.bytes());
  }
  // A record of `ts` starts at `offset`.
  void note(std::size_t offset, TimeMs ts) {
    ++count_;
    max_ts_ = std::max(max_ts_, ts);
    last_two_ = {last_two_[1], offset};
  }

  std::string bytes_;
  std::size_t count_ = 0;
  TimeMs max_ts_ = kTimeMin;
  // Where the last two records start (kNone: fewer): appends recompact from there.
  std::array<std::size_t, 2> last_two_{kNone, kNone};
  BlockWriter writer_;
};

}  // namespace oee::storage
