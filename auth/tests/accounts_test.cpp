// Users, logins, tokens and the failed-login rate limit against a real SQLite file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <latch>
#include <thread>
#include <vector>

#include "oee/auth/accounts.h"
#include "oee/auth/audit_chain.h"

namespace oee::auth {
namespace {

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("oee-auth-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<Accounts> open(std::size_t pwhash_memlimit = 8192) {
    AccountsOptions o;
    o.pwhash_opslimit = 1;  // crypto_pwhash_OPSLIMIT_MIN: fast tests; the server keeps the default
    o.pwhash_memlimit = pwhash_memlimit;
    o.session_ttl_ms = kMsPerHour;
    o.login.failures_max = 5;
    return std::make_unique<Accounts>((dir_ / "auth.sqlite").string(), o, [this] { return now_; });
  }
  std::filesystem::path dir_;
  TimeMs now_ = 1'700'000'000'000;
};

TEST_F(AccountsTest, LoginGivesASessionThatExpires) {
  auto accounts = open();
  accounts->create_user("olga", "correct horse", Role::operator_);
  EXPECT_THROW(accounts->create_user("olga", "another one", Role::viewer), AccountsError);
  EXPECT_THROW(accounts->create_user("bad name", "correct horse", Role::viewer), AccountsError);
  EXPECT_THROW(accounts->create_user("short", "1234", Role::viewer), AccountsError);
  auto r = accounts->login("olga", "wrong horse", "10.0.0.1");
  EXPECT_EQ(r.outcome, LoginOutcome::bad_credentials);
  r = accounts->login("olga", "correct horse", "10.0.0.1");
  ASSERT_EQ(r.outcome, LoginOutcome::ok);
  EXPECT_EQ(r.role, Role::operator_);
  EXPECT_EQ(r.session.token.size(), 4u + 64u);
  auto who = accounts->authenticate(r.session.token);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->user, "olga");
  EXPECT_EQ(who->role, Role::operator_);
  EXPECT_TRUE(who->session);
  EXPECT_FALSE(accounts->authenticate(r.session.token + "x"));
  // Survives a restart; the secret itself is not in the file.
  accounts = open();
  EXPECT_TRUE(accounts->authenticate(r.session.token));
  now_ += kMsPerHour;
  EXPECT_FALSE(accounts->authenticate(r.session.token));
}

TEST_F(AccountsTest, FailedLoginsAreRateLimited) {
  auto accounts = open();
  accounts->create_user("olga", "correct horse", Role::viewer);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(accounts->login("olga", "guess" + std::to_string(i), "10.0.0.9").outcome, LoginOutcome::bad_credentials);
  auto r = accounts->login("olga", "correct horse", "10.0.0.9");
  EXPECT_EQ(r.outcome, LoginOutcome::rate_limited);
  EXPECT_GT(r.retry_after_ms, 0);
  // Another address is not held up; after the window the right password works again.
  EXPECT_EQ(accounts->login("olga", "correct horse", "10.0.0.10").outcome, LoginOutcome::ok);
  now_ += kMsPerMinute;
  EXPECT_EQ(accounts->login("olga", "correct horse", "10.0.0.9").outcome, LoginOutcome::ok);
}

TEST_F(AccountsTest, ConcurrentFailedLoginsCannotOutrunTheRateLimit) {
  // Logins are checked on several threads at once (the server's blocking pool): checks still
  // running count against the limit, so ten simultaneous guesses get at most five hashed.
  auto accounts = open(8 * 1024 * 1024);  // a hash slow enough for the guesses to overlap
  accounts->create_user("olga", "correct horse", Role::viewer);
  constexpr int kGuesses = 10;
  std::latch start(kGuesses);
  std::vector<LoginOutcome> outcomes(kGuesses);
  std::vector<std::thread> guessers;
  for (int i = 0; i < kGuesses; ++i)
    guessers.emplace_back([&, i] {
      start.arrive_and_wait();
      outcomes[i] = accounts->login("olga", "guess" + std::to_string(i), "10.0.0.9").outcome;
    });
  for (auto& t : guessers) t.join();
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), LoginOutcome::bad_credentials), 5);
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), LoginOutcome::rate_limited), kGuesses - 5);
  EXPECT_EQ(accounts->login("olga", "correct horse", "10.0.0.9").outcome, LoginOutcome::rate_limited);
  EXPECT_EQ(accounts->login("olga", "correct horse", "10.0.0.10").outcome, LoginOutcome::ok);
}

TEST_F(AccountsTest, TheBackOffIsPerAddressAcrossUserNamesAndBounded) {
  LoginBackoff backoff({.failures_max = 2, .window_ms = kMsPerMinute, .addresses_max = 2});
  backoff.failed("10.0.0.1", now_);
  backoff.failed("10.0.0.1", now_ + 10);
  EXPECT_EQ(backoff.wait_ms("10.0.0.1", now_ + 10), kMsPerMinute - 10);
  // A flood of other addresses evicts the least recently seen one at a time, never all of them.
  for (int i = 2; i < 50; ++i) {
    backoff.failed("10.0.1." + std::to_string(i), now_ + 20);
    EXPECT_GT(backoff.wait_ms("10.0.0.1", now_ + 20), 0) << i;
    EXPECT_LE(backoff.tracked(), 2u);
  }
  EXPECT_EQ(backoff.wait_ms("10.0.0.1", now_ + kMsPerMinute), 0);
}

