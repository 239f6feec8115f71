// Reason trees over the real store and HTTP server: PLC codes read as tree codes, operator reasons
// checked against the tree, a reason that makes a stop planned, the Pareto by tree level and the
// reason coverage.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_fixture.h"

namespace oee::api {

namespace {

const std::string kShift = "from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00";

class ApiWithReasons : public Api {
 protected:
  std::string plant_yaml() const override {
    std::string yaml = kPlant;
    return yaml.insert(yaml.find("sites:"), R"(reasons:
  - {code: MECH, name: Mechanical, loss: breakdown, children: [{code: JAM, name: Jam}, {code: MOTOR, name: Motor}]}
  - {code: ORG, name: Organisation, children: [{code: NO_ORDERS, name: No orders, loss: planned}]}
reason_codes: {"3": JAM}
)");
  }
  // Press: stops 07:00-07:20 (PLC code 3), 09:00-09:30 and 11:00-11:40 (no reason); all clear of
  // the breaks. Planned production time 420 min, 90 of them down.
  void ingest_stops() {
    std::vector<Event> events;
    std::int64_t seq = 0;
    auto add = [&](const char* time, const char* state, const char* reason = "") {
      events.push_back(event(std::string(R"({"ts":"2026-11-10T)") + time + R"(-06:00","machine":"s1/a1/l1/press","type":"state","state":")" +
                             state + R"(","reason":")" + reason + R"(","src":"plc","seq":)" + std::to_string(++seq) + "}"));
    };
    add("06:00:00", "1");
    add("07:00:00", "2", "3");
    add("07:20:00", "1");
    add("09:00:00", "2");
    add("09:30:00", "1");
    add("11:00:00", "2");
    add("11:40:00", "1");
    ASSERT_EQ(service_->ingest(events, "test").inserted, events.size());
  }
  testing::HttpReply assign(const char* at, const char* reason) {
    return request("POST", "/api/v1/stops/reason",
                   std::string(R"({"machine":"s1/a1/l1/press","at":"2026-11-10T)") + at + R"(-06:00","reason":")" + reason + "\"}",
                   operator_token_);
  }
};

}  // namespace

TEST_F(ApiWithReasons, TheTreeIsListed) {
  const auto r = get("/api/v1/reasons");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["depth"], 2);
  ASSERT_EQ(j["reasons"].size(), 5u);
  EXPECT_EQ(j["reasons"][1]["code"], "JAM");
  EXPECT_EQ(j["reasons"][1]["parent"], "MECH");
  EXPECT_EQ(j["reasons"][1]["loss"], "breakdown");  // inherited
  EXPECT_EQ(j["reasons"][1]["level"], 2);
  EXPECT_FALSE(j["reasons"][3].contains("loss"));  // ORG: none
}

// Hand-computed: 420 min planned, stops of 20 (JAM), 30 and 40 min. "NO_ORDERS" (loss planned) on
// the 40-minute stop makes it planned downtime: availability 330/420 -> 330/380.
TEST_F(ApiWithReasons, APlannedReasonTheParetoByLevelAndTheCoverage) {
  ingest_stops();
  auto r = get("/api/v1/kpis?node=s1/a1/l1/press&" + kShift);
  EXPECT_NEAR(field(r.body, "availability"), 330.0 / 420.0, 1e-9) << r.body;
  auto j = nlohmann::json::parse(get("/api/v1/pareto?node=s1&" + kShift).body);
  EXPECT_EQ(j["bars"][0]["name"], "(unassigned)");
  EXPECT_EQ(j["bars"][0]["seconds"], 4200);
  EXPECT_EQ(j["bars"][1]["name"], "JAM");  // PLC code 3
  EXPECT_EQ(j["reason_coverage"]["downtime_s"], 5400);
  EXPECT_EQ(j["reason_coverage"]["with_reason_s"], 1200);
  EXPECT_EQ(j["reason_coverage"]["time_to_reason_s"]["median"], 0);

  // Operators name codes of the tree: free text is refused while a tree is configured.
  r = assign("09:10:00", "material");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown_reason"), std::string::npos) << r.body;
  ASSERT_EQ(assign("09:10:00", "MOTOR").status, 200);      // given at 14:00: 5 h after the stop
  ASSERT_EQ(assign("11:00:00", "NO_ORDERS").status, 200);  // 3 h after

  r = get("/api/v1/kpis?node=s1/a1/l1/press&" + kShift);
  EXPECT_NEAR(field(r.body, "availability"), 330.0 / 380.0, 1e-9) << r.body;
  EXPECT_EQ(field(r.body, "planned_downtime_s"), (60 + 40) * 60) << r.body;
  j = nlohmann::json::parse(get("/api/v1/pareto?node=s1&" + kShift).body);
  ASSERT_EQ(j["bars"].size(), 2u) << j;
  EXPECT_EQ(j["bars"][0]["name"], "MOTOR");
  EXPECT_EQ(j["bars"][0]["seconds"], 1800);
  EXPECT_EQ(j["total_s"], 3000);
  const auto cov = j["reason_coverage"];
  EXPECT_EQ(cov["downtime_s"], 5400);  // the stop made planned still counts as covered downtime
  EXPECT_EQ(cov["with_reason_s"], 5400);
  EXPECT_EQ(cov["share"], 1.0);
  EXPECT_EQ(cov["stops_with_reason"], 3);
  // The second reason is stamped 1 ms after the first: the API's reason timestamps only grow.
  EXPECT_DOUBLE_EQ(cov["time_to_reason_s"]["median"].get<double>(), 3 * 3600 + 0.001);
  EXPECT_EQ(cov["time_to_reason_s"]["p90"], 5 * 3600);
  // The planned stop's reason can still change: back to a breakdown.
  EXPECT_EQ(assign("11:00:00", "JAM").status, 200);

  // By level 1 of the tree: JAM and MOTOR roll up into MECH.
  j = nlohmann::json::parse(get("/api/v1/pareto?node=s1&level=1&" + kShift).body);
  EXPECT_EQ(j["level"], 1);
  ASSERT_EQ(j["bars"].size(), 1u) << j;
  EXPECT_EQ(j["bars"][0]["name"], "MECH");
  EXPECT_EQ(j["bars"][0]["seconds"], 5400);
  EXPECT_EQ(j["bars"][0]["stops"], 3);
  EXPECT_EQ(get("/api/v1/pareto?node=s1&level=3&" + kShift).status, 400);
  EXPECT_EQ(get("/api/v1/pareto?node=s1&by=kind&level=1&" + kShift).status, 400);
}

// Without a tree, reasons stay free text and levels are refused.
TEST_F(Api, WithoutATreeReasonsAreFreeTextAndLevelsAreRefused) {
  ingest_vorne_shift();
  EXPECT_EQ(request("POST", "/api/v1/stops/reason", R"({"machine":"s1/a1/l1/press","at":"2026-11-10T09:10:00-06:00","reason":"any text"})",
                    operator_token_).status, 200);
  const auto r = get("/api/v1/pareto?node=s1&level=1&" + kShift);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("reason tree"), std::string::npos) << r.body;
  EXPECT_EQ(nlohmann::json::parse(get("/api/v1/reasons").body)["tree"], false);
}

}  // namespace oee::api
