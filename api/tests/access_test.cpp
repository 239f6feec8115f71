// Authentication, roles, login rate limit, users, tokens, the audit trail, and the OpenAPI
// document against the routes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "api_fixture.h"

namespace oee::api {

TEST_F(Api, EveryRouteButTheOpenOnesNeedsAToken) {
  for (const std::string& route : router_.routes()) {
    const std::string method = route.substr(0, route.find(' '));
    const std::string path = route.substr(route.find(' ') + 1);
    if (path == "/healthz" || path == "/readyz" || path == "/api/v1/login" || path.ends_with("*")) continue;
    const auto r = request(method, path, "{}", "");
    EXPECT_EQ(r.status, 401) << route << " " << r.body;
    EXPECT_NE(r.body.find("\"code\":\"unauthenticated\""), std::string::npos) << route;
    EXPECT_EQ(request(method, path, "{}", "oee_not-a-token").status, 401) << route;
  }
  EXPECT_EQ(request("GET", "/api/v1/plant", "", kAdminToken).status, 200);
  // A malformed Authorization header is no token.
  const auto r = testing::HttpConnection(http_->port()).request("GET", "/api/v1/plant", "", "Authorization: Basic eDp5\r\n");
  EXPECT_EQ(r.status, 401);
}

TEST_F(Api, RolesAreEnforced) {
  EXPECT_EQ(request("GET", "/api/v1/users", "", viewer_token_).status, 403);
  EXPECT_EQ(request("GET", "/api/v1/users", "", operator_token_).status, 403);
  const auto r = request("POST", "/api/v1/tokens", R"({"name":"x","role":"admin"})", operator_token_);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("this needs the role 'admin'; you have 'operator'"), std::string::npos) << r.body;
  EXPECT_EQ(request("GET", "/api/v1/users", "", kAdminToken).status, 200);
}

TEST_F(Api, LoginLogoutAndUsers) {
  auto r = request("POST", "/api/v1/users", R"({"name":"olga","password":"correct horse","role":"operator"})", kAdminToken);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(request("POST", "/api/v1/users", R"({"name":"olga","password":"correct horse"})", kAdminToken).status, 400);
  EXPECT_EQ(request("POST", "/api/v1/users", R"({"name":"vik","password":"x","role":"viewer"})", kAdminToken).status, 400);
  EXPECT_EQ(request("POST", "/api/v1/users", R"({"name":"vik","password":"long enough","role":"boss"})", kAdminToken).status, 400);
  EXPECT_EQ(request("POST", "/api/v1/users", "not json", kAdminToken).status, 400);
  r = request("POST", "/api/v1/login", R"({"user":"olga","password":"wrong horse"})", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("bad_credentials"), std::string::npos);
  EXPECT_EQ(request("POST", "/api/v1/login", R"({"user":"olga"})", "").status, 400);
  r = request("POST", "/api/v1/login", R"({"user":"olga","password":"correct horse"})", "");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto login = nlohmann::json::parse(r.body);
  EXPECT_EQ(login["role"], "operator");
  EXPECT_EQ(login["expires"], "2026-11-11T08:00:00Z");  // 12 hours after the fixture's now
  const std::string token = login["token"];
  r = request("GET", "/api/v1/me", "", token);
  EXPECT_EQ(nlohmann::json::parse(r.body)["user"], "olga");
  EXPECT_EQ(request("POST", "/api/v1/logout", "", token).status, 200);
  EXPECT_EQ(request("GET", "/api/v1/me", "", token).status, 401);
  r = request("GET", "/api/v1/users", "", kAdminToken);
  EXPECT_NE(r.body.find("\"name\":\"olga\",\"role\":\"operator\""), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("password"), std::string::npos);
  r = request("POST", "/api/v1/users/update", R"({"name":"olga","role":"viewer"})", kAdminToken);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(request("POST", "/api/v1/users/update", R"({"name":"nobody","role":"viewer"})", kAdminToken).status, 404);
}

TEST_F(Api, FailedLoginsAreRateLimited) {
  accounts_->create_user("olga", "correct horse", auth::Role::viewer);
  for (int i = 0; i < 10; ++i)  // the default: 10 failures a minute per client address
    EXPECT_EQ(request("POST", "/api/v1/login", R"({"user":"olga","password":"guess"})", "").status, 401);
  const auto r = request("POST", "/api/v1/login", R"({"user":"olga","password":"correct horse"})", "");
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(r.headers.find("Retry-After: "), std::string::npos) << r.headers;
  now_ += kMsPerMinute;
  EXPECT_EQ(request("POST", "/api/v1/login", R"({"user":"olga","password":"correct horse"})", "").status, 200);
}

