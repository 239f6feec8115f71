// The SQLite store's compact tail (storage/src/compact_tail.h): it must give the engine exactly the
// events a vector of Events compacted by keep_signs_bare would (the tail before it was compact), and
// cost a small fraction of an Event per event. The store-vs-engine properties (StoreRollups.*) check
// the totals through the store.
#include "compact_tail.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <random>
#include <vector>

namespace {

using namespace oee;
using oee::storage::CompactTail;
using oee::storage::keep_signs_bare;
using oee::storage::SourceName;

const std::map<std::int64_t, SourceName> kSources{{1, {"edge-filler-01", ""}}, {2, {"edge-capper-02-long-name", "inc-7f3a"}}};

// A random event of any type, stamped near `ts`; src_id its source (0: none).
Event random_event(std::mt19937& rng, TimeMs ts, std::int64_t& src_id, std::int64_t& seq) {
  Event e;
  e.machine = "site/area/line/filler";
  e.ts = ts;
  e.type = static_cast<EventType>(rng() % 9);
  src_id = static_cast<std::int64_t>(rng() % 3);
  if (src_id != 0) {
    e.src = kSources.at(src_id).src;
    e.inc = kSources.at(src_id).inc;
    e.seq = seq++;
  }
  e.state = rng() % 2 ? "running" : "stopped";
  e.reason = e.type == EventType::reason || rng() % 4 == 0 ? "jam" : "";
  e.good = static_cast<std::int64_t>(rng() % 5);
  e.reject = static_cast<std::int64_t>(rng() % 2);
  e.counter = static_cast<CounterName>(rng() % 3);
  e.value = static_cast<std::int64_t>(rng() % 100'000);
  e.rollover = rng() % 4 == 0 ? 65'536 : 0;
  e.product = "P-" + std::to_string(rng() % 3);
  e.at = ts - static_cast<TimeMs>(rng() % 5000);
  e.sample_name = "temperature";
  e.sample_value = 20.5 + static_cast<double>(rng() % 100);
  e.run = "WO-1";
  e.quantity = 500;
  e.until = ts + 1000;
  e.by = "supervisor";
  e.why = "wrong button";
  // Only what its type encodes survives (event_block_codec.h): clear the rest as the codec would.
  storage::BlockWriter w;
  w.event(e, src_id);
  std::int64_t ignored = 0;
  Event decoded = storage::BlockReader(w.bytes()).event(ignored);
  decoded.machine = e.machine;
  decoded.src = e.src;
  decoded.inc = e.inc;
  return decoded;
}

std::vector<Event> decoded(const CompactTail& tail) {
  std::vector<Event> out;
  tail.decode(out, [](std::int64_t id) { return &kSources.at(id); });
  return out;
}

// Random batches, mostly in order with signs of life between them, some late; now and then the
// settled hour moves on (keep_from). The reference is the tail as it was: a vector of Events, the
// signs compacted from the last two kept.
void check_against_event_vector(std::uint32_t seed, DurationMs no_data_after_ms) {
  std::mt19937 rng(seed);
  CompactTail tail;
  std::vector<Event> reference;
  std::int64_t seq = 0;
  TimeMs now = 1'700'000'000'000;
  for (int batch = 0; batch < 300; ++batch) {
    std::vector<Event> events;
    std::vector<std::int64_t> ids;
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
      now += static_cast<TimeMs>(rng() % 3000);
      const TimeMs ts = rng() % 10 == 0 ? now - static_cast<TimeMs>(rng() % 20'000) : now;
      std::int64_t id = 0;
      events.push_back(random_event(rng, ts, id, seq));
      ids.push_back(id);
    }
    const std::size_t from = reference.size() > 1 ? reference.size() - 2 : 0;
    reference.insert(reference.end(), events.begin(), events.end());
    keep_signs_bare(reference, from, no_data_after_ms);
    tail.append(events, ids, no_data_after_ms);
    if (rng() % 25 == 0) {
      const TimeMs t = now - static_cast<TimeMs>(rng() % 60'000);
      std::erase_if(reference, [t](const Event& e) { return e.ts < t; });
      tail.keep_from(t);
    }
    ASSERT_EQ(tail.size(), reference.size()) << "batch " << batch;
    ASSERT_EQ(decoded(tail), reference) << "batch " << batch;
    TimeMs max_ts = kTimeMin;
    for (const Event& e : reference) max_ts = std::max(max_ts, e.ts);
    ASSERT_EQ(tail.max_ts(), max_ts);
  }
}

}  // namespace

TEST(CompactTail, DecodesToWhatAVectorOfEventsCompactedBatchByBatchHolds) {
  for (std::uint32_t seed = 1; seed <= 4; ++seed) {
    check_against_event_vector(seed, 0);
    check_against_event_vector(seed, 5000);
    check_against_event_vector(seed, 60'000);
  }
}

TEST(CompactTail, ClearedItHoldsNothing) {
  CompactTail tail;
  std::vector<Event> events(3);
  const std::vector<std::int64_t> ids(3, 0);
  tail.append(events, ids, 0);
  ASSERT_FALSE(tail.empty());
  tail.clear();
  EXPECT_TRUE(tail.empty());
  EXPECT_EQ(tail.max_ts(), kTimeMin);
  EXPECT_TRUE(decoded(tail).empty());
}

// One machine-hour as the scale run sends it: a counter reading every 500 ms from an edge (src+seq)
// and a hundred sampled tags a second, appended a second at a time.
TEST(CompactTail, AnHourOfCounterReadingsCostsUnderATenthOfTheirEvents) {
  CompactTail tail;
  const TimeMs start = 1'700'000'000'000;
  std::int64_t seq = 0;
  for (TimeMs second = 0; second < 3600; ++second) {
    std::vector<Event> events;
    for (TimeMs half = 0; half < 2; ++half) {
      Event c;
      c.ts = start + second * 1000 + half * 500;
      c.type = EventType::counter;
      c.counter = CounterName::good;
      c.value = 1000 + seq;
      c.src = kSources.at(1).src;
      c.seq = seq++;
      events.push_back(c);
      for (int tag = 0; tag < 50; ++tag) {
        Event s = c;
        s.type = EventType::sample;
        s.sample_name = "tag" + std::to_string(tag);
        s.seq = seq++;
        events.push_back(s);
      }
    }
    std::vector<std::int64_t> ids(events.size(), 1);
    tail.append(events, ids, 60'000);
  }
  ASSERT_EQ(tail.size(), 7200u) << "the samples stand beside the counter readings at their instants: all go";
  const double bytes_per_event = static_cast<double>(tail.bytes()) / static_cast<double>(tail.size());
  RecordProperty("tail_bytes_per_event", std::to_string(bytes_per_event));
  std::printf("compact tail: %.1f bytes per counter reading (sizeof(Event) %zu)\n", bytes_per_event, sizeof(Event));
  EXPECT_LT(bytes_per_event, static_cast<double>(sizeof(Event)) / 10);
}
