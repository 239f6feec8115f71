// `oee backup` and `oee restore` against a running `oee serve` fed through a real Mosquitto, and
// `oee serve --backup-dir` (continuous backups): a backup taken while events keep arriving restores
// into a new data directory whose server serves the KPIs of exactly the events the backup holds
// (an offline replay of them); a corrupted or incomplete backup is refused; backups rotate.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "demo_crash_scenario.h"
#include "mqtt_publishing.h"
#include "oee/storage/backup_manifest.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kAdminToken = "serve-backup-test-token-0123";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";

fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("oee-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  return dir;
}

// The first `count` events in the order they are published (messages_of: machine by machine, in
// file order within a machine), written to `out` as a file `oee replay` reads.
void write_published_prefix(const fs::path& events_file, std::int64_t count, const fs::path& out) {
  std::map<std::string, std::vector<std::string>> by_machine;
  std::ifstream in(events_file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) by_machine[nlohmann::json::parse(line)["machine"].get<std::string>()].push_back(line);
  std::ofstream prefix(out);
  for (const auto& [machine, lines] : by_machine)
    for (const auto& line : lines)
      if (count-- > 0) prefix << line << '\n';
}

std::uint16_t start_server(oee::testing::ChildProcess& server) {
  EXPECT_TRUE(server.wait_for_output("listening on", 60s)) << server.output();
  return oee::testing::listening_port(server.output());
}

// A /metrics counter or gauge of the server; -1 when absent.
double metric(std::uint16_t port, const std::string& name) {
  const std::string body = oee::testing::http_get(port, "/metrics", kAuth).body;
  const auto at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + name.size() + 2));
}

std::vector<fs::path> whole_backups(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().starts_with("oee-backup-")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// The files under `dir` whose bytes contain `text`.
std::string files_with(const fs::path& dir, const std::string& text) {
  std::string found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(text) != std::string::npos) found += entry.path().filename().string() + " ";
  }
  return found;
}

