// `oee sparkplug decode` on payloads Eclipse Tahu's encoder wrote (the fuzz seeds) and on bytes that
// are no payload; `oee serve`'s Sparkplug flags refused when they cannot work.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "oee_command.h"

namespace {

using oee::testing::run_oee;

TEST(SparkplugCommand, DecodesACapturedPayloadAsJson) {
  std::string out;
  ASSERT_EQ(run_oee("sparkplug decode " + std::string(OEE_SPARKPLUG_SEEDS) + "/dbirth.pb", out), 0) << out;
  EXPECT_NE(out.find(R"("seq":1)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"name":"Counts/Total","alias":2,"datatype":"Int64","value":1200})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("datatype":"Int8","value":-23)"), std::string::npos) << out;
  ASSERT_EQ(run_oee("sparkplug decode - < " + std::string(OEE_SPARKPLUG_SEEDS) + "/ddata_alias.pb", out), 0) << out;
  EXPECT_NE(out.find(R"("is_historical":true)"), std::string::npos) << out;
}

TEST(SparkplugCommand, RefusesWhatIsNoPayloadWithTheReason) {
  const auto file = std::filesystem::temp_directory_path() / ("oee-sparkplug-garbage-" + std::to_string(::getpid()));
  std::ofstream(file, std::ios::binary) << "\xff\xff\xff";
  std::string out;
  EXPECT_EQ(run_oee("sparkplug decode " + file.string(), out), 2);
  EXPECT_NE(out.find("not a Sparkplug B payload (protobuf parse failed)"), std::string::npos) << out;
  std::filesystem::remove(file);
  EXPECT_EQ(run_oee("sparkplug decode /nonexistent/payload", out), 2);
  EXPECT_NE(out.find("cannot open /nonexistent/payload"), std::string::npos) << out;
}

TEST(SparkplugCommand, ServeRefusesSparkplugFlagsThatCannotWork) {
  std::string out;
  EXPECT_EQ(run_oee("serve --sparkplug-host-id plant-host --plant x.yaml", out), 2);
  EXPECT_NE(out.find("--sparkplug-host-id needs --mqtt"), std::string::npos) << out;
  EXPECT_EQ(run_oee("serve --mqtt mqtt://127.0.0.1:1 --sparkplug-host-id a/b --plant x.yaml", out), 2);
  EXPECT_NE(out.find("--sparkplug-host-id: 'a/b' must not hold '/', '+' or '#'"), std::string::npos) << out;
  EXPECT_EQ(run_oee("serve --mqtt mqtt://127.0.0.1:1 --sparkplug-host-id h --sparkplug-reorder-timeout-ms 5 --plant x.yaml", out), 2);
  EXPECT_NE(out.find("--sparkplug-reorder-timeout-ms"), std::string::npos) << out;
}

}  // namespace