TEST_F(Api, LoginsAreCheckedOffTheIoThreads) {
  // The password hash runs on the server's blocking pool (server test
  // HttpServerBlockingRoutes.OtherConnectionsAreAnsweredWhileABlockingHandlerRuns shows the other
  // connections are answered meanwhile); here: the login route is one, and concurrent logins and
  // other requests all get their answers through it.
  server::HttpRequest login;
  login.method = "POST";
  login.path = "/api/v1/login";
  EXPECT_TRUE(router_.blocking(login));
  login.path = "/api/v1/me";
  login.method = "GET";
  EXPECT_FALSE(router_.blocking(login));
  accounts_->create_user("olga", "correct horse", auth::Role::viewer);
  std::vector<std::thread> logins;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i)
    logins.emplace_back([&] {
      if (request("POST", "/api/v1/login", R"({"user":"olga","password":"correct horse"})", "").status == 200) ++ok;
    });
  testing::HttpConnection c(http_->port());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(c.request("GET", "/api/v1/me", "", "Authorization: Bearer " + viewer_token_ + "\r\n").status, 200);
  for (auto& t : logins) t.join();
  EXPECT_EQ(ok, 6);
}

TEST_F(Api, TokensAndTheAuditTrail) {
  auto r = request("POST", "/api/v1/tokens", R"({"name":"scada","role":"viewer"})", kAdminToken);
  ASSERT_EQ(r.status, 201) << r.body;
  const auto created = nlohmann::json::parse(r.body);
  const std::string token = created["token"], id = created["id"];
  EXPECT_EQ(request("GET", "/api/v1/plant", "", token).status, 200);
  r = request("GET", "/api/v1/tokens", "", kAdminToken);
  EXPECT_NE(r.body.find("\"name\":\"scada\""), std::string::npos);
  EXPECT_EQ(r.body.find(token), std::string::npos) << "the secret is never listed";
  EXPECT_EQ(request("POST", "/api/v1/tokens/revoke", "{\"id\":\"" + id + "\"}", kAdminToken).status, 200);
  EXPECT_EQ(request("GET", "/api/v1/plant", "", token).status, 401);
  EXPECT_EQ(request("POST", "/api/v1/tokens/revoke", "{\"id\":\"" + id + "\"}", kAdminToken).status, 404);
  r = request("GET", "/api/v1/audit", "", kAdminToken);
  const auto audit = nlohmann::json::parse(r.body)["items"];
  ASSERT_EQ(audit.size(), 2u) << r.body;
  EXPECT_EQ(audit[0]["action"], "token.revoke");
  EXPECT_EQ(audit[0]["actor"], "OEE_ADMIN_TOKEN");
  EXPECT_EQ(audit[1]["action"], "token.create");
  EXPECT_EQ(r.body.find(token), std::string::npos);
  r = request("GET", "/api/v1/audit/verify", "", kAdminToken);
  EXPECT_NE(r.body.find("\"ok\":true,\"rows\":2"), std::string::npos) << r.body;
}

// A kiosk's display token reads what the scoreboard shows (plant, KPIs, reasons, itself) and nothing else.
TEST_F(Api, ADisplayTokenReadsOnlyTheScoreboard) {
  auto r = request("POST", "/api/v1/tokens", R"({"name":"tv-hall-1","role":"display"})", kAdminToken);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string token = nlohmann::json::parse(r.body)["token"];
  for (const char* path : {"/api/v1/plant", "/api/v1/kpis", "/api/v1/reasons"}) EXPECT_EQ(request("GET", path, "", token).status, 200) << path;
  r = request("GET", "/api/v1/me", "", token);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["role"], "display");
  for (const char* path : {"/api/v1/stops", "/api/v1/pareto", "/api/v1/counts", "/api/v1/timeline?machine=x", "/api/v1/tags", "/metrics",
                           "/api/v1/export/stops.csv", "/api/v1/openapi.json"}) {
    r = request("GET", path, "", token);
    EXPECT_EQ(r.status, 403) << path;
    EXPECT_NE(r.body.find("this needs the role 'viewer'; you have 'display'"), std::string::npos) << path << r.body;
  }
  EXPECT_EQ(request("POST", "/api/v1/stops/reason", R"({"machine":"x","at":"2026-01-01T00:00:00Z","reason":"r"})", token).status, 403);
  EXPECT_EQ(request("POST", "/api/v1/tokens", R"({"name":"t","role":"kiosk"})", kAdminToken).body.find("display, viewer, operator or admin") !=
                std::string::npos, true);
}

// Every route is in the OpenAPI document and every documented operation is a route.
TEST_F(Api, OpenApiDocumentMatchesTheRoutes) {
  const auto r = get("/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  const auto doc = nlohmann::json::parse(r.body);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  std::set<std::string> documented, routed;
  for (const auto& [path, ops] : doc["paths"].items())
    for (const auto& [method, op] : ops.items()) {
      std::string m = method;
      for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(m + " " + path);
      // Public operations are exactly the open routes.
      const bool open = op["security"].empty();
      EXPECT_EQ(open, path == "/healthz" || path == "/readyz" || path == "/api/v1/login") << path;
    }
  for (const std::string& route : router_.routes())
    if (!route.ends_with("*")) routed.insert(route);
  EXPECT_EQ(documented, routed);
}

}  // namespace oee::api
