#include "oee/auth/accounts.h"

#include <sodium.h>

#include <algorithm>

#include "oee/sqlite/sqlite_db.h"

namespace oee::auth {

namespace sql = ::oee::sqlite;

namespace {

constexpr std::size_t kNameBytesMax = 64;
constexpr std::size_t kPasswordBytesMin = 8;
constexpr std::size_t kPasswordBytesMax = 1024;

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

void check_name(std::string_view name, const char* what) {
  if (name.empty() || name.size() > kNameBytesMax)
    throw AccountsError(std::string(what) + " must be 1 to 64 characters");
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '@'))
      throw AccountsError(std::string(what) + " may hold only letters, digits and - _ . @");
}

void check_password(std::string_view password) {
  if (password.size() < kPasswordBytesMin) throw AccountsError("password must be at least 8 characters");
  if (password.size() > kPasswordBytesMax) throw AccountsError("password must be at most 1024 characters");
}

std::string new_pseudonym() {
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof bytes);
  return "u:" + to_hex(bytes, sizeof bytes);
}

void check_personal(const PersonalData& personal) {
  if (const std::string problem = personal_data_problem(personal); !problem.empty()) throw AccountsError(problem);
}

constexpr const char* kUserColumns = "name,role,created,pseudonym,full_name,email";
UserInfo user_row(sql::Statement& q) {
  return {q.text_at(0), parse_role(q.text_at(1)).value_or(Role::viewer), q.int_at(2), q.text_at(3), q.text_at(4), q.text_at(5)};
}

struct TokenRecord {
  std::string id, name, user;
  Role role = Role::viewer;
  bool session = false;
  TimeMs created = 0, expires = 0;
  TimeMs last_used = 0;  // in memory only: a restart counts as use
};

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::display: return "display";
    case Role::viewer: return "viewer";
    case Role::operator_: return "operator";
    case Role::supervisor: return "supervisor";
    case Role::admin: return "admin";
  }
  return "viewer";
}

std::optional<Role> parse_role(std::string_view name) {
  if (name == "display") return Role::display;
  if (name == "viewer") return Role::viewer;
  if (name == "operator") return Role::operator_;
  if (name == "supervisor") return Role::supervisor;
  if (name == "admin") return Role::admin;
  return std::nullopt;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return to_hex(digest, sizeof digest);
}

struct Accounts::Impl {
  Impl(const std::string& path, const AccountsOptions& o)
      : db(path, false, o.encryption_key ? &*o.encryption_key : nullptr), backoff(o.login) {
    // secure_delete: an erased user's bytes are overwritten, not left in free space (Debian's
    // SQLite has it on by default; other builds may not).
    db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;");
    db.exec(
        "CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,"
        " created INTEGER NOT NULL, pseudonym TEXT NOT NULL DEFAULT '', full_name TEXT NOT NULL DEFAULT '',"
        " email TEXT NOT NULL DEFAULT '');"
        "CREATE TABLE IF NOT EXISTS tokens(hash TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
        " user TEXT NOT NULL, role TEXT NOT NULL, kind TEXT NOT NULL, created INTEGER NOT NULL,"
        " expires INTEGER NOT NULL);");
    add_personal_columns();
  }

  // Files from before pseudonyms: the columns added, and each user given its pseudonym.
  void add_personal_columns() {
    sql::Statement columns(db, "SELECT 1 FROM pragma_table_info('users') WHERE name='pseudonym'");
    const bool present = columns.step();
    columns.reset();
    sql::Transaction tx(db);
    if (!present)
      db.exec("ALTER TABLE users ADD COLUMN pseudonym TEXT NOT NULL DEFAULT '';"
              "ALTER TABLE users ADD COLUMN full_name TEXT NOT NULL DEFAULT '';"
              "ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';");
    std::vector<std::string> unnamed;
    sql::Statement q(db, "SELECT name FROM users WHERE pseudonym=''");
    while (q.step()) unnamed.push_back(q.text_at(0));
    q.reset();
    for (const auto& name : unnamed)
      sql::Statement(db, "UPDATE users SET pseudonym=? WHERE name=?").bind(1, new_pseudonym()).bind(2, name).run();
    tx.commit();
  }

