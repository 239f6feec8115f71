// Sessions against the real server: the idle timeout and the absolute lifetime, and a logout,
// revocation or expiry closing the token's open WebSocket (waited on, with the server's reason);
// API token rotation with an overlap, and the admin token's replacement.
#include <nlohmann/json.hpp>

#include "../../server/tests/websocket_client.h"
#include "api_fixture.h"

namespace oee::api {
namespace {

class SessionsTest : public Api {
 protected:
  void SetUp() override {
    Api::SetUp();
    accounts_->create_user("olga", "operator password", auth::Role::operator_);
  }
  std::string login() {
    const auto r = request("POST", "/api/v1/login", R"({"user":"olga","password":"operator password"})", "");
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body).value("token", "");
  }
  // Waits for the server to close the connection (up to 5 s); the reason it gave, if any.
  static std::string reason_closed(testing::WebSocketClient& ws) {
    std::string reason;
    while (const auto m = ws.receive(5000)) {
      const auto j = nlohmann::json::parse(*m);
      if (j["type"] == "closing") reason = j.value("reason", "");
    }
    EXPECT_TRUE(ws.closed) << "the server did not close the connection";
    return reason;
  }
  std::unique_ptr<testing::WebSocketClient> live(const std::string& token) {
    auto ws = std::make_unique<testing::WebSocketClient>(http_->port(), "/api/v1/live", "Authorization: Bearer " + token + "\r\n");
    EXPECT_EQ(ws->status, 101) << ws->handshake;
    EXPECT_TRUE(ws->receive());  // hello
    return ws;
  }
};

TEST_F(SessionsTest, AnUnusedSessionEndsAfterTheIdleTimeout) {
  const std::string token = login();
  // Use keeps it going past the idle timeout (1 h by default)...
  for (int i = 0; i < 3; ++i) {
    now_ += 50 * kMsPerMinute;
    EXPECT_EQ(request("GET", "/api/v1/me", "", token).status, 200) << i;
  }
  // ... an hour without a request ends it.
  now_ += kMsPerHour;
  EXPECT_EQ(request("GET", "/api/v1/me", "", token).status, 401);
  // API tokens have no idle timeout.
  EXPECT_EQ(get("/api/v1/me").status, 200);
}

TEST_F(SessionsTest, ASessionInUseEndsAtItsLifetime) {
  const std::string token = login();
  // 12 hours by default, however busy the session is.
  TimeMs used = 0;
  while (used + 50 * kMsPerMinute < 12 * kMsPerHour) {
    now_ += 50 * kMsPerMinute;
    used += 50 * kMsPerMinute;
    ASSERT_EQ(request("GET", "/api/v1/me", "", token).status, 200) << used;
  }
  now_ += 12 * kMsPerHour - used;
  EXPECT_EQ(request("GET", "/api/v1/me", "", token).status, 401);
}

TEST_F(SessionsTest, LogoutClosesTheSessionsWebSocket) {
  const std::string token = login();
  auto ws = live(token);
  auto other = live(viewer_token_);
  EXPECT_EQ(request("POST", "/api/v1/logout", "", token).status, 200);
  EXPECT_EQ(reason_closed(*ws), "token_ended");
  // Only that session's connections close.
  other->send_text(R"({"type":"subscribe","nodes":["s1"]})");
  const auto m = other->receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(nlohmann::json::parse(*m)["type"], "subscribed");
}

TEST_F(SessionsTest, RevocationClosesTheTokensWebSocket) {
  auto ws = live(operator_token_);
  const auto id = accounts_->authenticate(operator_token_)->token_id;
  EXPECT_EQ(request("POST", "/api/v1/tokens/revoke", "{\"id\":\"" + id + "\"}", kAdminToken).status, 200);
  EXPECT_EQ(reason_closed(*ws), "token_ended");
  EXPECT_EQ(testing::WebSocketClient(http_->port(), "/api/v1/live", "Authorization: Bearer " + operator_token_ + "\r\n").status, 401);
}

TEST_F(SessionsTest, AnExpiredSessionsWebSocketCloses) {
  const std::string token = login();
  auto ws = live(token);
  // No request comes: the feed's clock tick ends the idle session and closes its connection.
  now_ += kMsPerHour;
  EXPECT_EQ(reason_closed(*ws), "token_ended");
  EXPECT_EQ(request("GET", "/api/v1/me", "", token).status, 401);
}

// Rotation: both tokens work during the overlap; then the old one is refused and its WebSocket closes.
TEST_F(SessionsTest, ARotatedTokenWorksThroughTheOverlapThenEnds) {
  const auto old_id = accounts_->authenticate(operator_token_)->token_id;
  auto ws = live(operator_token_);
  const auto r = request("POST", "/api/v1/tokens/rotate", R"({"id":")" + old_id + R"(","overlap_s":600})", kAdminToken);
  ASSERT_EQ(r.status, 201) << r.body;
  const auto j = nlohmann::json::parse(r.body);
  const std::string fresh = j["token"];
  EXPECT_EQ(j["old_id"], old_id);
  EXPECT_NE(j["id"], old_id);
  const auto who = nlohmann::json::parse(request("GET", "/api/v1/me", "", fresh).body);
  EXPECT_EQ(who["user"], "operator-token");  // the same name and role
  EXPECT_EQ(who["role"], "operator");
  now_ += 599 * kMsPerSecond;
  EXPECT_EQ(request("GET", "/api/v1/me", "", operator_token_).status, 200);
  EXPECT_EQ(request("GET", "/api/v1/me", "", fresh).status, 200);
  now_ += kMsPerSecond;
  EXPECT_EQ(reason_closed(*ws), "token_ended");
  EXPECT_EQ(request("GET", "/api/v1/me", "", operator_token_).status, 401);
  EXPECT_EQ(request("GET", "/api/v1/me", "", fresh).status, 200);
  // The audit trail names both.
  const auto audit = nlohmann::json::parse(request("GET", "/api/v1/audit", "", kAdminToken).body)["items"];
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit[0]["action"], "token.rotate");
  EXPECT_EQ(audit[0]["target"], old_id);
  EXPECT_EQ(nlohmann::json::parse(audit[0]["after"].get<std::string>())["new_id"], j["id"]);
}

