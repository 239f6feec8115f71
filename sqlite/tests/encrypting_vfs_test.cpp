// The encrypting VFS on real files: what is written comes back, no page reaches the disk in plain
// text (the raw files are searched for a known marker), a wrong key, a missing key, a key for a
// plain file and a tampered page are refused with a clear error, and plain journals are refused.
#include "oee/sqlite/sqlite_db.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

namespace fs = std::filesystem;
using oee::sqlite::Database;
using oee::sqlite::PageKey;
using oee::sqlite::Statement;

constexpr const char* kMarker = "Press-Line-7 jammed at the die";

struct TempDir {
  fs::path dir = fs::temp_directory_path() / ("oee_enc_vfs_" + std::to_string(::getpid()) + "_" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempDir() { fs::create_directories(dir); }
  ~TempDir() { fs::remove_all(dir); }
  std::string db() const { return (dir / "e.db").string(); }
};

PageKey key_of(unsigned char fill) {
  PageKey k;
  k.fill(fill);
  return k;
}

void open_store_like(Database& db, int page_size) {
  db.exec(("PRAGMA page_size=" + std::to_string(page_size)).c_str());
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=FULL");
  db.exec("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, note TEXT NOT NULL)");
}

void insert_notes(Database& db, int n) {
  Statement ins(db, "INSERT INTO t(note) VALUES(?1)");
  oee::sqlite::Transaction tx(db);
  for (int i = 0; i < n; ++i) ins.bind(1, std::string(kMarker) + " #" + std::to_string(i)).run();
  tx.commit();
}

std::int64_t count_notes(Database& db) {
  Statement s(db, "SELECT count(*) FROM t WHERE note LIKE 'Press-Line-7%'");
  EXPECT_TRUE(s.step());
  return s.int_at(0);
}

// The files of the directory that hold the marker (none, when nothing is plain on disk).
std::string files_with_marker(const fs::path& dir) {
  std::string found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (bytes.str().find("Press-Line-7") != std::string::npos) found += entry.path().filename().string() + " ";
  }
  return found;
}

std::string error_of(auto&& action) {
  try {
    action();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(EncryptingVfs, RoundTripsWithNoPlainTextOnDiskInWalOrDatabase) {
  for (int page_size : {4096, 8192}) {
    TempDir d;
    const PageKey key = key_of(7);
    {
      Database db(d.db(), false, &key);
      open_store_like(db, page_size);
      insert_notes(db, 2000);
      // Before a checkpoint the pages are in the WAL: it must be sealed as well.
      EXPECT_TRUE(fs::file_size(d.db() + "-wal") > 0);
      EXPECT_EQ(files_with_marker(d.dir), "");
      Database reader(d.db(), true, &key);
      EXPECT_EQ(count_notes(reader), 2000);
    }
    EXPECT_EQ(files_with_marker(d.dir), "");
    Database again(d.db(), false, &key);
    EXPECT_EQ(count_notes(again), 2000);
    Statement ps(again, "PRAGMA page_size");
    ASSERT_TRUE(ps.step());
    EXPECT_EQ(ps.int_at(0), page_size);
  }
}

TEST(EncryptingVfs, TheSameDataWithoutAKeyIsPlainOnDisk) {
  // The marker search above would find plain text: shown here on a plain database.
  TempDir d;
  {
    Database db(d.db());
    open_store_like(db, 4096);
    insert_notes(db, 10);
  }
  EXPECT_NE(files_with_marker(d.dir), "");
}

TEST(EncryptingVfs, AWrongKeyIsRefusedAndNothingIsOverwritten) {
  TempDir d;
  const PageKey key = key_of(1), wrong = key_of(2);
  {
    Database db(d.db(), false, &key);
    open_store_like(db, 4096);
    insert_notes(db, 100);
  }
  const auto size = fs::file_size(d.db());
  EXPECT_NE(error_of([&] { Database db(d.db(), false, &wrong); }).find("wrong encryption key or corrupted page 1"),
            std::string::npos);
  EXPECT_EQ(fs::file_size(d.db()), size);
  Database db(d.db(), false, &key);
  EXPECT_EQ(count_notes(db), 100);
}

TEST(EncryptingVfs, AnEncryptedFileWithoutKeyAndAPlainFileWithAKeyAreRefused) {
  TempDir d;
  const PageKey key = key_of(3);
  {
    Database db(d.db(), false, &key);
    open_store_like(db, 4096);
  }
  EXPECT_NE(error_of([&] { Database db(d.db()); }).find("is encrypted: give its key"), std::string::npos);
  const std::string plain = (d.dir / "plain.db").string();
  {
    Database db(plain);
    open_store_like(db, 4096);
  }
  EXPECT_NE(error_of([&] { Database db(plain, false, &key); }).find("plain (unencrypted) database"), std::string::npos);
}

TEST(EncryptingVfs, ATamperedPageIsReportedByNumberNotReadAsData) {
  TempDir d;
  const PageKey key = key_of(4);
  {
    Database db(d.db(), false, &key);
    open_store_like(db, 4096);
    insert_notes(db, 500);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  {
    std::fstream f(d.db(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 * 2 + 100);  // inside page 3, a leaf of t
    f.put('\x55');
  }
  Database db(d.db(), false, &key);
  const std::string error = error_of([&] { count_notes(db); });
  EXPECT_NE(error.find("wrong encryption key or corrupted page 3"), std::string::npos) << error;
}

TEST(EncryptingVfs, ARollbackJournalIsRefusedRatherThanWrittenInPlain) {
  TempDir d;
  const PageKey key = key_of(5);
  {
    Database db(d.db(), false, &key);
    open_store_like(db, 4096);
    insert_notes(db, 50);
  }
  Database db(d.db(), false, &key);
  // Leaving WAL rewrites page 1 under a rollback journal already: refused there or at the update.
  const std::string error = error_of([&] {
    db.exec("PRAGMA journal_mode=DELETE");
    db.exec("UPDATE t SET note = note || ' again'");
  });
  EXPECT_NE(error.find("rollback journal"), std::string::npos) << error;
  EXPECT_EQ(files_with_marker(d.dir), "");
}

}  // namespace

namespace {

TEST(EncryptingVfs, AWrongKeyLeavesTheCommittedFramesOfAWalAlone) {
  TempDir d;
  const PageKey key = key_of(6), wrong = key_of(8);
  const std::string copy = (d.dir / "copy.db").string();
  {
    Database db(d.db(), false, &key);
    open_store_like(db, 4096);
    db.exec("PRAGMA wal_autocheckpoint=0");
    insert_notes(db, 300);
    // A copy while the writer is open: committed frames in the WAL, none checkpointed (a crash).
    fs::copy_file(d.db(), copy);
    fs::copy_file(d.db() + "-wal", copy + "-wal");
  }
  EXPECT_GT(fs::file_size(copy + "-wal"), 0u);
  EXPECT_NE(error_of([&] { Database db(copy, false, &wrong); }).find("wrong encryption key"), std::string::npos);
  Database db(copy, false, &key);
  EXPECT_EQ(count_notes(db), 300);
}

}  // namespace
