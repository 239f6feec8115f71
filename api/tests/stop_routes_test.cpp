// Timeline, stops, reasons (as events), comments, Pareto, counts, tags and CSV over the real store.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_fixture.h"

namespace oee::api {

namespace {
const std::string kShift = "from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00";
}

TEST_F(Api, TimelineAndStops) {
  ingest_vorne_shift();
  auto r = get("/api/v1/timeline?machine=s1/a1/l1/press&" + kShift);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = nlohmann::json::parse(r.body);
  ASSERT_EQ(j["intervals"].size(), 3u) << r.body;
  EXPECT_EQ(j["intervals"][1]["state"], "stopped");
  EXPECT_EQ(j["intervals"][1]["reason"], "die");
  EXPECT_EQ(j["intervals"][1]["from"], "2026-11-10T09:00:00-06:00");
  EXPECT_EQ(j["intervals"][2]["to"], "2026-11-10T14:00:00-06:00");
  // A window starting inside the stop still shows its reason.
  r = get("/api/v1/timeline?machine=s1/a1/l1/press&from=2026-11-10T09:30:00-06:00&to=2026-11-10T10:00:00-06:00");
  j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["intervals"][0]["reason"], "die") << r.body;
  EXPECT_EQ(j["intervals"][0]["from"], "2026-11-10T09:30:00-06:00");
  EXPECT_EQ(get("/api/v1/timeline?machine=s1/a1/l1/ghost").status, 400);
  r = get("/api/v1/stops?node=s1/a1/l1&" + kShift);
  ASSERT_EQ(r.status, 200) << r.body;
  j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["total"], 1);
  EXPECT_EQ(j["items"][0]["duration_s"], 47 * 60);
  EXPECT_EQ(j["items"][0]["planned_s"], 47 * 60);  // 09:00-09:47: clear of the breaks
  EXPECT_EQ(j["items"][0]["kind"], "breakdown");
  EXPECT_EQ(get("/api/v1/stops?limit=10001").status, 400);
}

// Counters that do not add up, and a PLC reset on a counter with rollover, are listed with the
// timeline (in the window), while good and reject are counted once as reported.
TEST_F(Api, TimelineListsCounterDataQualityIssuesInTheWindow) {
  std::vector<Event> events;
  auto add = [&](const char* ts, const char* name, int value) {
    events.push_back(event(std::string(R"({"ts":")") + ts + R"(","machine":"s1/a1/l1/press","type":"counter","name":")" +
                           name + R"(","value":)" + std::to_string(value) + R"(,"rollover":65536})"));
  };
  events.push_back(event(R"({"ts":"2026-11-10T06:00:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"1"})"));
  for (const char* ts : {"2026-11-10T06:00:00-06:00", "2026-11-10T07:00:00-06:00", "2026-11-10T08:00:00-06:00"}) {
    const int k = ts[12] - '6';  // 0, 1, 2
    add(ts, "total", 100 * k + (k == 2 ? 5 : 0));  // 205 at 08:00: 3 more than good + reject
    add(ts, "good", 90 * k + (k == 2 ? 10 : 0));
    add(ts, "reject", 10 * k - (k == 2 ? 8 : 0));
  }
  add("2026-11-10T08:01:00-06:00", "total", 100);  // a drop of 105 in a minute: read as a wrap, 65,431 parts
  ASSERT_EQ(service_->ingest(events, "test").inserted, events.size());

  auto r = get("/api/v1/timeline?machine=s1/a1/l1/press&" + kShift);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = nlohmann::json::parse(r.body);
  ASSERT_EQ(j["data_quality"].size(), 3u) << r.body;
  EXPECT_EQ(j["data_quality"][0]["ts"], "2026-11-10T08:00:00-06:00");
  EXPECT_EQ(j["data_quality"][0]["kind"], "counter_mismatch");
  EXPECT_EQ(j["data_quality"][0]["counter"], "total");
  EXPECT_EQ(j["data_quality"][0]["amount"], 105 - 100 - 2);
  EXPECT_EQ(j["data_quality"][1]["kind"], "counter_reset");
  EXPECT_EQ(j["data_quality"][1]["amount"], 100 + 65536 - 205);
  EXPECT_EQ(j["data_quality"][2]["kind"], "counter_mismatch");  // total alone moved by 100
  r = get("/api/v1/timeline?machine=s1/a1/l1/press&from=2026-11-10T07:30:00-06:00&to=2026-11-10T08:01:00-06:00");
  EXPECT_EQ(nlohmann::json::parse(r.body)["data_quality"].size(), 1u) << r.body;
  r = get("/api/v1/counts?node=s1/a1/l1/press&" + kShift);
  ASSERT_EQ(r.status, 200) << r.body;
  j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j[0]["good_count"], 90 + 100);
  EXPECT_EQ(j[0]["reject_count"], 10 + 2);
}