TEST_F(AccountsTest, ApiTokensAndTheEnvironmentAdminToken) {
  auto accounts = open();
  EXPECT_THROW(accounts->set_environment_admin_token("short"), AccountsError);
  accounts->set_environment_admin_token("first-admin-token-0123");
  ASSERT_TRUE(accounts->authenticate("first-admin-token-0123"));
  EXPECT_EQ(accounts->authenticate("first-admin-token-0123")->role, Role::admin);
  const IssuedToken t = accounts->create_api_token("line-scada", Role::viewer, "OEE_ADMIN_TOKEN");
  ASSERT_TRUE(accounts->authenticate(t.token));
  EXPECT_EQ(accounts->authenticate(t.token)->user, "line-scada");
  EXPECT_EQ(accounts->tokens().size(), 2u);
  // A new OEE_ADMIN_TOKEN at the next start replaces the old one.
  accounts = open();
  accounts->set_environment_admin_token("second-admin-token-0123");
  EXPECT_FALSE(accounts->authenticate("first-admin-token-0123"));
  EXPECT_TRUE(accounts->authenticate("second-admin-token-0123"));
  // A start without it removes it; the API token it made stays.
  accounts = open();
  accounts->remove_environment_admin_token();
  EXPECT_FALSE(accounts->authenticate("second-admin-token-0123"));
  EXPECT_EQ(accounts->tokens().size(), 1u);
  EXPECT_TRUE(accounts->revoke_token(t.id));
  EXPECT_FALSE(accounts->authenticate(t.token));
  EXPECT_FALSE(accounts->revoke_token(t.id));
}

TEST_F(AccountsTest, RoleChangeEndsSessions) {
  auto accounts = open();
  accounts->create_user("vik", "viewer password", Role::viewer);
  const auto r = accounts->login("vik", "viewer password", "::1");
  ASSERT_EQ(r.outcome, LoginOutcome::ok);
  EXPECT_TRUE(accounts->update_user("vik", Role::operator_, ""));
  EXPECT_FALSE(accounts->authenticate(r.session.token));
  EXPECT_EQ(accounts->login("vik", "viewer password", "::1").role, Role::operator_);
  EXPECT_FALSE(accounts->update_user("nobody", Role::admin, ""));
}

// A supervisor (who may correct history) ranks between operator and admin, and survives a reopen by name.
TEST_F(AccountsTest, SupervisorRanksBetweenOperatorAndAdmin) {
  EXPECT_LT(Role::operator_, Role::supervisor);
  EXPECT_LT(Role::supervisor, Role::admin);
  EXPECT_EQ(parse_role("supervisor"), Role::supervisor);
  EXPECT_EQ(role_name(Role::supervisor), "supervisor");
  {
    auto accounts = open();
    accounts->create_user("sam", "supervisor password", Role::supervisor);
  }
  auto accounts = open();
  EXPECT_EQ(accounts->login("sam", "supervisor password", "::1").role, Role::supervisor);
}

}  // namespace
}  // namespace oee::auth

namespace oee::auth {
namespace {

std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// auth.sqlite encrypted (AccountsOptions::encryption_key; the audit chain in the same file with the
// same key): users, sessions and the chain survive a reopen, and no name is on disk in plain text.
TEST_F(AccountsTest, AnEncryptedAuthDatabaseRoundTripsWithNoPlainNamesOnDisk) {
  AccountsOptions o;
  o.pwhash_opslimit = 1;
  o.pwhash_memlimit = 8192;
  o.encryption_key.emplace();
  o.encryption_key->fill(0x42);
  const std::string file = (dir_ / "auth.sqlite").string();
  std::string token;
  {
    Accounts accounts(file, o, [this] { return now_; });
    accounts.create_user("wilhelmina", "correct horse", Role::operator_);
    const auto r = accounts.login("wilhelmina", "correct horse", "10.0.0.1");
    ASSERT_EQ(r.outcome, LoginOutcome::ok);
    token = r.session.token;
    AuditChain chain(file, &*o.encryption_key);
    chain.append(1000, "wilhelmina", "comment.add", "m@t", "", "{\"text\":\"Konstantinopel\"}");
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().extension() == ".audit-head") continue;  // a row count and a hash, by design
    EXPECT_EQ(file_bytes(entry.path()).find("wilhelmina"), std::string::npos) << entry.path();
    EXPECT_EQ(file_bytes(entry.path()).find("Konstantinopel"), std::string::npos) << entry.path();
  }
  Accounts accounts(file, o, [this] { return now_; });
  EXPECT_TRUE(accounts.authenticate(token));
  EXPECT_TRUE(AuditChain(file, &*o.encryption_key).verify().ok);
  EXPECT_THROW(Accounts(file, AccountsOptions{}, [this] { return now_; }), std::runtime_error);
}

}  // namespace
}  // namespace oee::auth
