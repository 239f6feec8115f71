// `oee serve`'s flags for rate limits, trusted proxies, the login back-off and sessions, each
// against the real server over loopback (clients on several 127.0.0.x addresses).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "../../server/tests/websocket_client.h"
#include "../../transport/tests/eventually.h"
#include "demo_crash_scenario.h"

namespace {

using namespace std::chrono_literals;

const std::string kAdminToken = "serve-limits-test-admin-token";

class ServeLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("oee-serve-limits-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->kill(SIGTERM), 0);
    }
    std::filesystem::remove_all(dir_);
  }
  void start(std::vector<std::string> flags) {
    std::vector<std::string> argv = {OEE_BINARY, "serve", "--plant", OEE_DEMO_PLANT_FILE, "--data-dir", (dir_ / "data").string(),
                                     "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    server_ = std::make_unique<oee::testing::ChildProcess>(argv, (dir_ / "serve.log").string());
    ASSERT_TRUE(server_->wait_for_output("listening on", 60s)) << server_->output();
    port_ = oee::testing::listening_port(server_->output());
    ASSERT_NE(port_, 0);
  }
  oee::testing::HttpReply send(const char* from, const std::string& method, const std::string& target, const std::string& body,
                               const std::string& headers) {
    return oee::testing::HttpConnection(port_, from).request(method, target, body, headers);
  }
  oee::testing::HttpReply login(const char* from, const std::string& password, const std::string& forwarded_for = {}) {
    return login_as(from, "olga", password, forwarded_for);
  }
  oee::testing::HttpReply login_as(const char* from, const std::string& user, const std::string& password,
                                   const std::string& forwarded_for = {}) {
    return send(from, "POST", "/api/v1/login", R"({"user":")" + user + R"(","password":")" + password + "\"}",
                forwarded_for.empty() ? "" : "X-Forwarded-For: " + forwarded_for + "\r\n");
  }
  // Bad passwords from `from`, each for another user name (and, when `spoofed_for` is set, each with
  // another made-up X-Forwarded-For), until the first 429: how many got 401 before it.
  int failures_until_held_up(const char* from, const std::string& forwarded_for, bool spoofed_for = false) {
    for (int i = 0; i < 50; ++i) {
      const std::string for_header = spoofed_for ? "10.77.0." + std::to_string(i) : forwarded_for;
      const auto r = login_as(from, "user" + std::to_string(i), "wrong password", for_header);
      if (r.status == 429) {
        EXPECT_GE(retry_after_s(r), 1) << r.headers;
        EXPECT_NE(r.body.find("too_many_attempts"), std::string::npos) << r.body;
        return i;
      }
      EXPECT_EQ(r.status, 401) << r.body;
    }
    return -1;
  }
  void create_user() {
    const auto r = send("127.0.0.1", "POST", "/api/v1/users", R"({"name":"olga","password":"operator password","role":"operator"})",
                        "Authorization: Bearer " + kAdminToken + "\r\n");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  static int retry_after_s(const oee::testing::HttpReply& r) {
    const std::size_t at = r.headers.find("Retry-After: ");
    return at == std::string::npos ? -1 : std::stoi(r.headers.substr(at + 13));
  }
  std::filesystem::path dir_;
  std::unique_ptr<oee::testing::ChildProcess> server_;
  std::uint16_t port_ = 0;
};

TEST_F(ServeLimits, LoginBackOffAndTrustedProxyFlags) {
  start({"--trusted-proxy", "127.0.0.20/32", "--trusted-proxy", "fd00::/8", "--login-failures-max", "3", "--login-window-s", "30"});
  create_user();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(login("127.0.0.20", "wrong password", "198.51.100.1").status, 401);
  const auto held = login("127.0.0.20", "operator password", "198.51.100.1");
  EXPECT_EQ(held.status, 429);
  EXPECT_GE(retry_after_s(held), 1);
  EXPECT_LE(retry_after_s(held), 30);  // --login-window-s, not the default minute
  // Another client behind the same proxy, and the spoofed header from an untrusted peer, are not held up.
  EXPECT_EQ(login("127.0.0.20", "operator password", "198.51.100.2").status, 200);
  EXPECT_EQ(login("127.0.0.21", "operator password", "198.51.100.1").status, 200);
}

