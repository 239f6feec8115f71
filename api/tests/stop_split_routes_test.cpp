// Splitting a stop (POST /api/v1/stops/split) over the real store and HTTP server: an operator
// splits the oee.com / Vorne shift's 47-minute breakdown in two parts with a reason each; the stop
// list, the Pareto and the corrections follow, by hand; a reason given afterwards to a part takes
// effect there only; bad splits and smaller roles are refused with the reason, storing nothing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_fixture.h"

namespace oee::api {

namespace {

const std::string kShift = "from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00";
const std::string kPress = R"("machine":"s1/a1/l1/press",)";

class ApiSplit : public Api {
 protected:
  std::string plant_yaml() const override {
    std::string yaml = kPlant;
    return yaml.insert(yaml.find("sites:"), R"(reasons:
  - {code: MECH, name: Mechanical, loss: breakdown, children: [{code: JAM, name: Jam}, {code: MOTOR, name: Motor}]}
  - {code: CLEAN, name: Cleaning}
)");
  }
  testing::HttpReply split(const std::string& body, const std::string& token) {
    return request("POST", "/api/v1/stops/split", "{" + kPress + body + "}", token);
  }
  nlohmann::json stops() { return nlohmann::json::parse(get("/api/v1/stops?node=s1/a1/l1/press&" + kShift).body)["items"]; }
  std::map<std::string, double> pareto() {
    std::map<std::string, double> out;
    const auto j = nlohmann::json::parse(get("/api/v1/pareto?node=s1/a1/l1/press&" + kShift).body);
    for (const auto& b : j["bars"])
      out[b["name"].get<std::string>()] = b["seconds"].get<double>();
    return out;
  }
  nlohmann::json corrections() {
    return nlohmann::json::parse(get("/api/v1/corrections?node=s1&" + kShift).body)["corrections"];
  }
};

}  // namespace

TEST_F(ApiSplit, AnOperatorSplitsAnEndedStopAndEachPartCountsWithItsOwnReason) {
  ingest_vorne_shift();
  ASSERT_EQ(stops().size(), 1u);
  // 09:00-09:47 ("die"): a jam until 09:20, then cleaning.
  auto r = split(R"("at":"2026-11-10T09:10:00-06:00","split":"2026-11-10T09:20:00-06:00","before":"JAM","after":"CLEAN")",
                 operator_token_);
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["previous_reason"], "die");
  EXPECT_EQ(j["split"], "2026-11-10T09:20:00-06:00");
  ASSERT_EQ(j["parts"].size(), 2u);
  EXPECT_EQ(j["parts"][0]["from"], "2026-11-10T09:00:00-06:00");
  EXPECT_EQ(j["parts"][1]["to"], "2026-11-10T09:47:00-06:00");

  // Two stops now, newest first, each with its reason and length.
  const auto list = stops();
  ASSERT_EQ(list.size(), 2u) << list;
  EXPECT_EQ(list[0]["from"], "2026-11-10T09:20:00-06:00");
  EXPECT_EQ(list[0]["reason"], "CLEAN");
  EXPECT_EQ(list[0]["duration_s"], 27 * 60);
  EXPECT_EQ(list[1]["from"], "2026-11-10T09:00:00-06:00");
  EXPECT_EQ(list[1]["to"], "2026-11-10T09:20:00-06:00");
  EXPECT_EQ(list[1]["reason"], "JAM");
  EXPECT_EQ(list[1]["duration_s"], 20 * 60);
  auto bars = pareto();
  EXPECT_EQ(bars.size(), 2u);
  EXPECT_EQ(bars["JAM"], 20 * 60);
  EXPECT_EQ(bars["CLEAN"], 27 * 60);

