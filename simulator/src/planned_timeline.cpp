#include "planned_timeline.h"

#include <algorithm>
#include <utility>

namespace oee::simulator {
namespace {

constexpr DurationMs kFetchChunkMs = 7 * kMsPerDay;
// How far ahead the timeline looks for the end of a stretch before it reports a horizon instead
// (a plant with no planned time at all must not make the simulator search forever).
constexpr DurationMs kLookAheadMs = 35 * kMsPerDay;

}  // namespace

PlannedTimeline::PlannedTimeline(ShiftCalendar calendar, TimeMs start)
    : calendar_(std::move(calendar)), covered_to_(start) {
  fetch_next_chunk();
}

void PlannedTimeline::fetch_next_chunk() {
  const TimeMs from = covered_to_;
  const TimeMs to = from + kFetchChunkMs;
  for (const Interval& iv : calendar_.planned_intervals(from, to)) {
    const Interval clipped{std::max(iv.start, from), std::min(iv.end, to)};
    if (clipped.end <= clipped.start) continue;
    if (!intervals_.empty() && intervals_.back().end >= clipped.start) {
      intervals_.back().end = std::max(intervals_.back().end, clipped.end);
    } else {
      intervals_.push_back(clipped);
    }
  }
  covered_to_ = to;
}

PlannedTimeline::Stretch PlannedTimeline::stretch_at(TimeMs t) {
  while (!intervals_.empty() && intervals_.front().end <= t) intervals_.pop_front();
  while (covered_to_ <= t) {
    fetch_next_chunk();
    while (!intervals_.empty() && intervals_.front().end <= t) intervals_.pop_front();
  }
  const TimeMs horizon = t + kLookAheadMs;
  for (;;) {
    if (!intervals_.empty() && intervals_.front().start <= t) {
      // Planned: the stretch may continue into the next chunk.
      if (intervals_.front().end < covered_to_ || covered_to_ >= horizon) {
        return {true, intervals_.front().end};
      }
    } else if (!intervals_.empty()) {
      return {false, intervals_.front().start};
    } else if (covered_to_ >= horizon) {
      return {false, covered_to_};
    }
    fetch_next_chunk();
  }
}

std::string_view PlannedTimeline::downtime_window_at(TimeMs t) const {
  const DowntimeWindow* w = calendar_.downtime_window_at(t);
  return w != nullptr ? std::string_view(w->name) : std::string_view();
}

}  // namespace oee::simulator
