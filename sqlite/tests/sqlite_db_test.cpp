// The RAII layer over sqlite3: errors surface as exceptions with SQLite's message, and a
// transaction not committed leaves nothing behind.
#include "oee/sqlite/sqlite_db.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace {

using oee::sqlite::Database;
using oee::sqlite::Statement;
using oee::sqlite::Transaction;

// A database file of its own, removed with its WAL files afterwards.
struct TempFile {
  std::string path = (std::filesystem::temp_directory_path() / ("oee_sqlite_test_" + std::to_string(::getpid()) + ".db")).string();
  ~TempFile() {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix);
  }
};

std::int64_t count_rows(Database& db) {
  Statement s(db, "SELECT count(*) FROM t");
  EXPECT_TRUE(s.step());
  return s.int_at(0);
}

std::string error_of(auto&& action) {
  try {
    action();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(SqliteDb, BindsAndReadsBackTextBlobIntegerAndNull) {
  TempFile f;
  Database db(f.path);
  db.exec("CREATE TABLE t(i INTEGER, s TEXT, b BLOB, n INTEGER)");
  const std::string blob("a\0b", 3);
  Statement(db, "INSERT INTO t VALUES(?1, ?2, ?3, ?4)").bind(1, std::int64_t{-7}).bind(2, "text").bind_blob(3, blob).bind_null(4).run();
  Statement s(db, "SELECT i, s, b, n FROM t");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.int_at(0), -7);
  EXPECT_EQ(s.text_at(1), "text");
  EXPECT_EQ(s.blob_at(2), blob);
  EXPECT_TRUE(s.is_null(3));
  EXPECT_FALSE(s.step());
}

TEST(SqliteDb, TransactionNotCommittedRollsBack) {
  TempFile f;
  Database db(f.path);
  db.exec("CREATE TABLE t(i INTEGER)");
  {
    Transaction t(db);
    db.exec("INSERT INTO t VALUES(1)");
  }  // destroyed without commit(), as when an append throws
  EXPECT_EQ(count_rows(db), 0);
  {
    Transaction t(db);
    db.exec("INSERT INTO t VALUES(2)");
    t.commit();
  }
  EXPECT_EQ(count_rows(db), 1);
}

TEST(SqliteDb, ErrorsThrowWithSqlitesMessage) {
  TempFile f;
  Database db(f.path);
  db.exec("CREATE TABLE t(i INTEGER PRIMARY KEY)");
  EXPECT_NE(error_of([&] { Statement(db, "SELEC 1"); }).find("syntax error"), std::string::npos);
  EXPECT_NE(error_of([&] { db.exec("INSERT INTO nosuchtable VALUES(1)"); }).find("no such table"), std::string::npos);
  Statement insert(db, "INSERT INTO t VALUES(1)");
  insert.run();
  EXPECT_NE(error_of([&] { insert.run(); }).find("UNIQUE constraint failed"), std::string::npos);
  EXPECT_NE(error_of([&] { Database(f.path + ".absent", true); }).find("cannot open"), std::string::npos);
}

}  // namespace
