// GDPR erasure against `oee serve` over loopback: a user with a name and an e-mail assigns a reason
// and comments a stop, then is erased. Afterwards their name and e-mail are in no file of the data
// directory (raw bytes of the auth database, the store, their WALs) nor in the server's log, the
// audit chain still verifies and shows the pseudonym, their token is refused, and listings mask.
// A pseudonymised chain changed by hand is still caught by `oee audit verify`.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>

#include "../../server/tests/http_client.h"
#include "child_process.h"
#include "demo_crash_scenario.h"
#include "oee_command.h"

namespace oee::testing {
namespace {

using nlohmann::json;

const std::string kAdminToken = "serve-privacy-test-admin-token";
const std::string kName = "zelda.quartermaine";
const std::string kFullName = "Zelda Quartermaine";
const std::string kEmail = "zelda.q@example.com";

std::string bearer(const std::string& token) { return "Authorization: Bearer " + token + "\r\n"; }

int oee_audit(const std::string& args, std::string& out) { return run_oee("audit " + args, out); }

// The files of `dir` (recursively) whose bytes hold `needle`.
std::vector<std::string> files_holding(const std::filesystem::path& dir, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) out.push_back(f.path().filename().string());
  }
  return out;
}

class ServePrivacy : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("oee-privacy-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "data");
    ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{OEE_BINARY, "serve", "--demo", "--history-hours", "2", "--data-dir", (dir_ / "data").string(),
                                 "--listen", "127.0.0.1:0", "--login-failures-max", "2"},
        (dir_ / "serve.log").string());
    ASSERT_TRUE(server_->wait_for_output("listening on", std::chrono::seconds(60))) << server_->output();
    port_ = listening_port(server_->output());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  HttpReply call(const std::string& method, const std::string& target, const json& body, const std::string& token) {
    return HttpConnection(port_).request(method, target, body.is_null() ? std::string() : body.dump(), bearer(token));
  }
  // An unplanned stop of the demo's history: its machine and start.
  std::pair<std::string, std::string> a_stop() {
    EXPECT_TRUE(server_->wait_for_output("demo: caught up", std::chrono::seconds(120))) << server_->output();
    const HttpReply r = call("GET", "/api/v1/stops?limit=200", nullptr, kAdminToken);
    EXPECT_EQ(r.status, 200) << r.body;
    const json stops = json::parse(r.body);
    for (const auto& s : stops["items"])
      if (s["state"] == "stopped" || s["state"] == "setup" || s["state"] == "starved" || s["state"] == "blocked") return {s["machine"], s["from"]};
    ADD_FAILURE() << "no unplanned stop in " << r.body;
    return {};
  }

  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> server_;
  std::uint16_t port_ = 0;
};

