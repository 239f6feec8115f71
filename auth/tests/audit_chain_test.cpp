// The audit hash chain finds a changed, a deleted and an inserted row.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "oee/auth/audit_chain.h"

namespace oee::auth {
namespace {

void sql(const std::filesystem::path& file, const char* statement) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, statement, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST(AuditChain, VerifyFindsTamperedRows) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee-audit-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "auth.sqlite";
  {
    AuditChain chain(file.string());
    EXPECT_TRUE(chain.verify().ok);
    EXPECT_EQ(chain.append(1000, "olga", "reason.assign", "s1/a1/l1/press@2026-11-10T09:00:00Z", "{\"reason\":\"\"}", "{\"reason\":\"die\"}"), 1);
    EXPECT_EQ(chain.append(2000, "admin", "user.create", "vik", "", "{\"role\":\"viewer\"}"), 2);
    EXPECT_EQ(chain.append(3000, "olga", "comment.add", "s1/a1/l1/press@2026-11-10T09:00:00Z", "", "{\"text\":\"x\"}"), 3);
    const auto v = chain.verify();
    EXPECT_TRUE(v.ok) << v.problem;
    EXPECT_EQ(v.rows, 3);
    EXPECT_EQ(chain.entries(0, 2).front().id, 3);
  }
  sql(file, "UPDATE audit SET after='{\"reason\":\"material\"}' WHERE id=1");
  {
    AuditChain chain(file.string());
    const auto v = chain.verify();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_bad_id, 1);
    EXPECT_NE(v.problem.find("does not match its hash"), std::string::npos);
  }
  sql(file, "UPDATE audit SET after='{\"reason\":\"die\"}' WHERE id=1");
  EXPECT_TRUE(AuditChain(file.string()).verify().ok);
  sql(file, "DELETE FROM audit WHERE id=2");
  {
    const auto v = AuditChain(file.string()).verify();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_bad_id, 3);
    EXPECT_NE(v.problem.find("row 2 is missing"), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST(AuditChain, VerifyFindsACutOffTail) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee-audit-tail-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "auth.sqlite";
  const auto anchor = std::filesystem::path(AuditChain::anchor_path(file.string()));
  EXPECT_EQ(anchor, dir / "auth.audit-head");
  {
    AuditChain chain(file.string());
    for (int i = 1; i <= 3; ++i) chain.append(1000 * i, "olga", "comment.add", "m@t", "", "{\"n\":" + std::to_string(i) + "}");
    // A crash between the commit of row 4 and its anchor leaves the anchor one row behind: still intact.
    std::filesystem::copy_file(anchor, dir / "head-at-3");
    chain.append(4000, "olga", "comment.add", "m@t", "", "{\"n\":4}");
    const auto v = chain.verify();
    EXPECT_TRUE(v.ok) << v.problem;
    EXPECT_EQ(v.anchored_rows, 4);
  }
  std::filesystem::copy_file(dir / "head-at-3", anchor, std::filesystem::copy_options::overwrite_existing);
  {
    const auto v = AuditChain(file.string()).verify();
    EXPECT_TRUE(v.ok) << v.problem;
    EXPECT_EQ(v.anchored_rows, 3);
    EXPECT_EQ(v.rows, 4);
  }
  // Deleting the newest rows leaves a valid shorter chain, but not the one the anchor recorded.
  sql(file, "DELETE FROM audit WHERE id>=3");
  {
    const auto v = AuditChain(file.string()).verify();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.rows, 2);
    EXPECT_EQ(v.first_bad_id, 3);
    EXPECT_NE(v.problem.find("rows 3 to 3 are missing"), std::string::npos) << v.problem;
  }
  // Nor does replacing the tail with rows of the same count...
  {
    AuditChain chain(file.string());
    chain.append(9000, "mallory", "comment.add", "m@t", "", "{}");
    std::filesystem::copy_file(dir / "head-at-3", anchor, std::filesystem::copy_options::overwrite_existing);
    const auto v = chain.verify();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_bad_id, 3);
    EXPECT_NE(v.problem.find("not the row the head anchor"), std::string::npos) << v.problem;
  }
  // ...nor removing the anchor once the chain has had one.
  std::filesystem::remove(anchor);
  {
    const auto v = AuditChain(file.string()).verify();
    EXPECT_FALSE(v.ok);
    EXPECT_NE(v.problem.find("is missing"), std::string::npos) << v.problem;
  }
  // A chain from before anchors existed (no anchor, never anchored) is intact, and unanchored.
  sql(file, "DELETE FROM audit_meta");
  {
    const auto v = AuditChain(file.string()).verify();
    EXPECT_TRUE(v.ok) << v.problem;
    EXPECT_EQ(v.anchored_rows, 0);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace oee::auth