TEST_F(SessionsTest, RotationIsForAdminsWithABoundedOverlap) {
  const auto id = accounts_->authenticate(viewer_token_)->token_id;
  const std::string body = R"({"id":")" + id + R"(","overlap_s":60})";
  EXPECT_EQ(request("POST", "/api/v1/tokens/rotate", body, operator_token_).status, 403);
  for (const char* overlap : {"604801", "-1", "\"60\"", "1.5"}) {
    const auto r = request("POST", "/api/v1/tokens/rotate", R"({"id":")" + id + R"(","overlap_s":)" + overlap + "}", kAdminToken);
    EXPECT_EQ(r.status, 400) << overlap;
    EXPECT_NE(r.body.find("overlap_s"), std::string::npos) << r.body;
  }
  EXPECT_EQ(request("POST", "/api/v1/tokens/rotate", R"({"id":"0000000000000000"})", kAdminToken).status, 404);
  // Sessions and OEE_ADMIN_TOKEN are not rotated here (log in again; change the environment).
  const auto admin_id = accounts_->authenticate(kAdminToken)->token_id;
  EXPECT_EQ(request("POST", "/api/v1/tokens/rotate", R"({"id":")" + admin_id + R"("})", kAdminToken).status, 400);
  const auto session_id = accounts_->authenticate(login())->token_id;
  EXPECT_EQ(request("POST", "/api/v1/tokens/rotate", R"({"id":")" + session_id + R"("})", kAdminToken).status, 400);
  // The largest overlap is accepted, and the refused requests left the token alone.
  EXPECT_EQ(request("POST", "/api/v1/tokens/rotate", R"({"id":")" + id + R"(","overlap_s":604800})", kAdminToken).status, 201);
  now_ += 7 * 24 * kMsPerHour - kMsPerSecond;
  EXPECT_EQ(request("GET", "/api/v1/me", "", viewer_token_).status, 200);
}

// docs/security.md, "Rotating the admin token": at no step is there no working admin credential.
TEST_F(SessionsTest, TheAdminTokenIsReplacedWithoutDowntime) {
  // 1. With OEE_ADMIN_TOKEN, an admin API token for the clients.
  const auto created = request("POST", "/api/v1/tokens", R"({"name":"ops-admin","role":"admin"})", kAdminToken);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string ops = nlohmann::json::parse(created.body)["token"];
  // 2. The clients switch to it; both work meanwhile.
  EXPECT_EQ(request("GET", "/api/v1/users", "", ops).status, 200);
  EXPECT_EQ(request("GET", "/api/v1/users", "", kAdminToken).status, 200);
  // 3. The new token revokes OEE_ADMIN_TOKEN (then it is taken out of the service's environment).
  const auto env_id = accounts_->authenticate(kAdminToken)->token_id;
  EXPECT_EQ(request("POST", "/api/v1/tokens/revoke", R"({"id":")" + env_id + R"("})", ops).status, 200);
  EXPECT_EQ(request("GET", "/api/v1/users", "", kAdminToken).status, 401);
  // 4. Later rotations of the admin API token overlap.
  const auto ops_id = accounts_->authenticate(ops)->token_id;
  const auto rotated = request("POST", "/api/v1/tokens/rotate", R"({"id":")" + ops_id + R"(","overlap_s":300})", ops);
  ASSERT_EQ(rotated.status, 201) << rotated.body;
  const std::string next = nlohmann::json::parse(rotated.body)["token"];
  EXPECT_EQ(request("GET", "/api/v1/users", "", ops).status, 200);
  EXPECT_EQ(request("GET", "/api/v1/users", "", next).status, 200);
  now_ += 300 * kMsPerSecond;
  EXPECT_EQ(request("GET", "/api/v1/users", "", ops).status, 401);
  EXPECT_EQ(request("GET", "/api/v1/users", "", next).status, 200);
}

}  // namespace
}  // namespace oee::api
