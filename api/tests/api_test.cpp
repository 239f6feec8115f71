// The API over a real embedded store and the real HTTP server.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api_fixture.h"

namespace oee::api {

TEST_F(Api, HealthAndUnknownRoutes) {
  EXPECT_EQ(get("/healthz").body, "{\"status\":\"ok\"}");
  const auto r = get("/api/v1/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"code\":\"not_found\""), std::string::npos);
}

TEST_F(Api, KpisOfTheVorneShift) {
  ingest_vorne_shift();
  auto r = get("/api/v1/kpis?node=s1/a1/l1/press&from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NEAR(field(r.body, "availability"), 0.8881, 5e-5) << r.body;
  EXPECT_NEAR(field(r.body, "performance"), 0.8611, 5e-5);
  EXPECT_NEAR(field(r.body, "quality"), 0.9780, 5e-5);
  EXPECT_NEAR(field(r.body, "oee"), 0.7479, 5e-5);
  EXPECT_EQ(field(r.body, "total_count"), 19271);
  EXPECT_NE(r.body.find("\"from\":\"2026-11-10T06:00:00-06:00\""), std::string::npos);
  // ISO 22400-2 (docs/oee-model.md): no setup, so NEE is OEE; 373 of 420 min ran, 47 broke down.
  EXPECT_NEAR(field(r.body, "nee"), 0.7479, 5e-5);
  EXPECT_NEAR(field(r.body, "setup_rate"), 0.0, 1e-12);
  EXPECT_NEAR(field(r.body, "technical_efficiency"), 373.0 / 420, 1e-9);
  EXPECT_NEAR(field(r.body, "scrap_ratio"), 423.0 / 19271, 1e-9);
  EXPECT_NEAR(field(r.body, "allocation_efficiency"), 1.0, 1e-12);
  EXPECT_NEAR(field(r.body, "throughput_per_h"), 19271.0 / 7, 1e-6);
  EXPECT_NEAR(field(r.body, "first_pass_yield"), field(r.body, "quality"), 1e-12);
  // The line sums its machines: the idle machine has no events, so its time is unknown.
  r = get("/api/v1/kpis?node=s1/a1/l1&from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00");
  EXPECT_NEAR(field(r.body, "oee"), 0.7479, 5e-5);
  EXPECT_EQ(field(r.body, "unknown_time_s"), 8 * 3600);
  EXPECT_EQ(field(r.body, "machines"), 2);
  // Default window: the current shift so far.
  r = get("/api/v1/kpis?node=s1/a1/l1/press");
  EXPECT_NEAR(field(r.body, "oee"), 0.7479, 5e-5) << r.body;
  r = get("/api/v1/kpis?node=s1&from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00&by=hour");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.front(), '[');
  std::size_t rows = 0;
  for (std::size_t p = r.body.find("\"node\""); p != std::string::npos; p = r.body.find("\"node\"", p + 1)) ++rows;
  EXPECT_EQ(rows, 8u);
  r = get("/api/v1/kpis?node=s1&from=2026-11-10T00:00:00-06:00&to=2026-11-11T00:00:00-06:00&by=shift");
  EXPECT_NE(r.body.find("\"shift\":\"day\""), std::string::npos) << r.body;
}

TEST_F(Api, BadParametersGive400WithAMessage) {
  auto r = get("/api/v1/kpis?node=s9");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "{\"error\":{\"code\":\"unknown_node\",\"message\":\"'s9' is not a node of the plant\"}}");
  r = get("/api/v1/kpis?from=monday");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'from': 'monday' is not an RFC 3339 timestamp"), std::string::npos);
  r = get("/api/v1/kpis?by=week");
  EXPECT_EQ(r.status, 400);
  r = get("/api/v1/kpis?from=2026-11-10T06:00:00Z&to=2026-11-10T05:00:00Z");
  EXPECT_EQ(r.status, 400);
  r = get("/api/v1/kpis?from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&by=hour");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("too_many_buckets"), std::string::npos);
  r = get("/api/v1/dead-letters?limit=0");
  EXPECT_EQ(r.status, 400);
}

