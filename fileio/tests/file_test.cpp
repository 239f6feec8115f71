// The file layer and its fault seam: injected faults hit exactly the write or sync they name, a
// short write leaves exactly its prefix, and nothing is injected without an installed injector.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "oee/fileio/fault_injector.h"
#include "oee/fileio/file.h"

namespace oee::fileio {
namespace {

std::string temp_dir() {
  std::string t = (std::filesystem::temp_directory_path() / "oee-fileio-XXXXXX").string();
  return ::mkdtemp(t.data());
}

TEST(FileLayer, WritesReadsTruncatesRenamesAndRemoves) {
  const std::string dir = temp_dir();
  {
    File f(dir + "/a", O_RDWR | O_CREAT);
    f.write_at("hello world", 11, 0);
    f.datasync();
    char buf[16] = {};
    EXPECT_EQ(f.read_at(buf, sizeof buf, 6), 5u);
    EXPECT_EQ(std::string(buf, 5), "world");
    f.truncate(5);
    EXPECT_EQ(f.size(), 5u);
  }
  rename_file(dir + "/a", dir + "/b");
  sync_dir(dir);
  EXPECT_FALSE(std::filesystem::exists(dir + "/a"));
  remove_file(dir + "/b");
  remove_file(dir + "/b");  // missing: not an error
  EXPECT_THROW(File(dir + "/missing", O_RDONLY), IoError);
  std::filesystem::remove_all(dir);
}

TEST(FileLayer, InjectedFaultsHitTheNamedWriteAndSyncOnly) {
  const std::string dir = temp_dir();
  File f(dir + "/a", O_RDWR | O_CREAT);
  {
    ScopedFaultInjector faults({{FaultOp::write, 2, ENOSPC, 3}, {FaultOp::sync, 2, EIO, 0}});
    f.write_at("first", 5, 0);
    try {
      f.write_at("second", 6, 5);
      FAIL() << "the second write must fail";
    } catch (const IoError& e) {
      EXPECT_EQ(e.error(), ENOSPC);
    }
    EXPECT_EQ(f.size(), 8u) << "a short write of 3 bytes leaves exactly its prefix";
    f.datasync();
    try {
      sync_dir(dir);
      FAIL() << "the second sync (a directory's) must fail";
    } catch (const IoError& e) {
      EXPECT_EQ(e.error(), EIO);
    }
    f.sync();
    EXPECT_EQ(faults->writes(), 2u);
    EXPECT_EQ(faults->syncs(), 3u);
    EXPECT_EQ(faults->injected(), 2u);
  }
  EXPECT_EQ(installed_fault_injector(), nullptr);
  f.write_at("x", 1, 0);  // nothing installed: nothing fails
  std::filesystem::remove_all(dir);
}

// A replaced file holds the new bytes, or, when a write or sync of the replacement fails, still
// the old ones: never a mix and never a torn file.
TEST(FileLayer, ReplaceFileIsWholeOrNotAtAll) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/state";
  const auto read = [&] {
    File f(path, O_RDONLY);
    std::string s(f.size(), '\0');
    f.read_at(s.data(), s.size(), 0);
    return s;
  };
  replace_file(path, "first\n");
  EXPECT_EQ(read(), "first\n");
  for (const Fault& fault : every_single_fault(1, 2)) {  // one write, the file's and the directory's syncs
    ScopedFaultInjector faults({fault});
    bool threw = false;
    try {
      replace_file(path, "second, longer\n");
    } catch (const IoError&) {
      threw = true;
    }
    // A failed directory sync comes after the rename: the new bytes may stand, whole.
    const std::string now = read();
    EXPECT_TRUE(now == "first\n" || (now == "second, longer\n" && fault.op == FaultOp::sync && fault.nth == 2))
        << describe(fault) << ": " << now;
    EXPECT_TRUE(threw) << describe(fault);
    replace_file(path, "first\n");
  }
  replace_file(path, "");
  EXPECT_EQ(read(), "");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace oee::fileio
