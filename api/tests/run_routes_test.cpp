// Production runs over the real store and HTTP server: started and ended by POST /api/v1/runs (as
// the ERP or an operator would), reported by GET /api/v1/runs, by hand.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_fixture.h"

namespace oee::api {

namespace {

const std::string kPress = R"("machine":"s1/a1/l1/press")";

class ApiRuns : public Api {
 protected:
  testing::HttpReply post(const std::string& body, const std::string& token) {
    return request("POST", "/api/v1/runs", "{" + kPress + "," + body + "}", token);
  }
  void count(const char* time, int good, int reject = 0) {
    const Event e = event(std::string(R"({"ts":"2026-11-10T)") + time + R"(-06:00",)" + kPress + R"(,"type":"count","good":)" +
                          std::to_string(good) + R"(,"reject":)" + std::to_string(reject) + "}");
    ASSERT_EQ(service_->ingest({e}, "test").inserted, 1u);
  }
};

}  // namespace

// The example of docs/oee-model.md ("Production runs") at 12:00 local time: WO-1 (50 parts) done at
// 30 s, ended at 40 s; WO-2 (100 parts) from 45 s, first good parts at 60 s, 30 good by 105 s.
TEST_F(ApiRuns, StartedAndEndedOverHttpAndReportedByHand) {
  auto r = post(R"("ts":"2026-11-10T12:00:00-06:00","action":"start","run":"WO-1","product":"cap-red","quantity":50)", operator_token_);
  ASSERT_EQ(r.status, 201) << r.body;
  count("12:00:10", 20);
  count("12:00:20", 20, 2);
  count("12:00:30", 10);
  ASSERT_EQ(post(R"("ts":"2026-11-10T12:00:40-06:00","action":"end","run":"WO-1")", operator_token_).status, 201);
  r = post(R"("ts":"2026-11-10T12:00:45-06:00","action":"start","run":"WO-2","product":"cap-blue","quantity":100,"ideal_cycle_s":0.8)",
           operator_token_);
  ASSERT_EQ(r.status, 201) << r.body;
  count("12:01:00", 10);
  count("12:01:30", 20);

  r = get("/api/v1/runs?machine=s1/a1/l1/press&from=2026-11-10T12:00:00-06:00&to=2026-11-10T12:01:45-06:00");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = nlohmann::json::parse(r.body);
  ASSERT_EQ(j["runs"].size(), 2u) << r.body;
  const auto& wo1 = j["runs"][0];
  const auto& wo2 = j["runs"][1];
  EXPECT_EQ(wo1["run"], "WO-1");
  EXPECT_EQ(wo1["good_count"], 50);
  EXPECT_EQ(wo1["reject_count"], 2);
  EXPECT_EQ(wo1["remaining"], 0);
  EXPECT_EQ(wo1["expected_finish"], "2026-11-10T12:00:30-06:00");
  EXPECT_TRUE(wo1["changeover_s"].is_null());
  EXPECT_EQ(wo2["ideal_cycle_s"], 0.8);
  EXPECT_EQ(wo2["good_count"], 30);
  EXPECT_EQ(wo2["remaining"], 70);
  EXPECT_EQ(wo2["run_time_s"], 60);
  EXPECT_TRUE(wo2["end"].is_null());
  EXPECT_EQ(wo2["expected_finish"], "2026-11-10T12:04:05-06:00");  // 70 parts at 30 per 60 s from 12:01:45
  EXPECT_EQ(wo2["changeover_s"], 30);

  // Without ts the run ends now (the services' clock, 14:00 local).
  r = post(R"("action":"end","run":"WO-2")", operator_token_);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["ts"], "2026-11-10T20:00:00Z");
  // Its end is inside [from, to) only with `to` after it; the figures stop at now.
  r = get("/api/v1/runs?machine=s1/a1/l1/press&from=2026-11-10T12:00:00-06:00&to=2026-11-10T14:01:00-06:00");
  const auto ended = nlohmann::json::parse(r.body)["runs"][1];
  EXPECT_EQ(ended["end"], "2026-11-10T14:00:00-06:00") << r.body;
  EXPECT_EQ(ended["run_time_s"], 2 * 3600 - 45) << r.body;
}

TEST_F(ApiRuns, BadRunsAndViewersAreRefusedWithTheReason) {
  auto r = post(R"("action":"start","run":"WO-1","product":"cap")", operator_token_);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("field 'quantity': missing"), std::string::npos) << r.body;
  r = post(R"("action":"pause","run":"WO-1")", operator_token_);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("field 'action': must be start or end"), std::string::npos) << r.body;
  r = request("POST", "/api/v1/runs", R"({"machine":"s1/a1/l1/ghost","action":"end","run":"WO-1"})", operator_token_);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown_machine"), std::string::npos) << r.body;
  EXPECT_EQ(post(R"("action":"end","run":"WO-1")", viewer_token_).status, 403);
  EXPECT_EQ(get("/api/v1/runs?machine=s1/a1/l1/ghost").status, 400);
  // Nothing of the refused ones was stored.
  const auto events = service_->read_store([](storage::EventStore& st) {
    return st.machine_events("s1/a1/l1/press", 0, at("2026-11-11T00:00:00Z"));
  });
  EXPECT_TRUE(events.empty());
}

