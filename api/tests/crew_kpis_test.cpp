// GET /api/v1/kpis?by=crew over the real SQLite store: a crew's row sums the shifts it worked.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../server/tests/websocket_client.h"
#include "api_fixture.h"
#include "live_messages.h"

namespace oee::api {

namespace {

// Two crews on a 4-day pattern (2 days on, 2 off) of the 06:00-14:00 shift (7 h planned after its
// breaks): A works Nov 9 and 10, B Nov 11 and 12.
class ApiWithCrews : public Api {
 protected:
  std::string plant_yaml() const override {
    std::string yaml = kPlant;
    return yaml.insert(yaml.find("sites:"), R"(rotation:
  start: 2026-11-09
  pattern: [{shift: day, days: 2}, {off: 2}]
  crews: [{name: A}, {name: B, offset_days: 2}]
)");
  }
};

std::string row_of(const std::string& body, const std::string& crew) {
  const std::size_t at = body.find("\"crew\":\"" + crew + "\"");
  if (at == std::string::npos) return {};
  return body.substr(at, body.find('}', at) - at);
}

}  // namespace

TEST_F(ApiWithCrews, KpisByCrewSumTheShiftsEachCrewWorked) {
  now_ = at("2026-11-13T00:00:00-06:00");
  const auto report = service_->ingest(
      {event(R"({"ts":"2026-11-09T06:00:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"1","src":"plc","seq":1})"),
       event(R"({"ts":"2026-11-11T07:00:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"2","src":"plc","seq":2})"),
       event(R"({"ts":"2026-11-11T07:30:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"1","src":"plc","seq":3})")},
      "oee/v1/s1/a1/l1/press/events");
  ASSERT_EQ(report.accepted, 3u);
  const auto r = get("/api/v1/kpis?node=s1/a1/l1/press&from=2026-11-09T00:00:00-06:00&to=2026-11-13T00:00:00-06:00&by=crew");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string a = row_of(r.body, "A"), b = row_of(r.body, "B");
  ASSERT_FALSE(a.empty()) << r.body;
  ASSERT_FALSE(b.empty()) << r.body;
  EXPECT_LT(r.body.find("\"crew\":\"A\""), r.body.find("\"crew\":\"B\""));  // sorted by crew
  EXPECT_EQ(field(a, "planned_production_time_s"), 2 * 7 * 3600);
  EXPECT_EQ(field(b, "planned_production_time_s"), 2 * 7 * 3600);
  EXPECT_EQ(field(a, "downtime_s"), 0);
  EXPECT_EQ(field(b, "downtime_s"), 30 * 60);
  EXPECT_EQ(r.body.find("\"shift\""), std::string::npos) << r.body;
}

TEST_F(Api, KpisByCrewWithoutARotationIs400) {
  const auto r = get("/api/v1/kpis?by=crew");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'by=crew' needs a rotation (crews) in the plant file"), std::string::npos) << r.body;
}

TEST_F(ApiWithCrews, CountsRefuseByCrew) {
  const auto r = get("/api/v1/counts?node=s1&from=2026-11-09T00:00:00-06:00&to=2026-11-10T00:00:00-06:00&by=crew");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'by' must be hour, day or shift"), std::string::npos) << r.body;
}

}  // namespace oee::api

namespace oee::api {

// The crew on the current shift, in the plant tree's current_shift and in the live feed's KPI
// messages: on 11 November the day shift is crew B's.
TEST_F(ApiWithCrews, TheCurrentShiftsCrewIsInThePlantTreeAndTheLiveFeed) {
  now_ = at("2026-11-11T07:00:00-06:00");
  const auto tree = get("/api/v1/plant");
  ASSERT_EQ(tree.status, 200) << tree.body;
  EXPECT_NE(tree.body.find(R"("current_shift":{"name":"day","crew":"B")"), std::string::npos) << tree.body;
  testing::WebSocketClient ws(http_->port(), "/api/v1/live", "Authorization: Bearer " + viewer_token_ + "\r\n");
  ASSERT_EQ(ws.status, 101) << ws.handshake;
  ws.send_text(R"({"type":"subscribe","nodes":["s1/a1/l1/press"]})");
  const auto kpi = next_of(ws, "kpi");
  EXPECT_EQ(kpi["shift"], "day") << kpi.dump();
  EXPECT_EQ(kpi["crew"], "B") << kpi.dump();
  now_ = at("2026-11-09T07:00:00-06:00");  // crew A's day
  EXPECT_NE(get("/api/v1/plant").body.find(R"("crew":"A")"), std::string::npos);
}

}  // namespace oee::api