TEST_F(Api, PlantTreeWithLiveState) {
  ingest_vorne_shift();
  const auto r = get("/api/v1/plant");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"timezone\":\"America/Chicago\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"path\":\"s1/a1/l1/press\",\"name\":\"Press 1\",\"description\":\"Stamping press, bay 3\",\"state\":\"running\",\"since\":\"2026-11-10T09:47:00-06:00\",\"product\":\"p1\""),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("\"path\":\"s1/a1/l1/idle\",\"name\":\"idle\",\"state\":\"unknown\""), std::string::npos);
  EXPECT_NE(r.body.find("\"targets\":{\"oee\":0.8}"), std::string::npos);
}

// The plant file's labels reach the tree: the plant's name, a machine's description (only where
// given), and the current shift's breaks with their names, on the plant's clock.
TEST_F(Api, PlantTreeCarriesThePlantsNameTheDescriptionsAndTheShiftsBreaks) {
  now_ = at("2026-11-10T10:10:00-06:00");
  const auto plant = nlohmann::json::parse(get("/api/v1/plant").body);
  EXPECT_EQ(plant["name"], "Chicago works") << plant;
  const auto& machines = plant["sites"][0]["areas"][0]["lines"][0]["machines"];
  EXPECT_EQ(machines[0]["description"], "Stamping press, bay 3") << machines;
  EXPECT_FALSE(machines[1].contains("description")) << machines;
  const auto& breaks = plant["current_shift"]["breaks"];
  ASSERT_EQ(breaks.size(), 3u) << plant;
  EXPECT_EQ(breaks[0], nlohmann::json::parse(R"({"from":"2026-11-10T08:00:00-06:00","to":"2026-11-10T08:15:00-06:00"})"));
  EXPECT_EQ(breaks[1], nlohmann::json::parse(R"({"from":"2026-11-10T10:00:00-06:00","to":"2026-11-10T10:30:00-06:00","name":"Lunch"})"));
  EXPECT_EQ(breaks[2]["from"], "2026-11-10T12:00:00-06:00");
}

// idle has no_data_after_s: 60. Silent twice for 29.5 min inside the last hour: no data in its KPIs;
// its live state says no_data once its last event is more than a minute old.
TEST_F(Api, NoDataInKpisAndLiveState) {
  std::vector<Event> events = {
      event(R"({"ts":"2026-11-10T13:00:00-06:00","machine":"s1/a1/l1/idle","type":"state","state":"running","src":"e","seq":1})"),
      event(R"({"ts":"2026-11-10T13:00:30-06:00","machine":"s1/a1/l1/idle","type":"heartbeat","src":"e","seq":2})"),
      event(R"({"ts":"2026-11-10T13:30:00-06:00","machine":"s1/a1/l1/idle","type":"heartbeat","src":"e","seq":3})"),
      event(R"({"ts":"2026-11-10T13:59:30-06:00","machine":"s1/a1/l1/idle","type":"heartbeat","src":"e","seq":4})")};
  ASSERT_EQ(service_->ingest(events, "oee/v1/s1/a1/l1/idle/events").accepted, 4u);
  auto r = get("/api/v1/kpis?node=s1/a1/l1/idle&from=2026-11-10T13:00:00-06:00&to=2026-11-10T14:00:00-06:00");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(field(r.body, "no_data_s"), 2 * 1770) << r.body;
  EXPECT_EQ(field(r.body, "planned_production_time_s"), 3600 - 2 * 1770);
  EXPECT_EQ(field(r.body, "availability"), 1.0);
  auto idle_no_data = [&] {
    const std::string body = get("/api/v1/plant").body;
    const std::size_t at = body.find("\"path\":\"s1/a1/l1/idle\"");
    const std::size_t flag = body.find("\"no_data\":", at);
    return at == std::string::npos || flag == std::string::npos ? std::string("missing") : body.substr(flag + 10, 4);
  };
  EXPECT_EQ(idle_no_data(), "fals");  // 30 s since the last heartbeat
  now_ = at("2026-11-10T14:05:00-06:00");
  EXPECT_EQ(idle_no_data(), "true");
  // A press without the setting never shows no data.
  const std::string body = get("/api/v1/plant").body;
  EXPECT_NE(body.find("\"path\":\"s1/a1/l1/press\""), std::string::npos);
  EXPECT_EQ(body.find("\"no_data\":true"), body.rfind("\"no_data\":true"));
}