// A server fed through the broker is backed up while events keep arriving; the backup restores
// into a new data directory whose server answers the KPIs of exactly the events it holds.
// `key_args`: the --encryption-key-file of an encrypted data directory, given to every command.
// The backup is left in DIR/backup, the restored directory in DIR/restored.
void back_up_under_ingest_and_restore(const fs::path& dir, const std::vector<std::string>& key_args) {
  std::string keys;
  for (const auto& a : key_args) keys += " " + a;
  oee::testing::Broker broker(dir);
  const oee::TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const oee::TimeMs start = oee::floor_to(now - 3 * oee::kMsPerHour, oee::kMsPerMinute), end = start + oee::kMsPerHour;
  const fs::path events_file = dir / "simulated.jsonl";
  oee::testing::run_oee("simulate --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --seed 1 --from " + oee::format_rfc3339(start) +
                        " --to " + oee::format_rfc3339(end) + " --out " + events_file.string());
  std::size_t events = 0;
  const auto messages = oee::testing::messages_of(events_file, events);

  std::vector<std::string> serve = {OEE_BINARY, "serve", "--plant", OEE_DEMO_PLANT_FILE, "--data-dir", (dir / "data").string(),
                                    "--listen", "127.0.0.1:0", "--mqtt", broker.url(), "--mqtt-client-id", "oee-backup-original"};
  serve.insert(serve.end(), key_args.begin(), key_args.end());
  oee::testing::ChildProcess original(serve, (dir / "original.log").string());
  const std::uint16_t port = start_server(original);
  ASSERT_TRUE(broker.subscribed("oee-backup-original", "oee/v1/#", 30s)) << original.output();
  oee::testing::Publisher publisher(broker.url(), "serve-backup-test-publisher");
  const std::size_t first = messages.size() / 4;
  publisher.publish(messages, 0, first);
  ASSERT_TRUE(oee::testing::eventually([&] { return oee::testing::stored_events(port, kAuth) > 0; }, 60s));

  // The rest goes on arriving, two messages at a time, each pair stored before the next, until the
  // backup is done; then whatever is left.
  std::atomic<bool> backed_up{false};
  std::atomic<std::size_t> next{first};
  std::thread feed([&] {
    for (; next < messages.size() && !backed_up; next += 2) {
      const std::int64_t before = oee::testing::stored_events(port, kAuth);
      publisher.publish(messages, next, std::min(messages.size(), next + 2));
      oee::testing::eventually([&] { return oee::testing::stored_events(port, kAuth) > before; }, 30s);
    }
  });
  EXPECT_TRUE(oee::testing::eventually([&] { return next > first + 4; }, 60s));  // (no ASSERT: the feed thread runs)
  const std::int64_t stored_before = oee::testing::stored_events(port, kAuth);
  const std::string out = oee::testing::run_oee("backup --data-dir " + (dir / "data").string() + " --out " + (dir / "backup").string() + keys);
  backed_up = true;
  feed.join();
  publisher.publish(messages, std::min(next.load(), messages.size()), messages.size());
  EXPECT_TRUE(oee::testing::eventually([&] { return oee::testing::stored_events(port, kAuth) >= static_cast<std::int64_t>(events); }, 120s));
  EXPECT_EQ(original.kill(SIGTERM), 0);

  const oee::storage::BackupManifest manifest = oee::storage::read_backup_manifest(dir / "backup" / "manifest.txt");
  std::printf("%s; %lld events stored when it began, %zu in all\n", out.c_str(), static_cast<long long>(stored_before), events);
  EXPECT_GE(manifest.events, stored_before);
  EXPECT_LT(manifest.events, static_cast<std::int64_t>(events)) << "the backup did not happen during ingest";
  std::vector<std::string> names;
  for (const auto& f : manifest.files) names.push_back(f.name);
  EXPECT_NE(std::find(names.begin(), names.end(), "oee.sqlite"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "auth.sqlite"), names.end());

  oee::testing::run_oee("restore --from " + (dir / "backup").string() + " --data-dir " + (dir / "restored").string() + keys);
  std::vector<std::string> serve_restored = {OEE_BINARY, "serve", "--plant", OEE_DEMO_PLANT_FILE, "--data-dir", (dir / "restored").string(),
                                             "--listen", "127.0.0.1:0"};
  serve_restored.insert(serve_restored.end(), key_args.begin(), key_args.end());
  oee::testing::ChildProcess restored(serve_restored, (dir / "restored.log").string());
  const std::uint16_t restored_port = start_server(restored);
  EXPECT_EQ(oee::testing::stored_events(restored_port, kAuth), manifest.events);
  write_published_prefix(events_file, manifest.events, dir / "held.jsonl");
  const std::string from = oee::format_rfc3339(start), to = oee::format_rfc3339(end);
  for (const std::string node : {"", "berlin/bottling/pet1", "berlin/bottling/glass2/filler"}) {
    const std::string node_arg = node.empty() ? "" : " --node " + node;
    std::string offline = oee::testing::run_oee("replay --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --events " +
                                                (dir / "held.jsonl").string() + " --from " + from + " --to " + to +
                                                " --as-of " + oee::format_rfc3339(end + oee::kMsPerHour) + node_arg);
    offline.erase(offline.find_last_not_of('\n') + 1);
    const auto online = oee::testing::http_get(restored_port, "/api/v1/kpis?from=" + from + "&to=" + to + (node.empty() ? "" : "&node=" + node), kAuth);
    EXPECT_EQ(online.status, 200) << online.body;
    EXPECT_EQ(online.body, offline) << "node " << node;
  }
  EXPECT_EQ(restored.kill(SIGTERM), 0);
}

}  // namespace

TEST(ServeBackup, ABackupTakenWhileIngestingRestoresToTheKpisOfTheEventsItHolds) {
  const fs::path dir = fresh_dir("serve-backup");
  back_up_under_ingest_and_restore(dir, {});
  if (::testing::Test::HasFatalFailure()) return;
  // A plain store holds its events' machine paths as text (what the encrypted case must not).
  EXPECT_NE(files_with(dir / "backup", "berlin/bottling/pet1"), "");
  fs::remove_all(dir);
}

