// `oee audit verify` on an intact chain (exit 0), a tampered row or a cut-off tail (exit 1, names
// the row), and bad input (exit 2).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "oee/auth/audit_chain.h"
#include "oee_command.h"

namespace {

int run(const std::string& args, std::string& out) { return oee::testing::run_oee("audit " + args, out); }

}  // namespace

TEST(AuditVerify, DetectsATamperedRow) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee-audit-cli-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "auth.sqlite").string();
  {
    oee::auth::AuditChain chain(file);
    chain.append(1000, "olga", "reason.assign", "m@t", "{\"reason\":\"\"}", "{\"reason\":\"die\"}");
    chain.append(2000, "olga", "comment.add", "m@t", "", "{\"text\":\"cracked\"}");
    chain.append(3000, "admin", "user.create", "vik", "", "{\"role\":\"viewer\"}");
  }
  std::string out;
  EXPECT_EQ(run("verify --data-dir " + dir.string(), out), 0) << out;
  EXPECT_NE(out.find("audit chain intact: 3 rows"), std::string::npos) << out;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE audit SET actor='mallory' WHERE id=2", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(run("verify --file " + file, out), 1) << out;
  EXPECT_NE(out.find("audit chain BROKEN at row 2"), std::string::npos) << out;
  EXPECT_EQ(run("verify --data-dir " + (dir / "nothing").string(), out), 2) << out;
  EXPECT_EQ(run("frobnicate", out), 2) << out;
  std::filesystem::remove_all(dir);
}

TEST(AuditVerify, DetectsACutOffTail) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee-audit-cli-tail-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "auth.sqlite").string();
  {
    oee::auth::AuditChain chain(file);
    for (int i = 1; i <= 4; ++i) chain.append(1000 * i, "olga", "comment.add", "m@t", "", "{\"n\":" + std::to_string(i) + "}");
  }
  std::string out;
  EXPECT_EQ(run("verify --data-dir " + dir.string(), out), 0) << out;
  EXPECT_NE(out.find("audit chain intact: 4 rows (head anchor at row 4)"), std::string::npos) << out;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DELETE FROM audit WHERE id>=3", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(run("verify --file " + file, out), 1) << out;
  EXPECT_NE(out.find("audit chain BROKEN at row 3: rows 3 to 4 are missing"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}
