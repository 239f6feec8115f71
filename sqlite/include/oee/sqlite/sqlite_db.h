#pragma once
// A thin RAII layer over the sqlite3 C API: a connection and prepared statements. Errors throw
// std::runtime_error with SQLite's message, so a failed write rolls back instead of half-applying.
// Shared by the SQLite event store (storage) and the server's own records (auth).
#include <sqlite3.h>

#include "oee/sqlite/encrypting_vfs.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace oee::sqlite {

class Database {
 public:
  // `read_only`: a connection that only reads (a WAL reader beside the one writer); the database
  // must exist. `key`: the file is (or, when new, becomes) encrypted with it (encrypting_vfs.h);
  // opening an encrypted file without its key, or a plain one with a key, throws a clear error.
  explicit Database(const std::string& path, bool read_only = false, const PageKey* key = nullptr);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const char* sql);
  sqlite3* handle() const { return db_; }
  [[noreturn]] void fail(const char* what) const;

 private:
  void use_encryption(const std::string& path);
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement() = default;
  Statement(Database& db, std::string_view sql);
  ~Statement();
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::int64_t v);
  Statement& bind(int i, std::string_view v);  // SQLite copies the bytes
  Statement& bind_null(int i);
  Statement& bind_blob(int i, std::string_view bytes);  // SQLite copies the bytes
  // Steps once: true when a row is available, false when done. Throws on error.
  bool step();
  // Steps to completion (for statements without rows), then resets. Bindings stay: callers bind
  // every parameter before each run.
  void run();
  void reset();

  std::int64_t int_at(int i) const { return sqlite3_column_int64(stmt_, i); }
  bool is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::string text_at(int i) const;
  // A view of a blob column, valid until the next step() or reset().
  std::string_view blob_at(int i) const;

 private:
  Database* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back when destroyed without commit().
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool open_ = true;
};

}  // namespace oee::sqlite