// The same with a data directory encrypted at rest: `oee backup` and `oee restore` take the key as
// `oee serve` does, the backup stays encrypted (no file of it holds a machine's path in plain text;
// it opens only with the key), and a wrong or missing key is refused with the reason.
TEST(ServeBackup, AnEncryptedDataDirBacksUpEncryptedAndRestoresWithItsKey) {
  ::unsetenv("OEE_ENCRYPTION_KEY");
  const fs::path key = fs::temp_directory_path() / ("oee-backup-rest-" + std::to_string(::getpid()) + ".key");
  std::ofstream(key) << "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9\n";
  ::chmod(key.c_str(), 0600);
  const fs::path dir = fresh_dir("serve-backup-encrypted");
  back_up_under_ingest_and_restore(dir, {"--encryption-key-file", key.string()});
  if (::testing::Test::HasFatalFailure()) return;
  EXPECT_EQ(files_with(dir / "backup", "berlin/bottling/pet1"), "");
  EXPECT_EQ(files_with(dir / "restored", "berlin/bottling/pet1"), "");
  // Without the key: the backup names the file that needs it; a restore with another key is
  // refused before anything is written; the restored copy opens only with the key.
  EXPECT_NE(oee::testing::run_oee("backup --data-dir " + (dir / "data").string() + " --out " + (dir / "again").string(), 2)
                .find("is encrypted: give its key"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "again"));
  const fs::path other = dir / "other.key";
  std::ofstream(other) << "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n";
  ::chmod(other.c_str(), 0600);
  EXPECT_NE(oee::testing::run_oee("restore --from " + (dir / "backup").string() + " --data-dir " + (dir / "wrong").string() +
                                  " --encryption-key-file " + other.string(), 2).find("does not open with the given key"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "wrong"));
  // --verify-only checks the key too (and restores nothing: --data-dir with it is refused).
  const std::string verify = "restore --verify-only --from " + (dir / "backup").string() + " --encryption-key-file ";
  EXPECT_NE(oee::testing::run_oee(verify + other.string(), 2).find("does not open with the given key"), std::string::npos);
  EXPECT_NE(oee::testing::run_oee(verify + key.string()).find("verified"), std::string::npos);
  EXPECT_NE(oee::testing::run_oee(verify + key.string() + " --data-dir " + (dir / "wrong").string(), 2)
                .find("excludes"), std::string::npos);
  EXPECT_NE(oee::testing::run_oee("export --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --data-dir " + (dir / "restored").string() +
                                  " --out - --from 0 --to 1", 1).find("is encrypted"), std::string::npos);
  // `oee serve --backup-dir` on an encrypted directory backs up encrypted too, with the serve's key.
  {
    oee::testing::ChildProcess server({OEE_BINARY, "serve", "--plant", OEE_DEMO_PLANT_FILE, "--data-dir", (dir / "restored").string(),
                                       "--listen", "127.0.0.1:0", "--encryption-key-file", key.string(), "--backup-dir",
                                       (dir / "continuous").string(), "--backup-interval-s", "1"},
                                      (dir / "continuous.log").string());
    const std::uint16_t port = start_server(server);
    EXPECT_TRUE(oee::testing::eventually([&] { return metric(port, "oee_backups_total") >= 1; }, 60s)) << server.output();
    EXPECT_EQ(metric(port, "oee_backup_failures_total"), 0) << server.output();
    EXPECT_EQ(server.kill(SIGTERM), 0);
    EXPECT_EQ(whole_backups(dir / "continuous").empty(), false);
    EXPECT_EQ(files_with(dir / "continuous", "berlin/bottling/pet1"), "");
  }
  fs::remove_all(dir);
  fs::remove(key);
}

