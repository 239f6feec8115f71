// `oee edge --encryption-key-file`: the flag reaches the durable queue (its segments are created
// sealed, magic OEEQENC1), a bad key file stops the edge with the reason, and a sealed queue does
// not open without its key.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "demo_crash_scenario.h"

namespace {

std::string segment_magic(const std::filesystem::path& queue_dir) {
  for (const auto& e : std::filesystem::directory_iterator(queue_dir))
    if (e.path().extension() == ".log") {
      std::ifstream in(e.path(), std::ios::binary);
      char magic[8] = {};
      in.read(magic, sizeof magic);
      return std::string(magic, sizeof magic);
    }
  return "";
}

}  // namespace

TEST(EdgeEncryptionKey, TheFlagSealsTheQueueAndABadKeyIsRefused) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee-edge-key-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "edge.yaml") << "id: e1\ndata_dir: data\nmqtt: {brokers: [\"mqtt://127.0.0.1:1\"]}\nplant: "
                                   << OEE_DEMO_PLANT_FILE << "\nsources:\n  - {type: simulator, seed: 1}\n";
  const auto key = dir / "rest.key";
  std::ofstream(key) << "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
  ::chmod(key.c_str(), 0600);
  ::unsetenv("OEE_ENCRYPTION_KEY");
  const std::string edge = "edge --check --config " + (dir / "edge.yaml").string();

  oee::testing::run_oee(edge + " --encryption-key-file " + key.string());
  EXPECT_EQ(segment_magic(dir / "data" / "queue"), "OEEQENC1");

  ::chmod(key.c_str(), 0640);
  EXPECT_NE(oee::testing::run_oee(edge + " --encryption-key-file " + key.string(), 2).find("chmod 600"), std::string::npos);

  std::filesystem::remove_all(dir / "data");
  oee::testing::run_oee(edge);
  EXPECT_EQ(segment_magic(dir / "data" / "queue"), "OEEQLOG1");
  std::filesystem::remove_all(dir);
}
