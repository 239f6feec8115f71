#include "oee/sqlite/sqlite_db.h"

#include <fstream>

namespace oee::sqlite {
namespace {

// SQLite's message, and the page the encrypting VFS could not authenticate when that was the cause.
std::string error_text(const std::string& sqlite_msg) {
  const std::string failure = take_decrypt_failure();
  return failure.empty() ? sqlite_msg : sqlite_msg + " (" + failure + ")";
}

// Bytes reserved per page by an existing database file, -1 when the file is absent, empty or not
// SQLite's: tells an encrypted database (kEncryptedReserveBytes) from a plain one before opening.
int reserved_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char header[21] = {};
  if (!in.read(header, sizeof header) || std::string_view(header, 16) != std::string_view("SQLite format 3", 16))
    return -1;
  return static_cast<unsigned char>(header[20]);
}

void check_encryption_matches(const std::string& path, bool encrypted) {
  const int reserve = reserved_bytes(path);
  if (reserve < 0) return;
  if (encrypted && reserve < kEncryptedReserveBytes)
    throw std::runtime_error("sqlite: " + path + " is a plain (unencrypted) database but an encryption key was given;"
                             " encryption is chosen when a database is created (docs/security.md)");
  if (!encrypted && reserve == kEncryptedReserveBytes)
    throw std::runtime_error("sqlite: " + path + " is encrypted: give its key (--encryption-key-file or OEE_ENCRYPTION_KEY)");
}

// A writer's key is tried before SQLite opens the file (key_opens says why). Not a reader's: it
// opens beside a writer that may be rewriting page 1 (a torn read would look like a wrong key),
// and a read-only connection never checkpoints, so it cannot drop the WAL.
void check_key(const std::string& path, const PageKey* key, bool read_only) {
  check_encryption_matches(path, key != nullptr);
  if (key && !read_only && !key_opens(path, *key))
    throw std::runtime_error("sqlite: cannot open " + path + ": wrong encryption key or corrupted page 1 of " + path);
}

}  // namespace

Database::Database(const std::string& path, bool read_only, const PageKey* key) {
  check_key(path, key, read_only);
  const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, key ? encrypting_vfs(*key) : nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("sqlite: cannot open " + path + ": " + error_text(msg));
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 5000);
  if (key) use_encryption(path);
}

// Room for the nonce and tag in every page of a new database (ignored by an existing one, which
// has it), no temporary file on disk, and a first read that proves the key.
void Database::use_encryption(const std::string& path) {
  int reserve = kEncryptedReserveBytes;
  sqlite3_file_control(db_, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  try {
    exec("PRAGMA temp_store=MEMORY");
    exec("SELECT count(*) FROM sqlite_schema");
  } catch (const std::exception& e) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw std::runtime_error("sqlite: cannot open " + path + ": " + e.what());
  }
}

Database::~Database() { sqlite3_close_v2(db_); }

void Database::fail(const char* what) const {
  throw std::runtime_error(std::string("sqlite: ") + what + ": " + error_text(sqlite3_errmsg(db_)));
}

void Database::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = error_text(err ? err : "unknown error");
    sqlite3_free(err);
    throw std::runtime_error(std::string("sqlite: ") + msg + " in: " + std::string(sql).substr(0, 120));
  }
}

Statement::Statement(Database& db, std::string_view sql) : db_(&db) {
  if (sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_,
                         nullptr) != SQLITE_OK)
    throw std::runtime_error(std::string("sqlite: cannot prepare: ") + error_text(sqlite3_errmsg(db.handle())) + " in: " +
                             std::string(sql.substr(0, 120)));
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

Statement& Statement::bind(int i, std::int64_t v) {
  if (sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK) db_->fail("bind");
  return *this;
}
Statement& Statement::bind(int i, std::string_view v) {
  if (sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    db_->fail("bind");
  return *this;
}
Statement& Statement::bind_blob(int i, std::string_view v) {
  if (sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    db_->fail("bind");
  return *this;
}
std::string_view Statement::blob_at(int i) const {
  const void* p = sqlite3_column_blob(stmt_, i);
  return p ? std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)))
           : std::string_view();
}
Statement& Statement::bind_null(int i) {
  if (sqlite3_bind_null(stmt_, i) != SQLITE_OK) db_->fail("bind");
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  db_->fail("step");
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
}

std::string Statement::text_at(int i) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))) : std::string();
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
Transaction::~Transaction() {
  if (open_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}
void Transaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

}  // namespace oee::sqlite
