#include "oee/storage/conflicts.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "oee/codec/event_json.h"

namespace oee::storage {

namespace {

bool same_identity(const Event& a, const Event& b) { return a.seq == b.seq && a.src == b.src && a.inc == b.inc; }

Conflict conflict_of(const Event& received, const Event* stored, TimeMs at) {
  Conflict c;
  c.received = at;
  c.src = received.src;
  c.incarnation = received.inc;
  c.seq = received.seq;
  c.machine = received.machine;
  if (stored) c.stored_json = codec::event_to_json(*stored);
  c.received_json = codec::event_to_json(received);
  c.fingerprint = static_cast<std::int64_t>(content_fingerprint(received) ^ std::hash<std::string>{}(received.machine));
  return c;
}

}  // namespace

std::vector<Conflict> find_conflicts(EventStore& store, std::span<const Event> appended,
                                     std::span<const std::size_t> identity_duplicates, TimeMs received) {
  // By machine and hour: one read each.
  std::map<std::pair<std::string, TimeMs>, std::vector<const Event*>> groups;
  for (const std::size_t i : identity_duplicates) {
    const Event& e = appended[i];
    groups[{e.machine, floor_to(e.ts, kMsPerHour)}].push_back(&e);
  }
  std::vector<Conflict> out;
  for (const auto& [where, events] : groups) {
    const std::vector<Event> stored = store.machine_events(where.first, where.second, where.second + kMsPerHour);
    // The stored events by seq (then order): a duplicate finds its stored versions without a scan
    // of the hour each (a resent backlog brings thousands of duplicates of one machine-hour).
    std::vector<std::pair<std::int64_t, std::size_t>> by_seq;
    by_seq.reserve(stored.size());
    for (std::size_t i = 0; i < stored.size(); ++i) by_seq.emplace_back(stored[i].seq, i);
    std::sort(by_seq.begin(), by_seq.end());
    for (const Event* e : events) {
      const Event* version = nullptr;
      bool identical = false;
      auto it = std::lower_bound(by_seq.begin(), by_seq.end(), std::pair{e->seq, std::size_t{0}});
      for (; it != by_seq.end() && it->first == e->seq; ++it) {
        const Event& s = stored[it->second];
        if (!same_identity(s, *e)) continue;
        version = &s;
        if ((identical = s == *e)) break;
      }
      if (!identical) out.push_back(conflict_of(*e, version, received));
    }
  }
  return out;
}

}  // namespace oee::storage
