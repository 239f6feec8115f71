// libFuzzer target: any bytes on an edge's commit report topic must give a report or a reason,
// never a crash; an accepted report survives a round trip, and what an edge reads from it stays
// within the seqs it asked about and the report's own range.
#include <cstddef>
#include <cstdint>
#include <string>

#include "oee/codec/commit_report.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto report = oee::codec::parse_commit_report(bytes, error);
  if (report) {
    std::string why;
    const auto back = oee::codec::parse_commit_report(oee::codec::commit_report_json(*report), why);
    if (!back || !(*back == *report)) __builtin_trap();
    for (const std::int64_t first : {std::int64_t{0}, report->seq_min, report->seq_max, report->seq_max + 1}) {
      const std::int64_t end = oee::codec::committed_end(*report, first);
      if (end < first || (end > first && end > report->seq_max + 1)) __builtin_trap();
    }
  }
  oee::codec::edge_status_incarnation(bytes);
  return 0;
}
