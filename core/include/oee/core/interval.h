#pragma once
// A half-open span of UTC instants, and the set arithmetic planned time needs.
#include <span>
#include <vector>

#include "oee/core/time.h"

namespace oee {

struct Interval {
  TimeMs start = 0;
  TimeMs end = 0;  // exclusive
  DurationMs length() const { return end - start; }
  bool operator==(const Interval&) const = default;
};

// `from` minus every interval of `cut`: `from` sorted and disjoint, `cut` in any order (it may
// overlap itself); the result is sorted and disjoint.
std::vector<Interval> subtract_intervals(std::span<const Interval> from, std::vector<Interval> cut);

}  // namespace oee
