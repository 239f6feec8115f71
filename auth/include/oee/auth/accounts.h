#pragma once
// Who may do what: users with argon2id password hashes (libsodium), bearer tokens (random 256-bit,
// stored only as their SHA-256), sessions from a login with an idle timeout and an absolute
// lifetime, roles, and a back-off on failed logins per client address (oee/auth/login_backoff.h). Persisted in a SQLite file of the server's own (auth.sqlite), separate from the
// event store; tokens are also kept in memory so checking a request costs one hash and one lookup.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "oee/auth/login_backoff.h"
#include "oee/auth/personal_data.h"
#include "oee/core/time.h"

namespace oee::auth {

// Ordered: each role may do everything the ones below it may.
// display: a kiosk (scoreboard) reads the plant, its KPIs, the reason tree and the live feed, nothing else.
// supervisor: an operator who may also correct history (corrections, docs/events.md). Roles are
// stored by name, so the numbers may change.
enum class Role : std::uint8_t { display = 0, viewer = 1, operator_ = 2, supervisor = 3, admin = 4 };
std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

struct Principal {
  std::string user;      // user name, or the token's name for API tokens
  Role role = Role::viewer;
  std::string token_id;  // public id of the token used (first 16 hex digits of its hash)
  bool session = false;  // from a login (else an API token)
};

struct IssuedToken {
  std::string token;  // the secret: shown once, never stored
  std::string id;
  TimeMs expires = 0;  // 0: never
};

struct RotatedToken {
  IssuedToken issued;      // the new token
  TimeMs old_expires = 0;  // when the old one stops working
};

struct UserInfo {
  std::string name;
  Role role = Role::viewer;
  TimeMs created = 0;
  // Random and fixed for the user's life: what the audit chain and stop comments record instead of
  // the name ("u:" and 16 hex digits; ':' is never in a user name). Kept after an erasure.
  std::string pseudonym;
  std::string full_name, email;  // empty: none
};

// What an erasure left: the pseudonym (still in the audit chain) and the name the user row now has.
struct Erasure {
  std::string pseudonym;
  std::string tombstone;  // "erased-" + pseudonym
};

struct TokenInfo {
  std::string id, name, user;
  Role role = Role::viewer;
  bool session = false;
  TimeMs created = 0, expires = 0;
};

struct AccountsOptions {
  DurationMs session_ttl_ms = 12 * kMsPerHour;  // a session's absolute lifetime
  DurationMs session_idle_ms = kMsPerHour;      // a session unused this long ends (0: never)
  LoginBackoffOptions login;                    // failed logins per client address
  // libsodium argon2id cost (crypto_pwhash_*_INTERACTIVE by default).
  unsigned long long pwhash_opslimit = 0;
  std::size_t pwhash_memlimit = 0;
  // The auth database's own key (fileio::derive_key(master, KeyUse::auth)): the file is encrypted.
  std::optional<std::array<unsigned char, 32>> encryption_key;
};

// Bad input from a caller (unknown role, weak password, duplicate user): the message says why.
class AccountsError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class LoginOutcome { ok, bad_credentials, rate_limited };
struct LoginResult {
  LoginOutcome outcome = LoginOutcome::bad_credentials;
  IssuedToken session;
  Role role = Role::viewer;
  DurationMs retry_after_ms = 0;  // when rate limited
};

class Accounts {
 public:
  using Clock = std::function<TimeMs()>;
  Accounts(const std::string& sqlite_path, AccountsOptions options, Clock clock);
  ~Accounts();

  // Makes `token` (OEE_ADMIN_TOKEN) an admin API token, replacing the one of an earlier start.
  // Throws AccountsError when shorter than 16 characters.
  void set_environment_admin_token(std::string_view token);
  // A start without OEE_ADMIN_TOKEN: the one of an earlier start stops working (taking it out of the
  // environment revokes it).
  void remove_environment_admin_token();

  void create_user(std::string_view name, std::string_view password, Role role, const PersonalData& personal = {});
  // Sets a user's role, password (empty: unchanged) and personal data (as given). False when no such user.
  bool update_user(std::string_view name, std::optional<Role> role, std::string_view password,
                   const PersonalData& personal = {});
  std::optional<UserInfo> user(std::string_view name);
  std::vector<UserInfo> users();
  // The pseudonym of a user, or empty when there is no such user.
  std::string pseudonym(std::string_view name);
  // Login names by pseudonym, of the users not erased (an erased one has no password hash).
  std::map<std::string, std::string> names_by_pseudonym();
  // GDPR erasure: the user's login name becomes a tombstone ("erased-" + pseudonym), its personal
  // data and password go, its sessions end, its API tokens name the tombstone as their creator.
  // Deleted bytes are overwritten (secure_delete) and the write-ahead log emptied, so the name is
  // left nowhere in the file. nullopt when no such user; AccountsError for the last admin.
  std::optional<Erasure> erase_user(std::string_view name);

  // `remote` (the client's address) keys the failed-login back-off, whatever the user name.
  LoginResult login(std::string_view user, std::string_view password, std::string_view remote);
  // The principal a bearer token stands for, if it is known and not expired; a session's use
  // counts as activity against its idle timeout.
  std::optional<Principal> authenticate(std::string_view token) const;

  IssuedToken create_api_token(std::string_view name, Role role, std::string_view created_by);
  std::vector<TokenInfo> tokens();
  // Revokes a token (API token or session) by id; false when unknown.
  bool revoke_token(std::string_view id);
  // Rotates API token `id`: a new token with its name and role, while the old one stays valid for
  // `overlap_ms` more (its expiry is set, then the clock tick ends it). nullopt when there is no
  // such API token; throws AccountsError for a session, OEE_ADMIN_TOKEN or an overlap out of
  // [0, kRotationOverlapMaxMs].
  static constexpr DurationMs kRotationOverlapMaxMs = 7 * 24 * kMsPerHour;
  std::optional<RotatedToken> rotate_api_token(std::string_view id, DurationMs overlap_ms);
  // Ends the sessions past their lifetime or idle timeout, and the API tokens past their expiry
  // (a rotation's overlap): a clock tick calls this, so what they hold open, e.g. WebSockets,
  // closes without waiting for their next request. Returns how many.
  std::size_t end_expired_sessions();

  // Told the ids of tokens that ended (revoked, logged out, expired, or a role change), outside
  // the accounts' lock. Returns a handle for remove_token_end_listener.
  using TokenEndListener = std::function<void(const std::vector<std::string>& token_ids)>;
  int add_token_end_listener(TokenEndListener listener);
  void remove_token_end_listener(int handle);

  TimeMs now() const { return clock_(); }

 private:
  struct Impl;
  void tokens_ended(const std::vector<std::string>& ids) const;
  std::unique_ptr<Impl> impl_;
  AccountsOptions options_;
  Clock clock_;
};

// SHA-256 of bytes, lower-case hex.
std::string sha256_hex(std::string_view bytes);

}  // namespace oee::auth
