#include "oee/server/ingest_conflicts.h"

#include <map>
#include <string>
#include <tuple>

#include "oee/codec/event_json.h"

namespace oee::server {

namespace {

bool same_identity(const Event& a, const Event& b) { return a.seq == b.seq && a.src == b.src && a.inc == b.inc; }

storage::Conflict conflict_of(const Event& received, const Event* stored, TimeMs at) {
  storage::Conflict c;
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

std::vector<storage::Conflict> find_conflicts(storage::EventStore& store, std::span<const Event> appended,
                                     std::span<const std::size_t> identity_duplicates, TimeMs received) {
  // By machine and hour: one read each.
  std::map<std::pair<std::string, TimeMs>, std::vector<const Event*>> groups;
  for (const std::size_t i : identity_duplicates) {
    const Event& e = appended[i];
    groups[{e.machine, floor_to(e.ts, kMsPerHour)}].push_back(&e);
  }
  std::vector<storage::Conflict> out;
  for (const auto& [where, events] : groups) {
    const std::vector<Event> stored = store.machine_events(where.first, where.second, where.second + kMsPerHour);
    for (const Event* e : events) {
      const Event* version = nullptr;
      bool identical = false;
      for (const Event& s : stored) {
        if (!same_identity(s, *e)) continue;
        version = &s;
        if ((identical = s == *e)) break;
      }
      if (!identical) out.push_back(conflict_of(*e, version, received));
    }
  }
  return out;
}

}  // namespace oee::server
