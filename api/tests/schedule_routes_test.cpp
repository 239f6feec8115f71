// Planned-downtime windows over the real SQLite store: KPIs, stops and the Pareto plan by the
// machine's own calendar.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_fixture.h"

namespace oee::api {

namespace {

const std::string kShift = "from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00";

// The Vorne shift's press stops 09:00-09:47; a maintenance window on it 09:30-10:30 (its last half
// hour is the 10:00-10:30 break already).
class ApiWithDowntime : public Api {
 protected:
  std::string plant_yaml() const override {
    return std::string(kPlant) + R"(downtime:
  - {name: PM, target: s1/a1/l1/press, start: "2026-11-10 09:30", end: "2026-11-10 10:30"}
)";
  }
};

}  // namespace

TEST_F(ApiWithDowntime, AWindowCutsThePlannedTimeTheStopsAndTheParetoOfItsMachine) {
  ingest_vorne_shift();
  auto j = nlohmann::json::parse(get("/api/v1/kpis?node=s1/a1/l1/press&" + kShift).body);
  EXPECT_EQ(j["planned_production_time_s"], 7 * 3600 - 30 * 60) << j.dump();
  j = nlohmann::json::parse(get("/api/v1/stops?node=s1/a1/l1/press&" + kShift).body);
  ASSERT_EQ(j["total"], 1) << j.dump();
  EXPECT_EQ(j["items"][0]["duration_s"], 47 * 60);
  EXPECT_EQ(j["items"][0]["planned_s"], 30 * 60);  // 09:00-09:30, before the window
  j = nlohmann::json::parse(get("/api/v1/pareto?node=s1&" + kShift).body);
  ASSERT_EQ(j["bars"].size(), 1u) << j.dump();
  EXPECT_EQ(j["bars"][0]["seconds"], 30 * 60);
}

}  // namespace oee::api
