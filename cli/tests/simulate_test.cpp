// `oee simulate` as a user runs it: the real program on the demo plant, its files, exit codes, and
// `oee replay` reading what it wrote.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

class Simulate : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("oee-simulate-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string slurp(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Runs `oee ARGS` with stdout and stderr kept apart (stdout may be the event stream).
  int run(const std::string& args) {
    const std::string command = std::string(OEE_BINARY) + " " + args + " >" + path("stdout") + " 2>" + path("stderr");
    const int status = std::system(command.c_str());
    out_ = slurp(path("stdout"));
    err_ = slurp(path("stderr"));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::filesystem::path dir_;
  std::string out_, err_;
};

const std::string kPlant = OEE_DEMO_PLANT_FILE;
const std::string kWindow = " --from 2026-03-02T05:00:00+01:00 --to 2026-03-02T09:00:00+01:00";

TEST_F(Simulate, SameSeedGivesTheSameFileAndAnotherSeedAnotherOne) {
  ASSERT_EQ(run("simulate --plant " + kPlant + kWindow + " --seed 5 --out " + path("a.jsonl")), 0) << err_;
  EXPECT_NE(err_.find("12 machines"), std::string::npos) << err_;
  ASSERT_EQ(run("simulate --plant " + kPlant + kWindow + " --seed 5 --out " + path("b.jsonl")), 0) << err_;
  ASSERT_EQ(run("simulate --plant " + kPlant + kWindow + " --seed 6 --out " + path("c.jsonl")), 0) << err_;
  const std::string a = slurp(path("a.jsonl"));
  EXPECT_GT(std::count(a.begin(), a.end(), '\n'), 10'000);
  EXPECT_EQ(a, slurp(path("b.jsonl")));
  EXPECT_NE(a, slurp(path("c.jsonl")));
}

TEST_F(Simulate, DashWritesTheSameEventsToStdout) {
  ASSERT_EQ(run("simulate --plant " + kPlant + kWindow + " --out " + path("a.jsonl")), 0) << err_;
  ASSERT_EQ(run("simulate --plant " + kPlant + kWindow + " --out -"), 0) << err_;
  EXPECT_EQ(out_, slurp(path("a.jsonl")));
}

TEST_F(Simulate, ReplayReadsTheEventsAndFindsAPlausiblePlant) {
  ASSERT_EQ(run("simulate --plant " + kPlant + kWindow + " --out " + path("events.jsonl")), 0) << err_;
  // 06:00-09:00 Berlin: the early shift up to its first break; the machines run all of it.
  ASSERT_EQ(run("replay --plant " + kPlant + " --events " + path("events.jsonl") +
                " --from 2026-03-02T06:00:00+01:00 --to 2026-03-02T09:00:00+01:00"),
            0)
      << out_ << err_;
  auto number = [&](const std::string& name) {
    const auto at = out_.find("\"" + name + "\":");
    if (at == std::string::npos) throw std::runtime_error("no " + name + " in " + out_);
    return std::stod(out_.substr(at + name.size() + 3));
  };
  EXPECT_EQ(number("unknown_time_s"), 0);
  EXPECT_EQ(number("planned_production_time_s"), 12 * 3 * 3600);
  EXPECT_GT(number("availability"), 0.5);
  EXPECT_LT(number("availability"), 1.0);
  EXPECT_GT(number("performance"), 0.5);
  EXPECT_LT(number("performance"), 1.0);
  EXPECT_GT(number("reject_count"), 0);
  EXPECT_GT(number("quality"), 0.9);
}

TEST_F(Simulate, BadInputExitsTwoWithAReason) {
  EXPECT_EQ(run("simulate --plant " + kPlant + " --from yesterday --to 2026-03-02T09:00:00Z --out -"), 2);
  EXPECT_NE(err_.find("--from"), std::string::npos) << err_;
  EXPECT_EQ(run("simulate --plant " + kPlant + " --from 2026-03-02T09:00:00Z --to 2026-03-02T09:00:00Z --out -"), 2);
  EXPECT_NE(err_.find("after"), std::string::npos) << err_;
  EXPECT_EQ(run("simulate --plant " + path("missing.yaml") + kWindow + " --out -"), 2);
  EXPECT_NE(err_.find("missing.yaml"), std::string::npos) << err_;
  EXPECT_EQ(run("simulate --plant " + kPlant + kWindow + " --out " + path("no/such/dir/x.jsonl")), 2);
  EXPECT_NE(err_.find("cannot open"), std::string::npos) << err_;
  EXPECT_EQ(run("simulate --plant " + kPlant + kWindow), 2);  // --out is required
  EXPECT_EQ(run("simulate --help"), 0);
  EXPECT_NE(out_.find("--seed"), std::string::npos);
}

}  // namespace