TEST_F(ServePrivacy, AnErasedUserIsNowhereAndTheChainStillVerifies) {
  ASSERT_EQ(call("POST", "/api/v1/users", {{"name", kName}, {"password", "correct horse"}, {"role", "operator"},
                                           {"full_name", kFullName}, {"email", kEmail}}, kAdminToken).status, 201);
  EXPECT_EQ(call("POST", "/api/v1/users", {{"name", "x"}, {"password", "correct horse"}, {"email", "not-an-address"}}, kAdminToken).status, 400);
  const HttpReply login = call("POST", "/api/v1/login", {{"user", kName}, {"password", "correct horse"}}, "");
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string token = json::parse(login.body)["token"];
  const auto [machine, at] = a_stop();
  ASSERT_FALSE(machine.empty());
  ASSERT_EQ(call("POST", "/api/v1/stops/reason", {{"machine", machine}, {"at", at}, {"reason", "jam"}}, token).status, 200);
  ASSERT_EQ(call("POST", "/api/v1/stops/comment", {{"machine", machine}, {"at", at}, {"text", "cleared the infeed"}}, token).status, 201);

  // Before: listings show the login name (resolved from the pseudonym) and mask the personal data.
  const HttpReply users = call("GET", "/api/v1/users", nullptr, kAdminToken);
  EXPECT_NE(users.body.find("\"email\":\"z***@example.com\""), std::string::npos) << users.body;
  EXPECT_NE(users.body.find("\"full_name\":\"Z*** Q***\""), std::string::npos) << users.body;
  EXPECT_EQ(users.body.find(kEmail), std::string::npos) << users.body;
  EXPECT_NE(call("GET", "/api/v1/me", nullptr, token).body.find("\"email\":\"" + kEmail + "\""), std::string::npos);
  std::string pseudonym;
  for (const auto& u : json::parse(users.body))
    if (u["name"] == kName) pseudonym = u["pseudonym"];
  ASSERT_EQ(pseudonym.size(), 18u) << users.body;
  EXPECT_NE(call("GET", "/api/v1/stops?limit=200", nullptr, kAdminToken).body.find("\"author\":\"" + kName + "\""), std::string::npos);

  const HttpReply erased = call("POST", "/api/v1/users/erase", {{"name", kName}}, kAdminToken);
  ASSERT_EQ(erased.status, 200) << erased.body;
  EXPECT_EQ(json::parse(erased.body)["pseudonym"], pseudonym);
  EXPECT_EQ(json::parse(erased.body)["audit_rows_still_naming"], 0);
  EXPECT_EQ(call("GET", "/api/v1/me", nullptr, token).status, 401);  // their session ended
  EXPECT_EQ(call("POST", "/api/v1/login", {{"user", kName}, {"password", "correct horse"}}, "").status, 401);
  EXPECT_EQ(call("POST", "/api/v1/users/erase", {{"name", kName}}, kAdminToken).status, 404);
  EXPECT_EQ(call("POST", "/api/v1/users/erase", {{"name", kName}}, token).status, 401);

  // The audit trail and the comment now show the pseudonym only.
  const HttpReply audit = call("GET", "/api/v1/audit?limit=100", nullptr, kAdminToken);
  std::map<std::string, std::string> actor_of;
  const json entries = json::parse(audit.body);
  for (const auto& e : entries["items"]) actor_of[e["action"]] = e["actor"];
  EXPECT_EQ(actor_of["reason.assign"], pseudonym) << audit.body;
  EXPECT_EQ(actor_of["comment.add"], pseudonym) << audit.body;
  EXPECT_NE(audit.body.find("\"action\":\"user.erase\",\"target\":\"" + pseudonym + "\""), std::string::npos) << audit.body;
  EXPECT_NE(call("GET", "/api/v1/stops?limit=200", nullptr, kAdminToken).body.find("\"author\":\"" + pseudonym + "\""), std::string::npos);
  for (const char* path : {"/api/v1/audit?limit=100", "/api/v1/users", "/api/v1/stops?limit=200", "/api/v1/export/stops.csv",
                           "/api/v1/tokens"})
    EXPECT_EQ(call("GET", path, nullptr, kAdminToken).body.find("zelda"), std::string::npos) << path;

  // Failed logins past the limit are logged with the client's network, never its address or a name.
  for (int i = 0; i < 3; ++i) call("POST", "/api/v1/login", {{"user", kName}, {"password", "wrong horse"}}, "");
  EXPECT_TRUE(server_->wait_for_output("login refused: too many failed logins client=127.0.0.0/24", std::chrono::seconds(10)))
      << server_->output();

  ASSERT_EQ(server_->kill(SIGTERM), 0);
  for (const std::string& trace : {kName, kFullName, kEmail, std::string("zelda")})
    EXPECT_EQ(files_holding(dir_, trace), std::vector<std::string>{}) << trace;  // data directory and serve.log
  std::string out;
  EXPECT_EQ(oee_audit("verify --data-dir " + (dir_ / "data").string(), out), 0) << out;

  // A pseudonymised row changed by hand (its actor made someone else's pseudonym) breaks the chain.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "data" / "auth.sqlite").c_str(), &db), SQLITE_OK);
  const std::string tamper = "UPDATE audit SET actor='u:0000000000000000' WHERE action='comment.add'";
  ASSERT_EQ(sqlite3_exec(db, tamper.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(oee_audit("verify --data-dir " + (dir_ / "data").string(), out), 1) << out;
  EXPECT_NE(out.find("does not match its hash"), std::string::npos) << out;
}

}  // namespace
}  // namespace oee::testing
