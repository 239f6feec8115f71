#include "oee/core/interval.h"

#include <algorithm>

namespace oee {

std::vector<Interval> subtract_intervals(std::span<const Interval> from, std::vector<Interval> cut) {
  std::sort(cut.begin(), cut.end(), [](const Interval& a, const Interval& b) { return a.start < b.start; });
  std::vector<Interval> out;
  std::size_t c = 0;
  for (const Interval& iv : from) {
    TimeMs at = iv.start;
    // Cuts ending before this interval cannot reach later ones either (both ascend).
    while (c < cut.size() && cut[c].end <= at) ++c;
    for (std::size_t k = c; k < cut.size() && cut[k].start < iv.end; ++k) {
      if (cut[k].end <= at) continue;
      if (cut[k].start > at) out.push_back({at, cut[k].start});
      at = std::max(at, cut[k].end);
    }
    if (at < iv.end) out.push_back({at, iv.end});
  }
  return out;
}

}  // namespace oee