TEST_F(Api, DeadLettersAndSources) {
  ingest_vorne_shift();
  auto r = get("/api/v1/dead-letters");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"total\":2"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("unknown machine 's1/a1/l1/ghost'"), std::string::npos);
  EXPECT_NE(r.body.find("state '9' is neither canonical nor in s1/a1/l1/press's states map"), std::string::npos);
  EXPECT_NE(r.body.find("\"topic\":\"oee/v1/s1/a1/l1/press/events\""), std::string::npos);
  r = get("/api/v1/sources");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"src\":\"plc\",\"incarnation\":\"\",\"events\":6,\"seq_min\":1,\"seq_max\":7,\"gaps\":[[5,5]]"),
            std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"conflicts\":0"), std::string::npos) << r.body;
}

// A seq sent again with other content (a PLC program that reuses its numbering, an edge bug) is not
// dropped without a trace: the stored version stays, the other is kept beside it as a conflict,
// listed, counted per source and in /metrics. Sent again identically, it is a plain duplicate.
TEST_F(Api, ASeqSentAgainWithOtherContentIsAConflictBothVersionsKept) {
  ingest_vorne_shift();
  const auto report = service_->ingest(
      {event(R"({"ts":"2026-11-10T11:00:00-06:00","machine":"s1/a1/l1/press","type":"count","good":10000,"reject":200,"src":"plc","seq":4})"),
       event(R"({"ts":"2026-11-10T11:00:00-06:00","machine":"s1/a1/l1/press","type":"count","good":99,"reject":0,"src":"plc","seq":4})"),
       event(R"({"ts":"2026-11-10T12:30:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"2","src":"plc","seq":3})")},
      "test");
  EXPECT_EQ(report.duplicates, 3u);
  EXPECT_EQ(report.conflicts, 2u);
  auto r = get("/api/v1/conflicts");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"total\":2"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"seq\":4"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\\\"good\\\":99"), std::string::npos) << r.body;     // the received version
  EXPECT_NE(r.body.find("\\\"good\\\":10000"), std::string::npos) << r.body;  // beside the stored one
  EXPECT_NE(r.body.find("\"seq\":3"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"stored\":\"\""), std::string::npos) << "seq 3 is stored at another hour: " << r.body;
  // Sending the same conflicting version again keeps nothing more (the metric counts every arrival).
  service_->ingest({event(R"({"ts":"2026-11-10T11:00:00-06:00","machine":"s1/a1/l1/press","type":"count","good":99,"reject":0,"src":"plc","seq":4})")},
                   "test");
  EXPECT_NE(get("/api/v1/conflicts").body.find("\"total\":2"), std::string::npos);
  EXPECT_NE(get("/api/v1/sources").body.find("\"conflicts\":2"), std::string::npos);
  EXPECT_NE(request("GET", "/metrics", "", kAdminToken).body.find("oee_ingest_conflicts_total 3"), std::string::npos);
  // The stored version still counts.
  EXPECT_NE(get("/api/v1/kpis?node=s1/a1/l1/press&from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00").body.find("\"good_count\":18848"),
            std::string::npos);
}

}  // namespace oee::api
