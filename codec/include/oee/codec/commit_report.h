#pragma once
// The commit report (docs/mqtt.md, "End-to-end acknowledgement"): what a server has committed of one
// source incarnation, published retained on oee/v1/_edge/<src>/committed. An edge keeps every event
// until a report says it is committed, and sends again what a report shows missing, so a broker that
// acknowledged and then lost messages loses nothing for us.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oee::codec {

// Gaps listed in one report at most (beyond it, the closest are merged: make_commit_report).
inline constexpr std::size_t kMaxReportedGaps = 64;
inline constexpr std::size_t kMaxCommitReportBytes = 8192;

struct CommitReport {
  std::string src;
  std::string inc;
  std::int64_t seq_min = -1;  // -1: nothing of this incarnation is stored
  std::int64_t seq_max = -1;
  // Missing seq ranges [first, last] inside [seq_min, seq_max], each starting at a missing seq (with
  // more than kMaxReportedGaps gaps a range may also hold stored seqs). gaps_from: the list says
  // nothing below it (0 from this server; reports of servers that listed only the highest gaps).
  std::vector<std::pair<std::int64_t, std::int64_t>> gaps;
  std::int64_t gaps_from = 0;
  bool operator==(const CommitReport&) const = default;
};

// Builds the report of a source from its stored range and gaps (ascending); beyond kMaxReportedGaps
// gaps the closest ones are merged.
CommitReport make_commit_report(std::string src, std::string inc, std::int64_t seq_min, std::int64_t seq_max,
                                const std::vector<std::pair<std::int64_t, std::int64_t>>& gaps);

std::string commit_report_json(const CommitReport& r);
// Parses a report; nullopt with `error` set when the bytes are not one.
std::optional<CommitReport> parse_commit_report(std::string_view json, std::string& error);

// The exclusive end of what the report shows committed from `first` on: every seq in
// [first, result) is stored. `first` itself when the report cannot tell (nothing stored, or `first`
// below what it describes).
std::int64_t committed_end(const CommitReport& r, std::int64_t first);

// oee/v1/_edge/<src>/committed; empty when `src` cannot be one topic level.
std::string commit_report_topic(std::string_view src);

}  // namespace oee::codec

namespace oee::codec {
// The `inc` an edge status (oee/v1/_edge/<id>/status) names; nullopt when it names none or the bytes
// are no status object.
std::optional<std::string> edge_status_incarnation(std::string_view json);
// Whether the bytes are one JSON object, as an edge status must be (docs/mqtt.md).
bool edge_status_is_object(std::string_view json);
}  // namespace oee::codec