  void load_tokens(TimeMs now) {
    sql::Statement(db, "DELETE FROM tokens WHERE kind='session' AND expires<?").bind(1, now).run();
    sql::Statement q(db, "SELECT hash,id,name,user,role,kind,created,expires FROM tokens");
    while (q.step()) {
      TokenRecord r{q.text_at(1), q.text_at(2), q.text_at(3), parse_role(q.text_at(4)).value_or(Role::viewer),
                    q.text_at(5) == "session", q.int_at(6), q.int_at(7), now};
      tokens.emplace(q.text_at(0), std::move(r));
    }
  }

  IssuedToken insert_token(const std::string& name, const std::string& user, Role role, const char* kind, TimeMs now,
                           TimeMs expires) {
    unsigned char secret[32];
    randombytes_buf(secret, sizeof secret);
    IssuedToken out;
    out.token = "oee_" + to_hex(secret, sizeof secret);
    sodium_memzero(secret, sizeof secret);
    return insert_known_token(out.token, name, user, role, kind, now, expires);
  }

  IssuedToken insert_known_token(const std::string& token, const std::string& name, const std::string& user, Role role,
                                 const char* kind, TimeMs now, TimeMs expires) {
    const std::string hash = sha256_hex(token);
    IssuedToken out{token, hash.substr(0, 16), expires};
    sql::Statement(db, "INSERT OR REPLACE INTO tokens VALUES(?,?,?,?,?,?,?,?)")
        .bind(1, hash).bind(2, out.id).bind(3, name).bind(4, user).bind(5, role_name(role)).bind(6, std::string_view(kind))
        .bind(7, now).bind(8, expires).run();
    tokens[hash] = TokenRecord{out.id, name, user, role, std::string_view(kind) == "session", now, expires, now};
    return out;
  }

  // Removes the tokens matching `ended` from memory and the file; returns their ids.
  template <class Predicate>
  std::vector<std::string> end_tokens(Predicate ended) {
    std::vector<std::string> ids;
    for (auto it = tokens.begin(); it != tokens.end();) {
      if (!ended(it->second)) {
        ++it;
        continue;
      }
      sql::Statement(db, "DELETE FROM tokens WHERE id=?").bind(1, it->second.id).run();
      ids.push_back(it->second.id);
      it = tokens.erase(it);
    }
    return ids;
  }

  sql::Database db;
  mutable std::mutex mutex;
  std::map<std::string, TokenRecord, std::less<>> tokens;  // by hash
  LoginBackoff backoff;
  std::mutex listeners_mutex;
  std::map<int, TokenEndListener> listeners;
  int next_listener = 1;
  std::string dummy_hash;  // verified against for unknown users, so timing does not tell who exists
};

Accounts::Accounts(const std::string& sqlite_path, AccountsOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
  if (options_.pwhash_opslimit == 0) options_.pwhash_opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  if (options_.pwhash_memlimit == 0) options_.pwhash_memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  impl_ = std::make_unique<Impl>(sqlite_path, options_);
  impl_->load_tokens(now());
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, "no such user", 12, options_.pwhash_opslimit, options_.pwhash_memlimit) != 0)
    throw std::runtime_error("out of memory hashing a password");
  impl_->dummy_hash = hash;
}

Accounts::~Accounts() = default;

void Accounts::set_environment_admin_token(std::string_view token) {
  if (token.size() < 16) throw AccountsError("OEE_ADMIN_TOKEN must be at least 16 characters");
  remove_environment_admin_token();
  std::lock_guard lock(impl_->mutex);
  impl_->insert_known_token(std::string(token), "OEE_ADMIN_TOKEN", "OEE_ADMIN_TOKEN", Role::admin, "environment", now(), 0);
}