TEST_F(Api, OperatorAssignsAReasonAndTheParetoChanges) {
  ingest_vorne_shift();
  auto r = get("/api/v1/pareto?node=s1&" + kShift);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = nlohmann::json::parse(r.body);
  ASSERT_EQ(j["bars"].size(), 1u);
  EXPECT_EQ(j["bars"][0]["name"], "die");
  EXPECT_EQ(j["bars"][0]["seconds"], 2820);
  const std::string body = R"({"machine":"s1/a1/l1/press","at":"2026-11-10T09:10:00-06:00","reason":"material"})";
  EXPECT_EQ(request("POST", "/api/v1/stops/reason", body, viewer_token_).status, 403);
  EXPECT_EQ(request("POST", "/api/v1/stops/reason", body, "").status, 401);
  r = request("POST", "/api/v1/stops/reason", body, operator_token_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["previous_reason"], "die");
  j = nlohmann::json::parse(get("/api/v1/pareto?node=s1&" + kShift).body);
  EXPECT_EQ(j["bars"][0]["name"], "material");
  EXPECT_EQ(j["bars"][0]["seconds"], 2820);
  // Changed again: the last one given wins; both are events of src "api".
  r = request("POST", "/api/v1/stops/reason", R"({"machine":"s1/a1/l1/press","at":"2026-11-10T09:00:00-06:00","reason":"tooling"})", operator_token_);
  ASSERT_EQ(r.status, 200) << r.body;
  j = nlohmann::json::parse(get("/api/v1/pareto?node=s1&" + kShift).body);
  EXPECT_EQ(j["bars"][0]["name"], "tooling");
  EXPECT_NE(get("/api/v1/sources").body.find("\"src\":\"api\",\"incarnation\":\"\",\"events\":2,\"seq_min\":0,\"seq_max\":1"), std::string::npos);
  // Bad input: no stop there, unknown machine, empty reason, not JSON.
  r = request("POST", "/api/v1/stops/reason", R"({"machine":"s1/a1/l1/press","at":"2026-11-10T08:00:00-06:00","reason":"x"})", operator_token_);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("not_a_stop"), std::string::npos);
  EXPECT_EQ(request("POST", "/api/v1/stops/reason", R"({"machine":"nope","at":"2026-11-10T09:00:00-06:00","reason":"x"})", operator_token_).status, 400);
  EXPECT_EQ(request("POST", "/api/v1/stops/reason", R"({"machine":"s1/a1/l1/press","at":"2026-11-10T09:00:00-06:00","reason":""})", operator_token_).status, 400);
  EXPECT_EQ(request("POST", "/api/v1/stops/reason", "[", operator_token_).status, 400);
  // Audited with before and after.
  const auto audit = nlohmann::json::parse(request("GET", "/api/v1/audit", "", kAdminToken).body)["items"];
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[1]["action"], "reason.assign");
  EXPECT_EQ(audit[1]["actor"], "operator-token");
  EXPECT_EQ(audit[1]["target"], "s1/a1/l1/press@2026-11-10T15:00:00Z");
  EXPECT_EQ(audit[1]["before"], "{\"reason\":\"die\"}");
  EXPECT_EQ(audit[1]["after"], "{\"reason\":\"material\"}");
  // By loss kind.
  j = nlohmann::json::parse(get("/api/v1/pareto?by=kind&node=s1/a1/l1/press&" + kShift).body);
  EXPECT_EQ(j["bars"][0]["name"], "speed_loss");
  EXPECT_EQ(get("/api/v1/pareto?by=colour").status, 400);
}

