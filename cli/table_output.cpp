#include "table_output.h"

namespace oee::cli {

namespace {
std::string percent(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", *v * 100);
  return buf;
}
}  // namespace

void print_kpi_table(std::FILE* to, const std::vector<NodeKpis>& rows, const std::string& node, const TimeZone& zone) {
  std::fprintf(to, "%s\n", node.c_str());
  std::fprintf(to, "%-25s %-8s %7s %7s %7s %7s %10s %10s %10s %9s %8s\n", "from", "shift", "A", "P", "Q", "OEE",
               "planned_h", "run_h", "down_h", "total", "reject");
  for (const NodeKpis& r : rows) {
    const KpiFigures f = derive_figures(r.totals);
    std::fprintf(to, "%-25s %-8s %7s %7s %7s %7s %10.2f %10.2f %10.2f %9lld %8lld\n",
                 format_rfc3339(r.bucket.range.start, zone.offset_ms_at(r.bucket.range.start)).c_str(),
                 !r.bucket.crew.empty() ? r.bucket.crew.c_str() : r.bucket.shift.empty() ? "-" : r.bucket.shift.c_str(), percent(f.availability).c_str(),
                 percent(f.performance).c_str(), percent(f.quality).c_str(), percent(f.oee).c_str(),
                 r.totals.planned_production_ms() / 3.6e6, r.totals.run_ms() / 3.6e6, r.totals.downtime_ms() / 3.6e6,
                 static_cast<long long>(r.totals.total_count()), static_cast<long long>(r.totals.reject_count));
  }
}

}  // namespace oee::cli
