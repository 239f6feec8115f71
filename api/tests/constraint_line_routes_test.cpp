// docs/oee-model.md's worked example of a line in constraint mode (examples/constraint-line) over the
// real store and HTTP server: the line's KPIs and its Pareto by root-cause machine.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "api_fixture.h"

namespace oee::api {

namespace {

const std::string kHour = "from=2026-11-10T06:00:00Z&to=2026-11-10T07:00:00Z";

std::string example_file(const char* name) {
  std::ifstream in(std::string(OEE_CONSTRAINT_LINE_DIR) + "/" + name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class ApiConstraintLine : public Api {
 protected:
  std::string plant_yaml() const override { return example_file("plant.yaml"); }
  void ingest_example() {
    std::vector<Event> events;
    std::istringstream lines(example_file("events.jsonl"));
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) events.push_back(event(line));
    ASSERT_EQ(events.size(), 16u);
    ASSERT_EQ(service_->ingest(events, "test").inserted, events.size());
  }
};

}  // namespace

TEST_F(ApiConstraintLine, LineKpisAndParetoByRootCause) {
  ingest_example();
  auto r = get("/api/v1/kpis?node=s1/a1/l1&" + kHour);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NEAR(field(r.body, "availability"), 3000.0 / 3600.0, 1e-9) << r.body;
  EXPECT_NEAR(field(r.body, "performance"), 2760.0 / 3000.0, 1e-9);
  EXPECT_NEAR(field(r.body, "quality"), 1350.0 / 1380.0, 1e-9);
  EXPECT_NEAR(field(r.body, "oee"), 0.75, 1e-9);

  auto j = nlohmann::json::parse(get("/api/v1/pareto?node=s1/a1/l1&by=root_cause&" + kHour).body);
  EXPECT_EQ(j["by"], "root_cause");
  ASSERT_EQ(j["bars"].size(), 2u) << j.dump();
  EXPECT_EQ(j["bars"][0]["name"], "s1/a1/l1/filler");
  EXPECT_EQ(j["bars"][0]["seconds"], 300);
  EXPECT_EQ(j["bars"][0]["stops"], 1);
  EXPECT_EQ(j["bars"][1]["name"], "s1/a1/l1/packer");
  EXPECT_EQ(j["bars"][1]["seconds"], 120);
  EXPECT_EQ(j["total_s"], 420);

  // The line's losses by kind are the constraint's.
  j = nlohmann::json::parse(get("/api/v1/pareto?node=s1/a1/l1&by=kind&" + kHour).body);
  std::map<std::string, double> kinds;
  for (const auto& bar : j["bars"]) kinds[bar["name"]] = bar["seconds"];
  EXPECT_EQ(kinds["starved"], 300);
  EXPECT_EQ(kinds["blocked"], 120);
  EXPECT_EQ(kinds["breakdowns"], 180);

  r = get("/api/v1/pareto?node=s1/a1/l1/capper&by=root_cause&" + kHour);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("by=root_cause needs a line in kpi mode constraint"), std::string::npos) << r.body;
}

}  // namespace oee::api