TEST_F(Api, CommentsOnStops) {
  ingest_vorne_shift();
  const std::string body = R"({"machine":"s1/a1/l1/press","at":"2026-11-10T09:20:00-06:00","text":"die cracked, replaced"})";
  EXPECT_EQ(request("POST", "/api/v1/stops/comment", body, viewer_token_).status, 403);
  const auto added = request("POST", "/api/v1/stops/comment", body, operator_token_);
  ASSERT_EQ(added.status, 201);
  EXPECT_EQ(request("POST", "/api/v1/stops/comment", R"({"machine":"s1/a1/l1/press","at":"2026-11-10T09:20:00-06:00","text":""})", operator_token_).status, 400);
  // Kept in the event store (shared by the servers of one PostgreSQL), under the id the route gave.
  const auto kept = service_->read_store([](storage::EventStore& s) { return s.stop_comments("s1/a1/l1/press", 0, kTimeMax); });
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].text, "die cracked, replaced");
  EXPECT_EQ(nlohmann::json::parse(added.body)["id"], kept[0].id);
  const auto j = nlohmann::json::parse(get("/api/v1/stops?node=s1/a1/l1/press&" + kShift).body);
  ASSERT_EQ(j["items"][0]["comments"].size(), 1u);
  EXPECT_EQ(j["items"][0]["comments"][0]["text"], "die cracked, replaced");
  EXPECT_EQ(j["items"][0]["comments"][0]["author"], "operator-token");
}

TEST_F(Api, CountsTagsAndCsv) {
  ingest_vorne_shift();
  auto r = get("/api/v1/counts?node=s1/a1/l1/press&" + kShift);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j[0]["total_count"], 19271);
  EXPECT_GT(j[0]["rate_per_hour"].get<double>(), 0);
  r = get("/api/v1/counts?node=s1&by=hour&" + kShift);
  EXPECT_EQ(nlohmann::json::parse(r.body).size(), 8u);
  r = get("/api/v1/tags?machine=s1/a1/l1/press&tag=count.good&bucket_s=3600&" + kShift);
  ASSERT_EQ(r.status, 200) << r.body;
  j = nlohmann::json::parse(r.body);
  ASSERT_EQ(j["buckets"].size(), 2u) << r.body;
  EXPECT_EQ(j["buckets"][0]["max"], 10000);
  EXPECT_EQ(j["buckets"][1]["avg"], 8848);
  EXPECT_EQ(get("/api/v1/tags?machine=s1/a1/l1/press&tag=temperature").status, 400);
  EXPECT_EQ(get("/api/v1/tags?machine=s1/a1/l1/press&bucket_s=0").status, 400);
  r = get("/api/v1/export/kpis.csv?node=s1/a1/l1/press&" + kShift);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("text/csv"), std::string::npos);
  EXPECT_EQ(r.body.substr(0, 40), "node,from,to,shift,availability,performa");
  EXPECT_NE(r.body.find("s1/a1/l1/press,2026-11-10T06:00:00-06:00,2026-11-10T14:00:00-06:00,,0.888"), std::string::npos) << r.body;
  r = get("/api/v1/export/stops.csv?node=s1&" + kShift);
  EXPECT_NE(r.body.find("s1/a1/l1/press,2026-11-10T09:00:00-06:00,2026-11-10T09:47:00-06:00,2820.000000,stopped,breakdown,die"), std::string::npos) << r.body;
}

}  // namespace oee::api
