#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../server/tests/websocket_client.h"
#include "api_fixture.h"
#include "live_messages.h"

namespace oee::api {

namespace {
class AlertApi : public Api {
 protected:
  std::string plant_yaml() const override {
    return std::string(kPlant) + "alerts:\n  rules: [{name: down5, kind: machine_down, node: s1/a1/l1/press, for_s: 300}]\n";
  }
  void stop_press_at(const char* ts) {
    service_->ingest({event(std::string(R"({"machine":"s1/a1/l1/press","type":"state","state":"stopped","ts":")") + ts + "\"}")}, "test");
  }
};

// A rule of each kind, for GET /api/v1/alerts/rules.
class AlertRulesApi : public Api {
 protected:
  std::string plant_yaml() const override {
    return std::string(kPlant) + "alerts:\n  rules:\n"
           "    - {name: down5, kind: machine_down, node: s1/a1/l1/press, for_s: 300}\n"
           "    - {name: line-oee, kind: oee_below_target, node: s1/a1/l1, target: 0.65, after_shift_start_s: 7200}\n"
           "    - {name: backlog, kind: edge_queue_growing, edge: line1-edge, for_s: 600}\n";
  }
};

}  // namespace

TEST_F(AlertRulesApi, RulesAndEdgeStatusesAreListed) {
  auto r = get("/api/v1/alerts/rules");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto rules = nlohmann::json::parse(r.body);
  ASSERT_EQ(rules.size(), 3u) << r.body;
  EXPECT_EQ(rules[0], nlohmann::json::parse(R"({"name":"down5","kind":"machine_down","node":"s1/a1/l1/press","for_s":300})"));
  EXPECT_EQ(rules[1]["target"], 0.65);
  EXPECT_EQ(rules[1]["after_shift_start_s"], 7200);
  EXPECT_EQ(rules[2]["edge"], "line1-edge");
  EXPECT_EQ(rules[2]["kind"], "edge_queue_growing");
  EXPECT_EQ(get("/api/v1/edges").body, "[]");  // no edge has reported
  {
    std::lock_guard lock(edge_statuses_mutex_);
    edge_statuses_["line1-edge"] = R"({"edge":"line1-edge","state":"online","ts":"2026-11-10T13:59:00Z","queue_depth":107})";
    edge_statuses_["line2-edge"] = "{\"edge\":\"line2-edge\",\"queue";  // cut off
  }
  r = get("/api/v1/edges");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto edges = nlohmann::json::parse(r.body);
  ASSERT_EQ(edges.size(), 2u) << r.body;
  EXPECT_EQ(edges[0]["edge"], "line1-edge");
  EXPECT_EQ(edges[0]["status"]["queue_depth"], 107);
  EXPECT_EQ(edges[0]["status"]["state"], "online");
  EXPECT_TRUE(edges[1]["status"].is_null());
  EXPECT_NE(edges[1]["problem"].get<std::string>().find("not a JSON object"), std::string::npos);
  const std::string display = accounts_->create_api_token("tv", auth::Role::display, "test").token;
  EXPECT_EQ(request("GET", "/api/v1/edges", "", display).status, 403);
  EXPECT_EQ(request("GET", "/api/v1/alerts/rules", "", display).status, 403);
}

TEST_F(AlertApi, FiringShowsInTheListAndOnTheWebSocketAndAnOperatorAcknowledgesIt) {
  testing::WebSocketClient ws(http_->port(), "/api/v1/live", "Authorization: Bearer " + viewer_token_ + "\r\n");
  ASSERT_EQ(ws.status, 101) << ws.handshake;
  ASSERT_FALSE(next_of(ws, "hello").empty());
  EXPECT_EQ(get("/api/v1/alerts").body, "[]");
  stop_press_at("2026-11-10T13:50:00-06:00");  // 10 min before the fixture's now: over the rule's 5
  ASSERT_EQ(alerts_->evaluate().size(), 1u);

  auto r = get("/api/v1/alerts");
  ASSERT_EQ(r.status, 200);
  auto list = nlohmann::json::parse(r.body);
  ASSERT_EQ(list.size(), 1u) << r.body;
  EXPECT_EQ(list[0]["id"], "down5/s1/a1/l1/press");
  EXPECT_EQ(list[0]["kind"], "machine_down");
  EXPECT_EQ(list[0]["state"], "firing");
  EXPECT_TRUE(list[0]["acknowledged_by"].is_null());
  auto pushed = next_of(ws, "alert");
  EXPECT_EQ(pushed["event"], "fired") << pushed.dump();
  EXPECT_EQ(pushed["alert"]["subject"], "s1/a1/l1/press");

  const std::string body = R"({"id":"down5/s1/a1/l1/press"})";
  EXPECT_EQ(request("POST", "/api/v1/alerts/acknowledge", body, viewer_token_).status, 403);
  r = request("POST", "/api/v1/alerts/acknowledge", body, operator_token_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["acknowledged_by"], "operator-token");
  EXPECT_EQ(next_of(ws, "alert")["event"], "acknowledged");
  EXPECT_EQ(request("POST", "/api/v1/alerts/acknowledge", body, operator_token_).status, 409);
  r = request("POST", "/api/v1/alerts/acknowledge", R"({"id":"nope"})", operator_token_);
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("unknown_alert"), std::string::npos);
  EXPECT_EQ(request("POST", "/api/v1/alerts/acknowledge", R"({"id":7})", operator_token_).status, 400);
  // The episode as listed (`fired_at`): one that fired at another time is unknown, a bad time a 400.
  const std::string fired_at = list[0]["fired_at"];
  const auto episode = [&](const std::string& at) {
    return request("POST", "/api/v1/alerts/acknowledge", R"({"id":"down5/s1/a1/l1/press","fired_at":")" + at + "\"}", operator_token_);
  };
  EXPECT_EQ(episode(fired_at).status, 409);
  r = episode("2026-11-10T00:00:00Z");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("no alert 'down5/s1/a1/l1/press' fired at 2026-11-10T00:00:00Z"), std::string::npos) << r.body;
  EXPECT_EQ(episode("yesterday").status, 400);
  // Audited, with who and what.
  r = request("GET", "/api/v1/audit", "", kAdminToken);
  const auto audit = nlohmann::json::parse(r.body);
  bool found = false;
  for (const auto& e : audit["items"])
    found = found || (e["action"] == "alert.acknowledge" && e["target"] == "down5/s1/a1/l1/press" && e["actor"] == "operator-token");
  EXPECT_TRUE(found) << r.body;

  // Running again: it resolves, and stays acknowledged.
  service_->ingest({event(R"({"machine":"s1/a1/l1/press","type":"state","state":"running","ts":"2026-11-10T13:59:00-06:00"})")}, "test");
  ASSERT_EQ(alerts_->evaluate().size(), 1u);
  EXPECT_EQ(next_of(ws, "alert")["event"], "resolved");
  list = nlohmann::json::parse(get("/api/v1/alerts").body);
  EXPECT_EQ(list[0]["state"], "resolved");
  EXPECT_EQ(list[0]["resolved_at"], "2026-11-10T20:00:00Z");
  EXPECT_EQ(list[0]["resolved_reason"], "cleared");  // its condition stopped holding
  EXPECT_EQ(list[0]["acknowledged_by"], "operator-token");
}

}  // namespace oee::api
