// Personal data of users (validated, stored, migrated into files from before it) and their GDPR
// erasure: afterwards neither the name nor the personal data is anywhere in the file's bytes.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "oee/auth/accounts.h"
#include "oee/auth/audit_chain.h"

namespace oee::auth {
namespace {

class UserErasureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("oee-erasure-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string file() const { return (dir_ / "auth.sqlite").string(); }
  std::unique_ptr<Accounts> open() {
    AccountsOptions o;
    o.pwhash_opslimit = 1;  // fast tests
    o.pwhash_memlimit = 8192;
    return std::make_unique<Accounts>(file(), o, [] { return TimeMs{1'700'000'000'000}; });
  }
  // Whether `needle` occurs in any file of the directory (the database, its WAL and shared memory).
  bool anywhere_on_disk(const std::string& needle) const {
    for (const auto& f : std::filesystem::directory_iterator(dir_)) {
      std::ifstream in(f.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (bytes.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  std::filesystem::path dir_;
};

TEST_F(UserErasureTest, PersonalDataIsValidatedAndKept) {
  auto accounts = open();
  accounts->create_user("jdoe", "correct horse", Role::operator_, {"Jane Doe", "jane.doe@example.com"});
  const auto u = accounts->user("jdoe");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->full_name, "Jane Doe");
  EXPECT_EQ(u->email, "jane.doe@example.com");
  EXPECT_EQ(u->pseudonym.size(), 2u + 16u);
  EXPECT_EQ(u->pseudonym.substr(0, 2), "u:");
  EXPECT_EQ(accounts->pseudonym("jdoe"), u->pseudonym);
  EXPECT_EQ(accounts->names_by_pseudonym().at(u->pseudonym), "jdoe");
  for (const PersonalData& bad : {PersonalData{std::string(129, 'x'), {}}, PersonalData{"Jane\nDoe", {}},
                                  PersonalData{{}, "jane"}, PersonalData{{}, "jane@localhost"}, PersonalData{{}, "a@b@c.d"},
                                  PersonalData{{}, "jane doe@example.com"}, PersonalData{{}, std::string(250, 'j') + "@x.org"}})
    EXPECT_THROW(accounts->update_user("jdoe", std::nullopt, "", bad), AccountsError);
  // Given fields change, empty ones are removed, missing ones stay.
  EXPECT_TRUE(accounts->update_user("jdoe", std::nullopt, "", {std::nullopt, "jd@example.org"}));
  EXPECT_EQ(accounts->user("jdoe")->full_name, "Jane Doe");
  EXPECT_EQ(accounts->user("jdoe")->email, "jd@example.org");
  EXPECT_TRUE(accounts->update_user("jdoe", std::nullopt, "", {"", std::nullopt}));
  EXPECT_EQ(accounts->user("jdoe")->full_name, "");
  EXPECT_EQ(accounts->user("jdoe")->pseudonym, u->pseudonym);  // fixed for the user's life
}

TEST_F(UserErasureTest, ErasureLeavesTheNameNowhereInTheFile) {
  auto accounts = open();
  accounts->create_user("root", "correct horse", Role::admin);
  accounts->create_user("zelda.q", "correct horse", Role::admin, {"Zelda Quartermaine", "zelda.q@example.com"});
  // Others on the same pages: the freed bytes stay in a page that is kept, not one rebuilt empty.
  for (int i = 0; i < 10; ++i) accounts->create_user("zz" + std::to_string(i), "correct horse", Role::viewer, {"Z Z", "zz@example.org"});
  const std::string pseudonym = accounts->pseudonym("zelda.q");
  const auto session = accounts->login("zelda.q", "correct horse", "10.0.0.1");
  ASSERT_EQ(session.outcome, LoginOutcome::ok);
  const auto api_token = accounts->create_api_token("kiosk", Role::viewer, "zelda.q");
  ASSERT_TRUE(anywhere_on_disk("zelda.q@example.com"));  // the check below can see it

  const auto erased = accounts->erase_user("zelda.q");
  ASSERT_TRUE(erased);
  EXPECT_EQ(erased->pseudonym, pseudonym);
  EXPECT_EQ(erased->tombstone, "erased-" + pseudonym);
  EXPECT_FALSE(accounts->user("zelda.q"));
  EXPECT_EQ(accounts->user(erased->tombstone)->email, "");
  EXPECT_FALSE(accounts->authenticate(session.session.token));      // the session ended
  EXPECT_TRUE(accounts->authenticate(api_token.token));             // a shared token goes on…
  for (const auto& t : accounts->tokens()) EXPECT_NE(t.user, "zelda.q");  // …not naming its creator
  EXPECT_EQ(accounts->login("zelda.q", "correct horse", "10.0.0.2").outcome, LoginOutcome::bad_credentials);
  EXPECT_EQ(accounts->login(erased->tombstone, "correct horse", "10.0.0.3").outcome, LoginOutcome::bad_credentials);
  EXPECT_EQ(accounts->names_by_pseudonym().count(pseudonym), 0u);
  // At once, while the file is open (a server does not wait for its shutdown), and after.
  for (const char* trace : {"zelda.q", "Zelda Quartermaine", "example.com"}) EXPECT_FALSE(anywhere_on_disk(trace)) << trace;
  accounts.reset();
  for (const char* trace : {"zelda.q", "Zelda Quartermaine", "example.com"}) EXPECT_FALSE(anywhere_on_disk(trace)) << trace;
}

TEST_F(UserErasureTest, TheLastAdminIsNotErased) {
  auto accounts = open();
  accounts->create_user("root", "correct horse", Role::admin);
  accounts->create_user("olga", "correct horse", Role::viewer);
  EXPECT_THROW(accounts->erase_user("root"), AccountsError);
  EXPECT_TRUE(accounts->user("root"));
  EXPECT_FALSE(accounts->erase_user("nobody"));
  EXPECT_TRUE(accounts->erase_user("olga"));
}

TEST_F(UserErasureTest, UsersOfAnOlderFileGetPseudonymsAndTheirChainStillVerifies) {
  {
    // The users table and an audit row as servers before pseudonyms wrote them.
    AuditChain(file()).append(1000, "admin", "user.create", "olga", "", "{\"role\":\"viewer\"}");
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE users(name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,"
                           " created INTEGER NOT NULL); INSERT INTO users VALUES('olga','x','viewer',1)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto accounts = open();
  const auto olga = accounts->user("olga");
  ASSERT_TRUE(olga);
  EXPECT_EQ(olga->pseudonym.substr(0, 2), "u:");
  EXPECT_EQ(olga->email, "");
  EXPECT_TRUE(AuditChain(file()).verify().ok);
  EXPECT_EQ(AuditChain(file()).rows_naming("olga"), 1);  // what an erasure reports it cannot change
  EXPECT_EQ(AuditChain(file()).rows_naming("admin"), 1);
  EXPECT_EQ(AuditChain(file()).rows_naming("vik"), 0);
  accounts.reset();
  EXPECT_EQ(open()->user("olga")->pseudonym, olga->pseudonym);  // given once
}

}  // namespace
}  // namespace oee::auth
