// Rejects an operator reports (POST /api/v1/rejects) over the real store and HTTP server: they count
// in the KPIs, a retry of the same report is no second report, bad bodies get a clear 400, a viewer 403.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_fixture.h"

namespace oee::api {

TEST_F(Api, RejectsReportedByAnOperatorCountAndAreAudited) {
  ingest_vorne_shift();
  const auto before = nlohmann::json::parse(get("/api/v1/kpis?node=s1/a1/l1/press").body);
  const std::string body = R"({"machine":"s1/a1/l1/press","reject":7,"ts":"2026-11-10T13:30:00-06:00"})";
  auto r = request("POST", "/api/v1/rejects", body, operator_token_);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["reject"], 7);
  // The queue of a station on a poor network sends it again (its answer was lost): still 7.
  ASSERT_EQ(request("POST", "/api/v1/rejects", body, operator_token_).status, 201);
  const auto after = nlohmann::json::parse(get("/api/v1/kpis?node=s1/a1/l1/press").body);
  EXPECT_EQ(after["reject_count"].get<int>(), before["reject_count"].get<int>() + 7) << after.dump();
  EXPECT_EQ(after["good_count"], before["good_count"]);
  const auto audit = nlohmann::json::parse(request("GET", "/api/v1/audit", "", kAdminToken).body)["items"];
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit[0]["action"], "rejects.report");
  EXPECT_EQ(audit[0]["target"], "s1/a1/l1/press");
}

TEST_F(Api, RejectsRefusedWithAClearReason) {
  const auto refuse = [&](const std::string& body, const std::string& words) {
    const auto r = request("POST", "/api/v1/rejects", body, operator_token_);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find(words), std::string::npos) << r.body;
  };
  refuse(R"({"machine":"s1/a1/l1/press","reject":0})", "'reject' must be a whole number of parts, at least 1");
  refuse(R"({"machine":"s1/a1/l1/press","reject":"3"})", "'reject' must be a whole number");
  refuse(R"({"machine":"s1/a1/l1/press"})", "'reject' must be");
  refuse(R"({"machine":"s9/x","reject":1})", "unknown_machine");
  refuse(R"({"machine":"s1/a1/l1/press","reject":1,"ts":"yesterday"})", "field 'ts'");
  refuse("[1]", "the body must be a JSON object");
  EXPECT_EQ(request("POST", "/api/v1/rejects", R"({"machine":"s1/a1/l1/press","reject":1})", viewer_token_).status, 403);
}

}  // namespace oee::api
