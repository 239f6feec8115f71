// The commit report (docs/mqtt.md): its JSON both ways, its limits, and what an edge reads from it.
#include <gtest/gtest.h>

#include <algorithm>

#include "oee/codec/commit_report.h"
#include "oee/codec/event_json.h"

using oee::codec::CommitReport;
using oee::codec::committed_end;
using oee::codec::make_commit_report;

TEST(CommitReport, RoundTripsThroughJson) {
  const CommitReport r = make_commit_report("line1-edge", "3f9a00c1d2e4b5a6", 0, 999, {{10, 19}, {500, 500}});
  std::string error;
  const auto back = oee::codec::parse_commit_report(oee::codec::commit_report_json(r), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, r);
  EXPECT_EQ(back->gaps_from, 0);
}

TEST(CommitReport, MergesTheClosestGapsBeyondTheMaximumSoThatTheLowestStillCounts) {
  // A commit that ended inside the publisher's read window: one message per machine, so the seqs of
  // the machines not yet in are missing one in 14 (300 gaps), above two older, lone gaps.
  std::vector<std::pair<std::int64_t, std::int64_t>> gaps{{1000, 1009}, {50'000, 50'000}};
  for (std::int64_t i = 0; i < 300; ++i) gaps.emplace_back(280'000 + 14 * i, 280'000 + 14 * i + 12);
  const CommitReport r = make_commit_report("e", "i", 0, 290'000, gaps);
  ASSERT_LE(r.gaps.size(), oee::codec::kMaxReportedGaps);
  EXPECT_EQ(r.gaps_from, 0);
  EXPECT_EQ(r.gaps.front(), gaps[0]);
  EXPECT_EQ(r.gaps.back().second, gaps.back().second);
  // The edge reads the exact committed end below the window, and never more than is stored.
  EXPECT_EQ(committed_end(r, 0), 1000);
  EXPECT_EQ(committed_end(r, 1010), 50'000);
  EXPECT_EQ(committed_end(r, 200'000), 280'000);
  for (std::int64_t first = 0; first <= 290'001; first += 997) {
    const std::int64_t end = committed_end(r, first);
    for (const auto& [gap_first, gap_last] : gaps)
      EXPECT_FALSE(gap_last >= first && std::max(gap_first, first) < end)
          << "first " << first << ": end " << end << " passes the gap at " << gap_first;
  }
  std::string error;
  EXPECT_TRUE(oee::codec::parse_commit_report(oee::codec::commit_report_json(r), error)) << error;
}

TEST(CommitReport, AReportOfAServerThatListedOnlyTheHighestGapsSaysNothingBelowThem) {
  CommitReport r = make_commit_report("e", "i", 0, 2000, {{1500, 1504}});
  r.gaps_from = 1500;
  EXPECT_EQ(committed_end(r, 5), 5);
  EXPECT_EQ(committed_end(r, 1600), 2001);
}

TEST(CommitReport, CommittedEndStopsAtTheFirstMissingSeq) {
  const CommitReport r = make_commit_report("e", "i", 100, 999, {{300, 349}, {600, 600}});
  EXPECT_EQ(committed_end(r, 100), 300);
  EXPECT_EQ(committed_end(r, 320), 320);   // inside a gap: nothing from there
  EXPECT_EQ(committed_end(r, 350), 600);
  EXPECT_EQ(committed_end(r, 601), 1000);
  EXPECT_EQ(committed_end(r, 1000), 1000);  // nothing newer is stored
  EXPECT_EQ(committed_end(r, 50), 50);      // 50..99 are not stored
  EXPECT_EQ(committed_end(make_commit_report("e", "i", -1, -1, {}), 7), 7);
}

TEST(CommitReport, MalformedReportsAreRefusedWithAReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"not json", "not a JSON object"},
      {R"({"inc":"x","seq_min":0,"seq_max":1})", "'src' missing"},
      {R"({"src":"e","seq_min":5,"seq_max":1})", "disagree"},
      {R"({"src":"e","seq_min":0,"seq_max":9,"gaps":[[5,3]]})", "[first, last]"},
      {R"({"src":"e","seq_min":0,"seq_max":9,"gaps":[[5,6],[6,7]]})", "ascend"},
      {R"({"src":"e","seq_min":"0","seq_max":9})", "integer"},
      {R"({"src":7})", "short string"},
  };
  for (const auto& [json, reason] : cases) {
    std::string error;
    EXPECT_FALSE(oee::codec::parse_commit_report(json, error)) << json;
    EXPECT_NE(error.find(reason), std::string::npos) << json << " -> " << error;
  }
  std::string error;
  EXPECT_FALSE(oee::codec::parse_commit_report(std::string(9000, ' '), error));
}

TEST(CommitReport, TopicOnlyForSourcesThatAreOneTopicLevel) {
  EXPECT_EQ(oee::codec::commit_report_topic("line1-edge"), "oee/v1/_edge/line1-edge/committed");
  for (const char* bad : {"", "a/b", "a+", "#"}) EXPECT_EQ(oee::codec::commit_report_topic(bad), "") << bad;
  EXPECT_EQ(oee::codec::commit_report_topic(std::string_view("a\0b", 3)), "");
}

TEST(CommitReport, EdgeStatusNamesItsIncarnation) {
  EXPECT_EQ(oee::codec::edge_status_incarnation(R"({"edge":"e","state":"online","inc":"abc"})"), "abc");
  EXPECT_FALSE(oee::codec::edge_status_incarnation(R"({"edge":"e","state":"offline"})"));
  EXPECT_FALSE(oee::codec::edge_status_incarnation("{broken"));
}

TEST(EventIncarnation, TravelsWithSrcAndSeqAndNeedsThem) {
  oee::Event e;
  std::string error;
  ASSERT_TRUE(oee::codec::parse_event(R"({"ts":0,"machine":"s/a/l/m","type":"count","good":1,"src":"e","seq":4,"inc":"k1"})", e, error))
      << error;
  EXPECT_EQ(e.inc, "k1");
  oee::Event back;
  ASSERT_TRUE(oee::codec::parse_event(oee::codec::event_to_json(e), back, error)) << error;
  EXPECT_EQ(back, e);
  EXPECT_FALSE(oee::codec::parse_event(R"({"ts":0,"machine":"s/a/l/m","type":"count","good":1,"inc":"k1"})", e, error));
  EXPECT_NE(error.find("'inc'"), std::string::npos) << error;
  EXPECT_FALSE(oee::codec::parse_event(R"({"ts":0,"machine":"m","type":"count","src":"e","seq":1,"inc":")" + std::string(65, 'x') + "\"}",
                                       e, error));
  EXPECT_NE(error.find("64 bytes"), std::string::npos) << error;
}

TEST(EventIncarnation, SameSeqOfAnotherIncarnationIsAnotherEvent) {
  oee::Event a;
  a.src = "edge";
  a.seq = 7;
  oee::Event b = a;
  b.inc = "new-disk";
  EXPECT_NE(oee::identity_key(a), oee::identity_key(b));
  oee::Event c = b;
  c.inc = "another-disk";
  EXPECT_NE(oee::identity_key(b), oee::identity_key(c));
}
