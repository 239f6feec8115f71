// POST /api/v1/users/erase over the real store and auth file: comments and audit rows written under
// the name before pseudonyms, the last admin, bad input and roles.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_fixture.h"

namespace oee::api {

TEST_F(Api, ErasureRewritesCommentsKeptUnderTheNameAndReportsOldAuditRows) {
  accounts_->create_user("root", "correct horse", auth::Role::admin);
  accounts_->create_user("olga", "correct horse", auth::Role::operator_, {"Olga K", "olga@example.com"});
  const std::string pseudonym = accounts_->pseudonym("olga");
  // As a server before pseudonyms wrote them: a comment and an audit row under the name.
  service_->with_store([](storage::EventStore& s) {
    return s.add_stop_comment({0, "s1/a1/l1/press", 1000, 2000, "olga", "die cracked"});
  });
  audit_->append(3000, "olga", "comment.add", "s1/a1/l1/press@1970-01-01T00:00:01Z", "", "{\"text\":\"die cracked\"}");

  EXPECT_EQ(request("POST", "/api/v1/users/erase", R"({"name":"olga"})", operator_token_).status, 403);
  EXPECT_EQ(request("POST", "/api/v1/users/erase", R"({"name":7})", kAdminToken).status, 400);
  EXPECT_EQ(request("POST", "/api/v1/users/erase", R"({"name":"nobody"})", kAdminToken).status, 404);
  const auto last_admin = request("POST", "/api/v1/users/erase", R"({"name":"root"})", kAdminToken);
  EXPECT_EQ(last_admin.status, 409) << last_admin.body;
  EXPECT_NE(last_admin.body.find("last_admin"), std::string::npos);

  const auto r = request("POST", "/api/v1/users/erase", R"({"name":"olga"})", kAdminToken);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["pseudonym"], pseudonym);
  EXPECT_EQ(j["name"], "erased-" + pseudonym);
  EXPECT_EQ(j["comments_pseudonymised"], 1);
  EXPECT_EQ(j["audit_rows_still_naming"], 1);  // left as written: changing it would break the chain
  const auto kept = service_->read_store([](storage::EventStore& s) { return s.stop_comments("s1/a1/l1/press", 0, kTimeMax); });
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].author, pseudonym);
  const auto users = request("GET", "/api/v1/users", "", kAdminToken).body;
  EXPECT_EQ(users.find("olga"), std::string::npos) << users;
  EXPECT_NE(users.find("\"name\":\"erased-" + pseudonym + "\""), std::string::npos) << users;
  const auto audit = nlohmann::json::parse(request("GET", "/api/v1/audit", "", kAdminToken).body);
  EXPECT_EQ(audit["items"][0]["action"], "user.erase");
  EXPECT_EQ(audit["items"][0]["target"], pseudonym);
  EXPECT_TRUE(audit_->verify().ok);
}

}  // namespace oee::api