// The acceptance case with the defaults (10 failures a minute per client address): a brute force
// across many user names from one address is held up, and cannot lock out the real user elsewhere.
// Behind `--trusted-proxy`, the client named by X-Forwarded-For counts, not the proxy; from an
// untrusted peer, a different made-up X-Forwarded-For on each try does not dodge the back-off.
TEST_F(ServeLimits, ABruteForceFromManyUserNamesAndTheProxyCase) {
  start({"--trusted-proxy", "127.0.0.50/32"});
  create_user();
  EXPECT_EQ(failures_until_held_up("127.0.0.51", "", true), 10);
  EXPECT_EQ(login("127.0.0.51", "operator password").status, 429);
  EXPECT_EQ(login("127.0.0.52", "operator password").status, 200);
  // Through the trusted proxy: one client is held up, the proxy's other clients are not.
  EXPECT_EQ(failures_until_held_up("127.0.0.50", "198.51.100.9"), 10);
  EXPECT_EQ(login("127.0.0.50", "operator password", "198.51.100.9").status, 429);
  EXPECT_EQ(login("127.0.0.50", "operator password", "198.51.100.10").status, 200);
  // An address the client puts in front of the proxy's own entry does not help it.
  EXPECT_EQ(login("127.0.0.50", "operator password", "203.0.113.5, 198.51.100.9").status, 429);
}

TEST_F(ServeLimits, RateLimitFlags) {
  start({"--rate-limit-address-per-s", "0.01", "--rate-limit-address-burst", "3", "--rate-limit-token-per-s", "0.01",
         "--rate-limit-token-burst", "2", "--rate-limit-keys-max", "1"});
  const std::string admin = "Authorization: Bearer " + kAdminToken + "\r\n";
  EXPECT_EQ(send("127.0.0.30", "GET", "/api/v1/me", "", admin).status, 200);
  EXPECT_EQ(send("127.0.0.30", "GET", "/api/v1/me", "", admin).status, 200);
  const auto token_limited = send("127.0.0.30", "GET", "/api/v1/me", "", admin);
  EXPECT_EQ(token_limited.status, 429);
  EXPECT_GT(retry_after_s(token_limited), 60);  // 0.01 per second
  for (int i = 0; i < 3; ++i) EXPECT_EQ(send("127.0.0.32", "GET", "/api/v1/me", "", "").status, 401);
  EXPECT_EQ(send("127.0.0.32", "GET", "/api/v1/me", "", "").status, 429);
  // One tracked address (--rate-limit-keys-max 1): another address makes the server forget .32.
  EXPECT_EQ(send("127.0.0.33", "GET", "/api/v1/me", "", "").status, 401);
  EXPECT_EQ(send("127.0.0.32", "GET", "/api/v1/me", "", "").status, 401);
}

TEST_F(ServeLimits, SessionFlags) {
  start({"--session-idle-timeout-s", "1", "--session-lifetime-s", "3"});
  create_user();
  // Idle: a session whose only use is an open WebSocket ends, and the server closes the socket.
  const auto idle = nlohmann::json::parse(login("127.0.0.40", "operator password").body);
  oee::testing::WebSocketClient ws(port_, "/api/v1/live", "Authorization: Bearer " + idle.value("token", "") + "\r\n");
  ASSERT_EQ(ws.status, 101) << ws.handshake;
  std::string reason;
  EXPECT_TRUE(oee::testing::eventually([&] {
    if (const auto m = ws.receive(100); m && m->find("\"closing\"") != std::string::npos) reason = *m;
    return ws.closed;
  }, 30s)) << server_->output();
  EXPECT_NE(reason.find("token_ended"), std::string::npos) << reason;
  // Lifetime: a session in steady use still ends.
  const std::string busy = "Authorization: Bearer " + nlohmann::json::parse(login("127.0.0.41", "operator password").body).value("token", "") + "\r\n";
  EXPECT_EQ(send("127.0.0.41", "GET", "/api/v1/me", "", busy).status, 200);
  EXPECT_TRUE(oee::testing::eventually([&] { return send("127.0.0.41", "GET", "/api/v1/me", "", busy).status == 401; }, 30s));
}