void Accounts::remove_environment_admin_token() {
  std::vector<std::string> ended;
  {
    std::lock_guard lock(impl_->mutex);
    ended = impl_->end_tokens([](const TokenRecord& r) { return r.name == "OEE_ADMIN_TOKEN"; });
  }
  tokens_ended(ended);
}

void Accounts::create_user(std::string_view name, std::string_view password, Role role, const PersonalData& personal) {
  check_name(name, "user name");
  check_password(password);
  check_personal(personal);
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), options_.pwhash_opslimit, options_.pwhash_memlimit) != 0)
    throw std::runtime_error("out of memory hashing a password");
  std::lock_guard lock(impl_->mutex);
  sql::Statement exists(impl_->db, "SELECT 1 FROM users WHERE name=?");
  exists.bind(1, name);
  if (exists.step()) throw AccountsError("user '" + std::string(name) + "' exists");
  sql::Statement(impl_->db, "INSERT INTO users VALUES(?,?,?,?,?,?,?)")
      .bind(1, name).bind(2, std::string_view(hash)).bind(3, role_name(role)).bind(4, now()).bind(5, new_pseudonym())
      .bind(6, personal.full_name.value_or("")).bind(7, personal.email.value_or("")).run();
}

bool Accounts::update_user(std::string_view name, std::optional<Role> role, std::string_view password,
                           const PersonalData& personal) {
  check_personal(personal);
  std::string hash;
  if (!password.empty()) {
    check_password(password);
    char h[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(h, password.data(), password.size(), options_.pwhash_opslimit, options_.pwhash_memlimit) != 0)
      throw std::runtime_error("out of memory hashing a password");
    hash = h;
  }
  std::vector<std::string> ended;
  {
    std::lock_guard lock(impl_->mutex);
    sql::Statement exists(impl_->db, "SELECT 1 FROM users WHERE name=?");
    exists.bind(1, name);
    if (!exists.step()) return false;
    if (role) {
      sql::Statement(impl_->db, "UPDATE users SET role=? WHERE name=?").bind(1, role_name(*role)).bind(2, name).run();
      // Sessions carry the role they were issued with: end them so the change takes effect now.
      ended = impl_->end_tokens([&](const TokenRecord& r) { return r.session && r.user == name; });
    }
    if (!hash.empty()) sql::Statement(impl_->db, "UPDATE users SET password_hash=? WHERE name=?").bind(1, hash).bind(2, name).run();
    if (personal.full_name)
      sql::Statement(impl_->db, "UPDATE users SET full_name=? WHERE name=?").bind(1, *personal.full_name).bind(2, name).run();
    if (personal.email)
      sql::Statement(impl_->db, "UPDATE users SET email=? WHERE name=?").bind(1, *personal.email).bind(2, name).run();
  }
  tokens_ended(ended);
  return true;
}

std::optional<UserInfo> Accounts::user(std::string_view name) {
  std::lock_guard lock(impl_->mutex);
  sql::Statement q(impl_->db, std::string("SELECT ") + kUserColumns + " FROM users WHERE name=?");
  q.bind(1, name);
  if (!q.step()) return std::nullopt;
  return user_row(q);
}

std::vector<UserInfo> Accounts::users() {
  std::lock_guard lock(impl_->mutex);
  std::vector<UserInfo> out;
  sql::Statement q(impl_->db, std::string("SELECT ") + kUserColumns + " FROM users ORDER BY name");
  while (q.step()) out.push_back(user_row(q));
  return out;
}

std::string Accounts::pseudonym(std::string_view name) {
  std::lock_guard lock(impl_->mutex);
  sql::Statement q(impl_->db, "SELECT pseudonym FROM users WHERE name=?");
  q.bind(1, name);
  return q.step() ? q.text_at(0) : std::string();
}

