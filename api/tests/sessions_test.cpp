// Sessions against the real server: the idle timeout and the absolute lifetime, and a logout,
// revocation or expiry closing the token's open WebSocket (waited on, with the server's reason).
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

}  // namespace
}  // namespace oee::api
