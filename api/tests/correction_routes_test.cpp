// Corrections over the real store and HTTP server (docs/oee-model.md, "Corrections"): a supervisor
// corrects the oee.com / Vorne shift by POST /api/v1/corrections; the KPIs follow, by hand; the
// correction is listed by GET /api/v1/corrections and audited; others and bad bodies are refused.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

#include "api_fixture.h"

namespace oee::api {

namespace {

const std::string kShift = "/api/v1/kpis?node=s1/a1/l1/press&from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00";

class ApiCorrections : public Api {
 protected:
  void SetUp() override {
    Api::SetUp();
    supervisor_token_ = accounts_->create_api_token("shift-lead", auth::Role::supervisor, "test").token;
  }
  testing::HttpReply post(const std::string& body, const std::string& token) {
    return request("POST", "/api/v1/corrections", R"({"machine":"s1/a1/l1/press",)" + body + "}", token);
  }
  std::string supervisor_token_;
};

}  // namespace

TEST_F(ApiCorrections, ASupervisorsCorrectionsChangeTheKpisAndAreListedAndAudited) {
  ingest_vorne_shift();
  auto r = get(kShift);
  ASSERT_NEAR(field(r.body, "availability"), 373.0 / 420, 5e-5) << r.body;
  // The 47-minute breakdown was planned maintenance: 373 of 373 planned minutes ran.
  r = post(R"("kind":"reclassify","at":"2026-11-10T09:00:00-06:00","until":"2026-11-10T09:47:00-06:00",)"
           R"("state":"planned_stop","why":"maintenance was planned")",
           supervisor_token_);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["by"], "shift-lead");
  r = get(kShift);
  EXPECT_EQ(field(r.body, "planned_production_time_s"), 373 * 60) << r.body;
  EXPECT_NEAR(field(r.body, "availability"), 1.0, 1e-12);
  EXPECT_EQ(field(r.body, "total_count"), 19271);
  // 100 parts counted good at 11:00 were bad (found a minute later), by the admin.
  now_ = now_.load() + 60'000;
  r = post(R"("kind":"rejects","at":"2026-11-10T11:00:00-06:00","reject":100,"why":"found at inspection")", kAdminToken);
  ASSERT_EQ(r.status, 201) << r.body;
  r = get(kShift);
  EXPECT_NEAR(field(r.body, "quality"), (19271.0 - 523) / 19271, 1e-9) << r.body;
  EXPECT_EQ(field(r.body, "total_count"), 19271);

  r = get("/api/v1/corrections?node=s1/a1/l1&from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto list = nlohmann::json::parse(r.body)["corrections"];
  ASSERT_EQ(list.size(), 2u) << r.body;
  EXPECT_EQ(list[0]["kind"], "reclassify");
  EXPECT_EQ(list[0]["why"], "maintenance was planned");
  EXPECT_EQ(list[0]["machine"], "s1/a1/l1/press");
  EXPECT_EQ(list[1]["kind"], "rejects");
  EXPECT_EQ(list[1]["reject"], 100);
  // A window after both: none.
  r = get("/api/v1/corrections?node=s1&from=2026-11-10T12:00:00-06:00&to=2026-11-10T14:00:00-06:00");
  EXPECT_EQ(nlohmann::json::parse(r.body)["corrections"].size(), 0u) << r.body;

  // Each is in the audit chain with who made it and why; the original events stay.
  std::vector<std::string> actions;
  for (const auth::AuditEntry& e : audit_->entries(std::numeric_limits<std::int64_t>::max(), 100))
    if (e.action.rfind("correction.", 0) == 0) {
      actions.push_back(e.action + " " + e.actor + " " + e.target);
      EXPECT_NE(e.after.find("\"why\""), std::string::npos) << e.after;
    }
  std::sort(actions.begin(), actions.end());
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0], "correction.reclassify shift-lead s1/a1/l1/press@2026-11-10T15:00:00Z");
  EXPECT_EQ(actions[1].rfind("correction.rejects ", 0), 0u) << actions[1];
  EXPECT_TRUE(audit_->verify().ok);
  const auto events = service_->read_store([](storage::EventStore& s) {
    return s.machine_events("s1/a1/l1/press", at("2026-11-10T12:00:00Z"), at("2026-11-10T20:00:00Z"));
  });
  EXPECT_EQ(std::count_if(events.begin(), events.end(), [](const Event& e) { return e.type == EventType::state; }), 3);
}

TEST_F(ApiCorrections, OthersThanSupervisorsAndBadCorrectionsAreRefusedWithTheReason) {
  const std::string ok = R"("kind":"rejects","at":"2026-11-10T11:00:00-06:00","reject":1,"why":"x")";
  EXPECT_EQ(post(ok, viewer_token_).status, 403);
  EXPECT_EQ(post(ok, operator_token_).status, 403);
  EXPECT_EQ(post(ok, "").status, 401);
  const std::pair<std::string, std::string> bad[] = {
      {R"("kind":"reclassify","at":"2026-11-10T10:00:00Z","until":"2026-11-10T10:00:00Z","state":"running","why":"x")",
       "the range is empty"},
      {R"("kind":"reclassify","at":"2026-11-10T10:00:00Z","until":"2026-11-10T11:00:00Z","state":"asleep","why":"x")",
       "unknown_state"},
      {R"("kind":"reclassify","at":"2026-11-10T10:00:00Z","until":"2026-11-10T11:00:00Z","why":"x")", "needs 'state', 'reason'"},
      {R"("kind":"rejects","at":"2026-11-10T10:00:00Z","reject":0,"why":"x")", "'reject' must be a count from 1"},
      {R"("kind":"void_reading","at":"2026-11-10T10:00:00Z","name":"scrap","why":"x")", "'name' must be the counter"},
      {R"("kind":"undo","at":"2026-11-10T10:00:00Z","why":"x")", "'kind' must be"},
      {R"("kind":"rejects","at":"yesterday","reject":1,"why":"x")", "'at' must be an RFC 3339"},
      {R"("kind":"rejects","at":"2026-11-10T10:00:00Z","reject":1,"why":"")", "'why' must say why"},
  };
  for (const auto& [body, words] : bad) {
    const auto r = post(body, supervisor_token_);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find(words), std::string::npos) << body << " -> " << r.body;
  }
  auto r = request("POST", "/api/v1/corrections",
                   R"({"machine":"s1/a1/l1/nope","kind":"rejects","at":"2026-11-10T10:00:00Z","reject":1,"why":"x"})",
                   supervisor_token_);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown_machine"), std::string::npos) << r.body;
  r = get("/api/v1/corrections?node=s1/nope");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown_node"), std::string::npos) << r.body;
  EXPECT_EQ(get("/api/v1/corrections?node=s1/a1/l1/press&from=2026-11-10T10:00:00Z&to=2026-11-10T10:00:00Z").status, 400);
  // Nothing was stored or audited.
  r = get("/api/v1/corrections?node=s1&from=2026-11-09T00:00:00Z&to=2026-11-12T00:00:00Z");
  EXPECT_EQ(nlohmann::json::parse(r.body)["corrections"].size(), 0u) << r.body;
}

}  // namespace oee::api
