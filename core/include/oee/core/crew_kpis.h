#pragma once
// KPIs by crew: the shift-occurrence rows of a `by=crew` query summed per crew. A crew's row spans
// from the start of its first shift to the end of its last one in the window; its totals count only
// its own shifts. Rows come out sorted by crew name.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace oee {

// Row: a type with `bucket` (a Bucket) and `totals` (KpiTotals), such as NodeKpis.
template <typename Row>
std::vector<Row> sum_rows_by_crew(std::vector<Row> rows) {
  std::map<std::string, Row> by_crew;
  for (Row& row : rows) {
    auto [it, fresh] = by_crew.try_emplace(row.bucket.crew, row);
    if (fresh) continue;
    Row& sum = it->second;
    sum.bucket.range.start = std::min(sum.bucket.range.start, row.bucket.range.start);
    sum.bucket.range.end = std::max(sum.bucket.range.end, row.bucket.range.end);
    sum.totals += row.totals;
  }
  std::vector<Row> out;
  for (auto& [crew, row] : by_crew) {
    row.bucket.shift.clear();  // a crew works several shifts
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace oee