std::map<std::string, std::string> Accounts::names_by_pseudonym() {
  std::lock_guard lock(impl_->mutex);
  std::map<std::string, std::string> out;
  sql::Statement q(impl_->db, "SELECT pseudonym,name FROM users WHERE password_hash<>''");
  while (q.step()) out.emplace(q.text_at(0), q.text_at(1));
  return out;
}

std::optional<Erasure> Accounts::erase_user(std::string_view name) {
  std::vector<std::string> ended;
  Erasure out;
  {
    std::lock_guard lock(impl_->mutex);
    sql::Statement q(impl_->db, "SELECT pseudonym,role FROM users WHERE name=?");
    q.bind(1, name);
    if (!q.step()) return std::nullopt;
    out.pseudonym = q.text_at(0);
    const bool admin = q.text_at(1) == role_name(Role::admin);
    q.reset();
    sql::Statement admins(impl_->db, "SELECT count(*) FROM users WHERE role='admin'");
    admins.step();
    if (admin && admins.int_at(0) <= 1) throw AccountsError("'" + std::string(name) + "' is the last admin: make another admin first");
    admins.reset();
    out.tombstone = "erased-" + out.pseudonym;
    sql::Transaction tx(impl_->db);
    // No password hash: no password verifies, so the tombstone cannot log in.
    sql::Statement(impl_->db, "UPDATE users SET name=?, password_hash='', role='viewer', full_name='', email='' WHERE name=?")
        .bind(1, out.tombstone).bind(2, name).run();
    sql::Statement(impl_->db, "UPDATE tokens SET user=? WHERE user=? AND kind='api'").bind(1, out.tombstone).bind(2, name).run();
    ended = impl_->end_tokens([&](const TokenRecord& r) { return r.session && r.user == name; });
    for (auto& [hash, r] : impl_->tokens)
      if (r.user == name) r.user = out.tombstone;
    tx.commit();
    // The old pages may still be in the write-ahead log: copy them back and empty it.
    impl_->db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  tokens_ended(ended);
  return out;
}

LoginResult Accounts::login(std::string_view user, std::string_view password, std::string_view remote) {
  LoginResult result;
  const TimeMs t = now();
  const std::string key(remote);
  std::string stored_hash, role_text;
  {
    std::lock_guard lock(impl_->mutex);
    if ((result.retry_after_ms = impl_->backoff.wait_ms(key, t)) > 0) {
      result.outcome = LoginOutcome::rate_limited;
      return result;
    }
    sql::Statement q(impl_->db, "SELECT password_hash,role FROM users WHERE name=?");
    q.bind(1, user);
    if (q.step()) {
      stored_hash = q.text_at(0);
      role_text = q.text_at(1);
    }
    impl_->backoff.check_started(key);
  }
  // The slow hash runs outside the lock so one login does not hold up requests.
  const bool known = !stored_hash.empty();
  const bool password_ok =
      password.size() <= kPasswordBytesMax &&
      crypto_pwhash_str_verify(known ? stored_hash.c_str() : impl_->dummy_hash.c_str(), password.data(), password.size()) == 0;
  std::lock_guard lock(impl_->mutex);
  impl_->backoff.check_ended(key);
  if (!known || !password_ok) {
    impl_->backoff.failed(key, t);
    result.outcome = LoginOutcome::bad_credentials;
    return result;
  }
  result.role = parse_role(role_text).value_or(Role::viewer);
  result.session = impl_->insert_token("session", std::string(user), result.role, "session", t, t + options_.session_ttl_ms);
  result.outcome = LoginOutcome::ok;
  return result;
}

std::optional<Principal> Accounts::authenticate(std::string_view token) const {
  if (token.empty() || token.size() > 256) return std::nullopt;
  const std::string hash = sha256_hex(token);
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->tokens.find(hash);
  if (it == impl_->tokens.end()) return std::nullopt;
  TokenRecord& r = it->second;
  const TimeMs t = clock_();
  if (r.expires != 0 && r.expires <= t) return std::nullopt;
  if (r.session && options_.session_idle_ms > 0 && t - r.last_used >= options_.session_idle_ms) return std::nullopt;
  r.last_used = std::max(r.last_used, t);
  return Principal{r.session ? r.user : r.name, r.role, r.id, r.session};
}

IssuedToken Accounts::create_api_token(std::string_view name, Role role, std::string_view created_by) {
  check_name(name, "token name");
  std::lock_guard lock(impl_->mutex);
  return impl_->insert_token(std::string(name), std::string(created_by), role, "api", now(), 0);
}

std::vector<TokenInfo> Accounts::tokens() {
  std::lock_guard lock(impl_->mutex);
  std::vector<TokenInfo> out;
  for (const auto& [hash, r] : impl_->tokens) out.push_back({r.id, r.name, r.user, r.role, r.session, r.created, r.expires});
  std::sort(out.begin(), out.end(), [](const TokenInfo& a, const TokenInfo& b) { return a.created < b.created || (a.created == b.created && a.id < b.id); });
  return out;
}

bool Accounts::revoke_token(std::string_view id) {
  std::size_t n = 0;
  {
    std::lock_guard lock(impl_->mutex);
    n = std::erase_if(impl_->tokens, [&](const auto& kv) { return kv.second.id == id; });
    sql::Statement(impl_->db, "DELETE FROM tokens WHERE id=?").bind(1, id).run();
  }
  if (n > 0) tokens_ended({std::string(id)});
  return n > 0;
}

std::optional<RotatedToken> Accounts::rotate_api_token(std::string_view id, DurationMs overlap_ms) {
  if (overlap_ms < 0 || overlap_ms > kRotationOverlapMaxMs)
    throw AccountsError("the overlap must be 0 to 604800 seconds (7 days)");
  const TimeMs t = now();
  std::lock_guard lock(impl_->mutex);
  const auto it = std::find_if(impl_->tokens.begin(), impl_->tokens.end(), [&](const auto& kv) { return kv.second.id == id; });
  if (it == impl_->tokens.end()) return std::nullopt;
  TokenRecord& old = it->second;
  if (old.session) throw AccountsError("a session is not rotated: log in again");
  if (old.name == "OEE_ADMIN_TOKEN") throw AccountsError("OEE_ADMIN_TOKEN is rotated by changing the environment (docs/security.md)");
  // An old token already ending sooner keeps its earlier end.
  const TimeMs ends = old.expires != 0 ? std::min(old.expires, t + overlap_ms) : t + overlap_ms;
  sql::Statement(impl_->db, "UPDATE tokens SET expires=? WHERE id=?").bind(1, ends).bind(2, id).run();
  old.expires = ends;
  const std::string name = old.name, user = old.user;
  return RotatedToken{impl_->insert_token(name, user, old.role, "api", t, 0), ends};
}

std::size_t Accounts::end_expired_sessions() {
  const TimeMs t = now();
  std::vector<std::string> ended;
  {
    std::lock_guard lock(impl_->mutex);
    ended = impl_->end_tokens([&](const TokenRecord& r) {
      if (!r.session) return r.expires != 0 && r.expires <= t;
      return r.expires <= t || (options_.session_idle_ms > 0 && t - r.last_used >= options_.session_idle_ms);
    });
  }
  tokens_ended(ended);
  return ended.size();
}

int Accounts::add_token_end_listener(TokenEndListener listener) {
  std::lock_guard lock(impl_->listeners_mutex);
  impl_->listeners.emplace(impl_->next_listener, std::move(listener));
  return impl_->next_listener++;
}

void Accounts::remove_token_end_listener(int handle) {
  std::lock_guard lock(impl_->listeners_mutex);
  impl_->listeners.erase(handle);
}

void Accounts::tokens_ended(const std::vector<std::string>& ids) const {
  if (ids.empty()) return;
  std::lock_guard lock(impl_->listeners_mutex);
  for (const auto& [handle, listener] : impl_->listeners) listener(ids);
}

}  // namespace oee::auth
