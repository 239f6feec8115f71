#include "oee/codec/commit_report.h"

#include <simdjson.h>

#include <algorithm>

#include "oee/codec/event_json.h"

namespace oee::codec {

namespace {

// More gaps than a report holds: the closest ones are merged into one range each (the stored seqs
// between them included). Every range still starts at a missing seq, so an edge below it reads the
// exact committed end; above a merged range's start it reads less than is committed, never more.
// The many gaps of a commit that ended inside a publisher's read window (one message per machine,
// seqs interleaved) become one range instead of hiding every lower gap.
void merge_closest_gaps(std::vector<std::pair<std::int64_t, std::int64_t>>& gaps) {
  std::vector<std::int64_t> between(gaps.size() - 1);  // stored seqs between gap i and i + 1
  for (std::size_t i = 0; i + 1 < gaps.size(); ++i) between[i] = gaps[i + 1].first - gaps[i].second - 1;
  std::vector<std::int64_t> sorted = between;
  const std::size_t merges = gaps.size() - kMaxReportedGaps;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(merges - 1), sorted.end());
  const std::int64_t limit = sorted[merges - 1];  // merging every separation up to it leaves <= the maximum
  std::vector<std::pair<std::int64_t, std::int64_t>> merged{gaps.front()};
  for (std::size_t i = 1; i < gaps.size(); ++i) {
    if (between[i - 1] <= limit)
      merged.back().second = gaps[i].second;
    else
      merged.push_back(gaps[i]);
  }
  gaps = std::move(merged);
}

}  // namespace

CommitReport make_commit_report(std::string src, std::string inc, std::int64_t seq_min, std::int64_t seq_max,
                                const std::vector<std::pair<std::int64_t, std::int64_t>>& gaps) {
  CommitReport r{std::move(src), std::move(inc), seq_min, seq_max, gaps, 0};
  if (r.gaps.size() > kMaxReportedGaps) merge_closest_gaps(r.gaps);
  return r;
}

std::string commit_report_json(const CommitReport& r) {
  std::string j = "{\"src\":";
  append_json_string(j, r.src);
  j += ",\"inc\":";
  append_json_string(j, r.inc);
  j += ",\"seq_min\":" + std::to_string(r.seq_min) + ",\"seq_max\":" + std::to_string(r.seq_max) + ",\"gaps\":[";
  for (std::size_t i = 0; i < r.gaps.size(); ++i)
    j += (i ? ",[" : "[") + std::to_string(r.gaps[i].first) + "," + std::to_string(r.gaps[i].second) + "]";
  j += "],\"gaps_from\":" + std::to_string(r.gaps_from) + "}";
  return j;
}

namespace {

bool read_gaps(simdjson::dom::element v, CommitReport& r, std::string& error) {
  simdjson::dom::array list;
  if (v.get(list) != simdjson::SUCCESS) return error = "'gaps' must be an array", false;
  for (simdjson::dom::element g : list) {
    simdjson::dom::array pair;
    std::int64_t first = 0, last = 0;
    if (g.get(pair) != simdjson::SUCCESS || pair.size() != 2 || pair.at(0).get(first) != simdjson::SUCCESS ||
        pair.at(1).get(last) != simdjson::SUCCESS || first > last || first < 0)
      return error = "'gaps' must hold [first, last] seq pairs", false;
    if (!r.gaps.empty() && first <= r.gaps.back().second) return error = "'gaps' must ascend without overlap", false;
    if (r.gaps.size() == kMaxReportedGaps) return error = "more than 64 gaps", false;
    r.gaps.emplace_back(first, last);
  }
  return true;
}

bool read_field(std::string_view key, simdjson::dom::element v, CommitReport& r, std::string& error) {
  std::string_view text;
  if (key == "src" || key == "inc") {
    if (v.get(text) != simdjson::SUCCESS || text.size() > kMaxStringBytes) return error = "'" + std::string(key) + "' must be a short string", false;
    (key == "src" ? r.src : r.inc).assign(text);
    return true;
  }
  std::int64_t* n = key == "seq_min" ? &r.seq_min : key == "seq_max" ? &r.seq_max : key == "gaps_from" ? &r.gaps_from : nullptr;
  if (n) {
    if (v.get(*n) != simdjson::SUCCESS || *n < -1) return error = "'" + std::string(key) + "' must be an integer >= -1", false;
    return true;
  }
  if (key == "gaps") return read_gaps(v, r, error);
  return true;  // unknown fields: the report may grow
}

}  // namespace

std::optional<CommitReport> parse_commit_report(std::string_view json, std::string& error) {
  if (json.size() > kMaxCommitReportBytes) return error = "larger than 8 KiB", std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(json.data(), json.size()).get(obj) != simdjson::SUCCESS) return error = "not a JSON object", std::nullopt;
  CommitReport r;
  for (auto field : obj)
    if (!read_field(field.key, field.value, r, error)) return std::nullopt;
  if (r.src.empty()) return error = "'src' missing", std::nullopt;
  if ((r.seq_min < 0) != (r.seq_max < 0) || r.seq_min > r.seq_max) return error = "'seq_min'/'seq_max' disagree", std::nullopt;
  return r;
}

std::int64_t committed_end(const CommitReport& r, std::int64_t first) {
  if (r.seq_min < 0 || first < r.seq_min || first < r.gaps_from) return first;
  std::int64_t end = std::max(first, r.seq_max + 1);
  for (const auto& [gap_first, gap_last] : r.gaps)
    if (gap_last >= first) end = std::min(end, std::max(gap_first, first));
  return end;
}

std::string commit_report_topic(std::string_view src) {
  if (src.empty() || src.size() > 128 || src.find_first_of(std::string_view("/+#\0", 4)) != std::string_view::npos) return {};
  return "oee/v1/_edge/" + std::string(src) + "/committed";
}

}  // namespace oee::codec

namespace oee::codec {
std::optional<std::string> edge_status_incarnation(std::string_view json) {
  if (json.size() > kMaxCommitReportBytes) return std::nullopt;
  simdjson::dom::parser parser;
  std::string_view inc;
  if (parser.parse(json.data(), json.size())["inc"].get(inc) != simdjson::SUCCESS || inc.size() > kMaxStringBytes)
    return std::nullopt;
  return std::string(inc);
}

bool edge_status_is_object(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  return parser.parse(json.data(), json.size()).get(object) == simdjson::SUCCESS;
}
}  // namespace oee::codec
