// online_backup while another connection keeps committing: the copy is one consistent snapshot (a
// prefix of the writer's commits, intact), and the writer goes on committing during the copy.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "oee/sqlite/online_backup.h"
#include "oee/sqlite/sqlite_db.h"

namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("oee-online-backup-" + std::to_string(::getpid()));
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::int64_t single_value(oee::sqlite::Database& db, const char* sql) {
  oee::sqlite::Statement s(db, sql);
  s.step();
  return s.int_at(0);
}

}  // namespace

TEST(OnlineBackup, CopiesOneConsistentSnapshotWhileAWriterCommits) {
  TempDir dir;
  const std::string live = (dir.path / "live.sqlite").string(), copy = (dir.path / "copy.sqlite").string();
  oee::sqlite::Database writer(live);
  writer.exec("PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB NOT NULL);");
  oee::sqlite::Statement insert(writer, "INSERT INTO t(pad) VALUES(zeroblob(2000))");
  {
    oee::sqlite::Transaction tx(writer);
    for (int i = 0; i < 5000; ++i) insert.run();  // ~2,500 pages: many steps of 16
    tx.commit();
  }
  std::atomic<std::int64_t> commits{0};
  std::atomic<bool> stop{false};
  std::thread writing([&] {
    while (!stop) {
      insert.run();  // one row, one commit
      ++commits;
    }
  });
  const std::int64_t before = 5000 + commits.load();
  const int pages = oee::sqlite::online_backup(live, copy, 16);
  const std::int64_t after = 5000 + commits.load();
  stop = true;
  writing.join();

  oee::sqlite::Database restored(copy, true);
  const std::int64_t rows = single_value(restored, "SELECT count(*) FROM t");
  EXPECT_GT(pages, 2000);
  EXPECT_GE(rows, before);
  EXPECT_LE(rows, after + 1);  // a commit may land before its count
  EXPECT_EQ(single_value(restored, "SELECT max(id) FROM t"), rows) << "a prefix of the commits, without holes";
  oee::sqlite::Statement check(restored, "PRAGMA integrity_check");
  ASSERT_TRUE(check.step());
  EXPECT_EQ(check.text_at(0), "ok");
  std::printf("backup of %d pages: %lld rows; the writer committed %lld rows during it\n", pages, static_cast<long long>(rows),
              static_cast<long long>(after - before));
}

TEST(OnlineBackup, RefusesAMissingSourceAndAnExistingTarget) {
  TempDir dir;
  const std::string live = (dir.path / "live.sqlite").string();
  EXPECT_THROW(oee::sqlite::online_backup(live, (dir.path / "copy.sqlite").string()), std::runtime_error);
  oee::sqlite::Database(live).exec("CREATE TABLE t(x)");
  EXPECT_THROW(oee::sqlite::online_backup(live, live), std::runtime_error);
}

// An encrypted database is copied encrypted with the same key: the copy opens with it, holds the
// rows, never shows them in plain text, and does not open without the key.
TEST(OnlineBackup, AnEncryptedDatabaseIsCopiedEncryptedWithItsKey) {
  TempDir dir;
  const std::string live = (dir.path / "live.sqlite").string(), copy = (dir.path / "copy.sqlite").string();
  oee::sqlite::PageKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i * 7 + 1);
  {
    oee::sqlite::Database db(live, false, &key);
    db.exec("PRAGMA journal_mode=WAL; CREATE TABLE t(v TEXT); INSERT INTO t VALUES('berlin/bottling/pet1/filler');");
    oee::sqlite::online_backup(live, copy, key, 16);
  }
  std::ifstream in(copy, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_GT(bytes.size(), 0u);
  EXPECT_EQ(bytes.find("berlin/bottling"), std::string::npos);
  EXPECT_TRUE(oee::sqlite::key_opens(copy, key));
  oee::sqlite::Database restored(copy, true, &key);
  oee::sqlite::Statement s(restored, "SELECT v FROM t");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.text_at(0), "berlin/bottling/pet1/filler");
  EXPECT_THROW(oee::sqlite::Database(copy, true), std::runtime_error);
}