TEST(ServeBackup, ACorruptedOrIncompleteBackupIsRefusedNamingTheFile) {
  const fs::path dir = fresh_dir("serve-backup-corrupt");
  {
    oee::testing::ChildProcess server({OEE_BINARY, "serve", "--demo", "--history-hours", "1", "--data-dir", (dir / "data").string(),
                                       "--listen", "127.0.0.1:0"},
                                      (dir / "serve.log").string());
    ASSERT_NE(start_server(server), 0);
    oee::testing::run_oee("backup --data-dir " + (dir / "data").string() + " --out " + (dir / "backup").string());
    // A backup never lands on an existing directory.
    EXPECT_NE(oee::testing::run_oee("backup --data-dir " + (dir / "data").string() + " --out " + (dir / "backup").string(), 2)
                  .find("exists"), std::string::npos);
    EXPECT_EQ(server.kill(SIGTERM), 0);
  }
  // Restoring into a directory that holds something is refused, and leaves it as it was.
  fs::create_directories(dir / "busy");
  std::ofstream(dir / "busy" / "keep") << "x";
  EXPECT_NE(oee::testing::run_oee("restore --from " + (dir / "backup").string() + " --data-dir " + (dir / "busy").string(), 2)
                .find("not empty"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "busy" / "keep"));

  // One byte flipped in the store's copy, the same size.
  {
    std::fstream f(dir / "backup" / "oee.sqlite", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(8192);
    const char c = static_cast<char>(f.get());
    f.seekp(8192);
    f.put(static_cast<char>(c ^ 0x5a));
  }
  const std::string refused = oee::testing::run_oee("restore --from " + (dir / "backup").string() + " --data-dir " + (dir / "new").string(), 2);
  EXPECT_NE(refused.find("oee.sqlite does not match its SHA-256"), std::string::npos) << refused;
  EXPECT_FALSE(fs::exists(dir / "new"));
  // A backup without its manifest (one cut short before the rename would not even be there).
  fs::remove(dir / "backup" / "manifest.txt");
  EXPECT_NE(oee::testing::run_oee("restore --from " + (dir / "backup").string() + " --data-dir " + (dir / "new").string(), 2)
                .find("no manifest"), std::string::npos);
  fs::remove_all(dir);
}

TEST(ServeBackup, ContinuousBackupsRunAtTheIntervalAndKeepTheNewest) {
  const fs::path dir = fresh_dir("serve-backup-continuous");
  oee::testing::ChildProcess server({OEE_BINARY, "serve", "--demo", "--history-hours", "1", "--data-dir", (dir / "data").string(),
                                     "--listen", "127.0.0.1:0", "--backup-dir", (dir / "backups").string(),
                                     "--backup-interval-s", "1", "--backup-keep", "2"},
                                    (dir / "serve.log").string());
  const std::uint16_t port = start_server(server);
  ASSERT_TRUE(oee::testing::eventually([&] { return metric(port, "oee_backups_total") >= 3; }, 60s)) << server.output();
  EXPECT_GT(metric(port, "oee_backup_last_size_bytes"), 0);
  EXPECT_GT(metric(port, "oee_backup_last_timestamp_seconds"), 0);
  EXPECT_EQ(metric(port, "oee_backup_failures_total"), 0);
  EXPECT_EQ(server.kill(SIGTERM), 0);

  const auto kept = whole_backups(dir / "backups");
  ASSERT_EQ(kept.size(), 2u) << server.output();
  const auto older = oee::storage::read_backup_manifest(kept[0] / "manifest.txt");
  const auto newer = oee::storage::read_backup_manifest(kept[1] / "manifest.txt");
  EXPECT_GE(newer.created - older.created, 1000) << "--backup-interval-s 1 waits a second between backups";
  oee::testing::run_oee("restore --verify-only --from " + kept[1].string());
  EXPECT_NE(server.output().find("backup removed"), std::string::npos);
  fs::remove_all(dir);
}

TEST(ServeBackup, AFailedContinuousBackupIsCountedAndBadFlagsAreRefused) {
  const fs::path dir = fresh_dir("serve-backup-failing");
  std::ofstream(dir / "not-a-directory") << "x";
  oee::testing::ChildProcess server({OEE_BINARY, "serve", "--demo", "--history-hours", "0", "--data-dir", (dir / "data").string(),
                                     "--listen", "127.0.0.1:0", "--backup-dir", (dir / "not-a-directory").string(),
                                     "--backup-interval-s", "1"},
                                    (dir / "serve.log").string());
  const std::uint16_t port = start_server(server);
  ASSERT_TRUE(oee::testing::eventually([&] { return metric(port, "oee_backup_failures_total") >= 1; }, 30s)) << server.output();
  EXPECT_EQ(metric(port, "oee_backups_total"), 0);
  EXPECT_EQ(server.kill(SIGTERM), 0);
  EXPECT_NE(server.output().find("backup failed"), std::string::npos);

  EXPECT_NE(oee::testing::run_oee("serve --demo --data-dir " + (dir / "d").string() + " --backup-dir " + (dir / "b").string() +
                                  " --backup-interval-s 0", 2).find("--backup-interval-s"), std::string::npos);
  EXPECT_NE(oee::testing::run_oee("serve --demo --data-dir " + (dir / "d").string() + " --storage sqlite:" + (dir / "x.sqlite").string() +
                                  " --backup-dir " + (dir / "b").string(), 2).find("--backup-dir"), std::string::npos);
  fs::remove_all(dir);
}