TEST_F(ServeLimits, BadFlagsAreRefused) {
  const std::string serve = "serve --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --data-dir " + (dir_ / "data").string() + " --listen 127.0.0.1:0 ";
  EXPECT_NE(oee::testing::run_oee(serve + "--trusted-proxy proxy.example", 2).find("--trusted-proxy: 'proxy.example' is not"), std::string::npos);
  EXPECT_NE(oee::testing::run_oee(serve + "--trusted-proxy 10.0.0.0/40", 2).find("prefix length"), std::string::npos);
  EXPECT_NE(oee::testing::run_oee(serve + "--rate-limit-token-per-s -1", 2).find("--rate-limit-token-per-s"), std::string::npos);
  // The simulator's flags act on the demo only: without --demo they are refused, not ignored.
  for (const char* flag : {"--speed 10", "--seed 3", "--history-hours 2"}) {
    EXPECT_NE(oee::testing::run_oee(serve + flag, 2).find("requires --demo"), std::string::npos) << flag;
  }
  // So are the flags of a feature that is off: each acts on that feature only.
  const std::pair<const char*, const char*> needs[] = {
      {"--mqtt-client-id x", "requires --mqtt"}, {"--mqtt-topic oee/v1/a/#", "requires --mqtt"},
      {"--mqtt-keepalive-s 10", "requires --mqtt"}, {"--mqtt-insecure", "requires --mqtt"},
      {"--sparkplug-reorder-timeout-ms 100", "requires --sparkplug-host-id"},
      {"--backup-interval-s 60", "requires --backup-dir"}, {"--backup-keep 3", "requires --backup-dir"},
      {"--tls-reload-check-s 1", "requires --tls-cert"}, {"--retention-interval-s 60", "requires --retention-days"},
      {"--retention-days 0 --retention-interval-s 60", "has no effect with --retention-days 0"},
      {"--mqtt mqtt://127.0.0.1:1 --mqtt-password-file /dev/null", "--mqtt-password-file needs --mqtt-username"}};
  for (const auto& [flags, why] : needs)
    EXPECT_NE(oee::testing::run_oee(serve + flags, 2).find(why), std::string::npos) << flags;
}

// An alert rule on the edges' queues needs their status reports, which come over MQTT only: a server
// without --mqtt says at its start that it does not evaluate it (and serves; a server sharing its
// store may), one with --mqtt does not say it.
TEST_F(ServeLimits, AnEdgeQueueRuleWithoutMqttIsSaidNotEvaluated) {
  const auto plant = dir_ / "edge-rule.yaml";
  {
    std::ifstream demo(OEE_DEMO_PLANT_FILE);
    std::ofstream out(plant);
    out << demo.rdbuf() << "alerts:\n  rules:\n    - {name: backlog, kind: edge_queue_growing, for_s: 600}\n";
  }
  const std::string said = "an edge_queue_growing alert rule is not evaluated by this server";
  for (const bool mqtt : {false, true}) {
    std::vector<std::string> argv = {OEE_BINARY, "serve", "--plant", plant.string(), "--data-dir", (dir_ / "data").string(),
                                     "--listen", "127.0.0.1:0"};
    if (mqtt) argv.insert(argv.end(), {"--mqtt", "mqtt://127.0.0.1:1"});  // no broker: it only has to start
    oee::testing::ChildProcess serve(argv, (dir_ / ("serve-" + std::to_string(mqtt) + ".log")).string());
    ASSERT_TRUE(serve.wait_for_output("listening on", 60s)) << serve.output();
    if (mqtt)
      EXPECT_EQ(serve.output().find(said), std::string::npos) << serve.output();
    else
      EXPECT_TRUE(serve.output().find(said) != std::string::npos && serve.output().find(") rule=backlog") != std::string::npos)
          << serve.output();
    EXPECT_EQ(serve.kill(SIGTERM), 0);
  }
}

}  // namespace
