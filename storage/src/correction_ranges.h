#pragma once
// Corrections in the stores (both): a correction is kept by the range it corrects, not by the
// instant it was made, and every history a store builds takes those overlapping its events, so a
// correction made long after a window changes that window's figures like the engine's.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "oee/core/event.h"

namespace oee::storage {

// The end of what a correction corrects: its range's end, or the instant after the one it names.
inline TimeMs corrected_until(const Event& e) {
  return e.correction == CorrectionKind::reclassify ? std::max(e.until, e.at + 1) : e.at + 1;
}

// The earliest instant of `events` (kTimeMax: none): a history built from them starts there, and
// a correction ending before it corrects nothing in it.
inline TimeMs earliest_ts(const std::vector<Event>& events) {
  TimeMs lo = kTimeMax;
  for (const Event& e : events) lo = std::min(lo, e.ts);
  return lo;
}

// Moves the corrections out of `events` into the returned list, the order of the rest kept.
inline std::vector<Event> take_corrections(std::vector<Event>& events) {
  std::vector<Event> out;
  auto rest = std::stable_partition(events.begin(), events.end(), [](const Event& e) { return e.type != EventType::correction; });
  std::move(rest, events.end(), std::back_inserter(out));
  events.erase(rest, events.end());
  return out;
}

// Drops the source ids of the corrections of `events` (ids[i]: the source of events[i]), so that
// they stay beside the events take_corrections leaves.
inline void drop_correction_sources(const std::vector<Event>& events, std::vector<std::int64_t>& ids) {
  if (ids.size() != events.size()) return;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < events.size(); ++i)
    if (events[i].type != EventType::correction) ids[kept++] = ids[i];
  ids.resize(kept);
}

}  // namespace oee::storage
