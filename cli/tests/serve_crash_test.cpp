// `oee serve --demo` SIGKILLed in the middle of ingesting, then restarted: nothing committed is lost,
// nothing is counted twice, and its KPIs equal an independent offline computation of the same
// simulated events (`oee simulate` + `oee replay`), to the last digit. Once with a plain store, once
// with the store and auth.sqlite encrypted (--encryption-key-file): then no file of the data
// directory holds a machine's path in plain text either.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "demo_crash_scenario.h"

namespace {

// The server's admin token: set in this process's environment, so every `oee serve` child has it.
const std::string kAdminToken = "serve-crash-test-admin-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";

std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Kills `oee serve` three times during its history ingest, restarts it and compares its KPIs
// with the offline replay; the data directory stays.
void kill_restart_and_compare(const std::filesystem::path& dir, const std::vector<std::string>& extra_args) {
  const oee::TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
  // Two simulated days of history to ingest before real time: the kills land in the middle of it.
  const oee::TimeMs start = oee::floor_to(now - 48 * oee::kMsPerHour, oee::kMsPerMinute);
  std::ofstream(dir / "demo-start") << start << "\n";
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  std::vector<std::string> serve = {OEE_BINARY, "serve", "--demo", "--data-dir", dir.string(), "--listen", "127.0.0.1:0"};
  serve.insert(serve.end(), extra_args.begin(), extra_args.end());
  oee::testing::kill_during_history_ingest(serve, dir, 3, std::chrono::seconds(60));
  ASSERT_FALSE(::testing::Test::HasFatalFailure());

  oee::testing::ChildProcess server(serve, (dir / "serve-final.log").string());
  ASSERT_TRUE(server.wait_for_output("listening on", std::chrono::seconds(20))) << server.output();
  const std::uint16_t port = oee::testing::listening_port(server.output());
  ASSERT_NE(port, 0);
  const oee::TimeMs window_end = start + 40 * oee::kMsPerHour;
  oee::testing::wait_until_caught_up(port, kAuth, window_end, 600);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  oee::testing::expect_kpis_equal_offline_replay(port, kAuth, dir, start, window_end);
  // Without the token: 401.
  EXPECT_EQ(oee::testing::http_get(port, "/api/v1/sources").status, 401);
  EXPECT_EQ(server.kill(SIGTERM), 0);
}

// The SQLite files of the directory (store, auth, their WAL and shm) that contain `text`.
std::string sqlite_files_with(const std::filesystem::path& dir, const std::string& text) {
  std::string found;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().find(".sqlite") == std::string::npos) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (bytes.str().find(text) != std::string::npos) found += entry.path().filename().string() + " ";
  }
  return found;
}

}  // namespace

TEST(ServeCrash, KilledDuringIngestLosesNothingAndCountsNothingTwice) {
  const auto dir = fresh_dir("oee-serve-crash");
  kill_restart_and_compare(dir, {});
  std::filesystem::remove_all(dir);
}

TEST(ServeCrash, EncryptedStoreKilledDuringIngestLosesNothingAndShowsNoPlainText) {
  const auto dir = fresh_dir("oee-serve-crash-encrypted");
  const auto key = dir.parent_path() / (dir.filename().string() + ".key");
  std::ofstream(key) << "5f1e0c2b9a8d7f6e5d4c3b2a19080706f5e4d3c2b1a09f8e7d6c5b4a39281706\n";
  ::chmod(key.c_str(), 0600);
  kill_restart_and_compare(dir, {"--encryption-key-file", key.string()});
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_TRUE(std::filesystem::exists(dir / "oee.sqlite"));
  // The machines table names every machine; the auth database its admin user.
  EXPECT_EQ(sqlite_files_with(dir, "berlin/bottling/pet1"), "");
  EXPECT_EQ(sqlite_files_with(dir, "password_hash"), "");
  // Without the key the server refuses to start, and says why.
  oee::testing::ChildProcess refused({OEE_BINARY, "serve", "--demo", "--data-dir", dir.string(), "--listen", "127.0.0.1:0"},
                                     (dir / "serve-no-key.log").string());
  EXPECT_TRUE(refused.wait_for_output("is encrypted: give its key", std::chrono::seconds(20))) << refused.output();
  EXPECT_NE(refused.kill(SIGTERM), 0);
  // The other commands that read these files take the same key.
  const std::string with_key = " --encryption-key-file " + key.string();
  EXPECT_NE(oee::testing::run_oee("audit verify --data-dir " + dir.string() + with_key).find("audit chain intact"),
            std::string::npos);
  EXPECT_NE(oee::testing::run_oee("audit verify --data-dir " + dir.string(), 2).find("is encrypted"), std::string::npos);
  const oee::TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string export_args = "export --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --data-dir " + dir.string() +
                                  " --out - --from " + std::to_string(now - 47 * oee::kMsPerHour) + " --to " +
                                  std::to_string(now - 46 * oee::kMsPerHour);
  EXPECT_NE(oee::testing::run_oee(export_args + with_key).find("berlin/bottling/pet1/filler"), std::string::npos);
  EXPECT_NE(oee::testing::run_oee(export_args, 1).find("is encrypted"), std::string::npos);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(key);
}

TEST(ServeEncryptionKey, AnOpenShortOrMissingKeyFileIsRefusedWithTheReason) {
  const auto dir = fresh_dir("oee-serve-key-flags");
  const std::string serve = "serve --demo --data-dir " + (dir / "data").string() + " --listen 127.0.0.1:0 --encryption-key-file ";
  const auto key = dir / "rest.key";
  std::ofstream(key) << "5f1e0c2b9a8d7f6e5d4c3b2a19080706f5e4d3c2b1a09f8e7d6c5b4a39281706\n";
  ::chmod(key.c_str(), 0644);
  EXPECT_NE(oee::testing::run_oee(serve + key.string(), 2).find("must not be accessible by group or others"), std::string::npos);
  std::ofstream(key) << "5f1e0c2b\n";
  ::chmod(key.c_str(), 0600);
  EXPECT_NE(oee::testing::run_oee(serve + key.string(), 2).find("64 hex digits or base64"), std::string::npos);
  EXPECT_NE(oee::testing::run_oee(serve + (dir / "none.key").string(), 2).find("cannot read"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "data" / "oee.sqlite"));  // refused before anything is created
  std::filesystem::remove_all(dir);
}
