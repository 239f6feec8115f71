#include "oee/core/line_runs.h"

#include <algorithm>
#include <map>

namespace oee {

namespace {

// One run's stretches (in order of start, ties in flow order) merged where they overlap or touch.
void merge_into(std::vector<ProductionRun>& stretches, std::vector<ProductionRun>& out) {
  std::stable_sort(stretches.begin(), stretches.end(),
                   [](const ProductionRun& a, const ProductionRun& b) { return a.start < b.start; });
  ProductionRun current = stretches.front();
  for (std::size_t i = 1; i < stretches.size(); ++i) {
    if (stretches[i].start <= current.end) {
      current.end = std::max(current.end, stretches[i].end);
      continue;
    }
    out.push_back(current);
    current = stretches[i];
  }
  out.push_back(current);
}

}  // namespace

std::vector<ProductionRun> line_runs(std::span<const std::vector<ProductionRun>> machine_runs) {
  std::map<std::string, std::vector<ProductionRun>> by_order;
  for (const std::vector<ProductionRun>& runs : machine_runs)
    for (const ProductionRun& r : runs) by_order[r.run].push_back(r);
  std::vector<ProductionRun> out;
  for (auto& [order, stretches] : by_order) merge_into(stretches, out);
  std::sort(out.begin(), out.end(), [](const ProductionRun& a, const ProductionRun& b) {
    return a.start != b.start ? a.start < b.start : a.run < b.run;
  });
  return out;
}

}  // namespace oee