  // Two reclassify corrections made by the operator, and one audit row.
  const auto made = corrections();
  ASSERT_EQ(made.size(), 2u) << made;
  for (const auto& c : made) {
    EXPECT_EQ(c["kind"], "reclassify");
    EXPECT_EQ(c["by"], "operator-token");
    EXPECT_NE(c["why"].get<std::string>().find("split of the stop from 2026-11-10T09:00:00-06:00"), std::string::npos) << c;
  }
  const auto audit = nlohmann::json::parse(request("GET", "/api/v1/audit", "", kAdminToken).body)["items"];
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0]["action"], "stop.split");
  EXPECT_EQ(audit[0]["actor"], "operator-token");
  EXPECT_EQ(audit[0]["target"], "s1/a1/l1/press@2026-11-10T15:00:00Z");
  EXPECT_EQ(audit[0]["before"], R"({"reason":"die","to":"2026-11-10T09:47:00-06:00"})");

  // A reason given to the second part later (a reason event would lose to the split's correction):
  // that part changes, the first keeps its own.
  now_ = now_.load() + 60'000;
  r = request("POST", "/api/v1/stops/reason", "{" + kPress + R"("at":"2026-11-10T09:30:00-06:00","reason":"MOTOR"})", operator_token_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["previous_reason"], "CLEAN");
  bars = pareto();
  EXPECT_EQ(bars.size(), 2u);
  EXPECT_EQ(bars["JAM"], 20 * 60);
  EXPECT_EQ(bars["MOTOR"], 27 * 60);
  // And the first part, too.
  r = request("POST", "/api/v1/stops/reason", "{" + kPress + R"("at":"2026-11-10T09:00:00-06:00","reason":"CLEAN"})", operator_token_);
  ASSERT_EQ(r.status, 200) << r.body;
  bars = pareto();
  EXPECT_EQ(bars["CLEAN"], 20 * 60);
  EXPECT_EQ(bars["MOTOR"], 27 * 60);
  EXPECT_EQ(stops().size(), 2u);
}

TEST_F(ApiSplit, BadSplitsAndSmallerRolesAreRefusedWithTheReason) {
  ingest_vorne_shift();
  // A stop still lasting: 13:50 until now (14:00).
  ASSERT_EQ(service_->ingest({event(R"({"ts":"2026-11-10T13:50:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"2","src":"plc","seq":10})")}, "test").inserted, 1u);
  const std::string ok = R"("at":"2026-11-10T09:10:00-06:00","split":"2026-11-10T09:20:00-06:00","before":"JAM","after":"CLEAN")";
  EXPECT_EQ(split(ok, viewer_token_).status, 403);
  EXPECT_EQ(split(ok, "").status, 401);
  const std::pair<std::string, std::string> bad[] = {
      {R"("at":"2026-11-10T13:55:00-06:00","split":"2026-11-10T13:57:00-06:00","before":"JAM","after":"CLEAN")", "open_stop"},
      {R"("at":"2026-11-10T09:10:00-06:00","split":"2026-11-10T09:00:00-06:00","before":"JAM","after":"CLEAN")",
       "'split' must be an RFC 3339 instant inside the stop, after 2026-11-10T09:00:00-06:00 and before 2026-11-10T09:47:00-06:00"},
      {R"("at":"2026-11-10T09:10:00-06:00","split":"2026-11-10T09:47:00-06:00","before":"JAM","after":"CLEAN")", "inside the stop"},
      {R"("at":"2026-11-10T09:10:00-06:00","split":"soon","before":"JAM","after":"CLEAN")", "inside the stop"},
      {R"("at":"2026-11-10T09:10:00-06:00","before":"JAM","after":"CLEAN")", "'split' must be a string"},
      {R"("at":"2026-11-10T09:10:00-06:00","split":"2026-11-10T09:20:00-06:00","before":"NOPE","after":"CLEAN")", "unknown_reason"},
      {R"("at":"2026-11-10T09:10:00-06:00","split":"2026-11-10T09:20:00-06:00","before":"JAM","after":"")", "'after' must not be empty"},
      {R"("at":"2026-11-10T09:10:00-06:00","split":"2026-11-10T09:20:00-06:00","before":"JAM")", "'after' must be a string"},
      {R"("at":"2026-11-10T08:00:00-06:00","split":"2026-11-10T08:10:00-06:00","before":"JAM","after":"CLEAN")", "not_a_stop"},
  };
  for (const auto& [body, words] : bad) {
    const auto r = split(body, operator_token_);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find(words), std::string::npos) << body << " -> " << r.body;
  }
  EXPECT_EQ(request("POST", "/api/v1/stops/split", "[", operator_token_).status, 400);
  // Nothing was stored or audited.
  EXPECT_EQ(corrections().size(), 0u);
  EXPECT_EQ(stops().size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(request("GET", "/api/v1/audit", "", kAdminToken).body)["items"].size(), 0u);
}

}  // namespace oee::api