// GET /api/v1/kpis?by=run: each run's A/P/Q over its stretches, WO-2's 0.8 s override for its
// performance (the press's own ideal cycle is 1 s). 13:00 local: clear of the breaks.
TEST_F(ApiRuns, KpisByRunUseTheRunsIdealCycle) {
  ASSERT_EQ(service_->ingest({event(R"({"ts":"2026-11-10T13:00:00-06:00",)" + kPress + R"(,"type":"state","state":"1"})")}, "test").inserted, 1u);
  ASSERT_EQ(post(R"("ts":"2026-11-10T13:00:00-06:00","action":"start","run":"WO-1","product":"cap-red","quantity":50)", operator_token_).status, 201);
  count("13:00:10", 20);
  count("13:00:20", 20, 2);
  count("13:00:30", 10);
  ASSERT_EQ(post(R"("ts":"2026-11-10T13:00:40-06:00","action":"end","run":"WO-1")", operator_token_).status, 201);
  ASSERT_EQ(post(R"("ts":"2026-11-10T13:00:45-06:00","action":"start","run":"WO-2","product":"cap-blue","quantity":100,"ideal_cycle_s":0.8)",
                 operator_token_).status, 201);
  count("13:01:00", 10);
  count("13:01:30", 20);

  auto r = get("/api/v1/kpis?node=s1/a1/l1/press&by=run&from=2026-11-10T13:00:00-06:00&to=2026-11-10T13:01:45-06:00");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = nlohmann::json::parse(r.body);
  ASSERT_EQ(j.size(), 2u) << r.body;
  EXPECT_EQ(j[0]["run"], "WO-1");
  EXPECT_EQ(j[0]["product"], "cap-red");
  EXPECT_EQ(j[0]["from"], "2026-11-10T13:00:00-06:00");
  EXPECT_EQ(j[0]["to"], "2026-11-10T13:00:40-06:00");
  EXPECT_DOUBLE_EQ(j[0]["availability"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j[0]["ideal_time_s"].get<double>(), 52.0);  // 52 parts at the product's 1 s
  EXPECT_NEAR(j[0]["performance"].get<double>(), 52.0 / 40.0, 1e-9);
  EXPECT_NEAR(j[0]["quality"].get<double>(), 50.0 / 52.0, 1e-9);
  EXPECT_EQ(j[1]["run"], "WO-2");
  EXPECT_EQ(j[1]["to"], "2026-11-10T13:01:45-06:00");  // open: up to the window's end
  EXPECT_DOUBLE_EQ(j[1]["ideal_time_s"].get<double>(), 24.0);  // 30 parts at the run's 0.8 s
  EXPECT_NEAR(j[1]["performance"].get<double>(), 24.0 / 60.0, 1e-9);

  r = get("/api/v1/kpis?node=s1/a1&by=run&from=2026-11-10T13:00:00-06:00&to=2026-11-10T13:01:45-06:00");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'by=run' needs a machine or a line as 'node'"), std::string::npos) << r.body;
}

}  // namespace oee::api
