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

#include "oee/core/time.h"
#include "stopped_feed.h"

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

  // The figure `name` of `oee replay`'s JSON in out_.
  double number(const std::string& name) const {
    const auto at = out_.find("\"" + name + "\":");
    if (at == std::string::npos) throw std::runtime_error("no " + name + " in " + out_);
    return std::stod(out_.substr(at + name.size() + 3));
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
  EXPECT_EQ(number("unknown_time_s"), 0);
  EXPECT_EQ(number("planned_production_time_s"), 12 * 3 * 3600);
  EXPECT_GT(number("availability"), 0.5);
  EXPECT_LT(number("availability"), 1.0);
  EXPECT_GT(number("performance"), 0.5);
  EXPECT_LT(number("performance"), 1.0);
  EXPECT_GT(number("reject_count"), 0);
  EXPECT_GT(number("quality"), 0.9);
}

// The demo plant sets no_data_after_s 60 on every machine and `oee simulate` sends a heartbeat
// every 10 s, as `oee serve --demo` and the edge do: a simulated Berlin day has no no-data time
// (the crash test of `oee serve --demo` shows the server's KPIs equal this replay); a stopped feed
// has exactly its silence of it, and without heartbeats the quiet stretches would be no data.
TEST_F(Simulate, ADemoDayHasNoDataOnlyWhereTheFeedStopped) {
  const std::string day = " --from 2026-03-01T23:00:00Z --to 2026-03-02T23:00:00Z";
  ASSERT_EQ(run("simulate --plant " + kPlant + day + " --out " + path("day.jsonl")), 0) << err_;
  ASSERT_EQ(run("replay --plant " + kPlant + " --events " + path("day.jsonl") + day), 0) << out_ << err_;
  EXPECT_EQ(number("no_data_s"), 0);
  EXPECT_EQ(number("unknown_time_s"), 0);
  const double downtime_s = number("downtime_s");
  EXPECT_GT(downtime_s, 0);

  const oee::TimeMs stop = *oee::parse_timestamp("2026-03-02T10:00:03.456Z");
  const oee::DurationMs silence = oee::testing::stop_feed(path("day.jsonl"), path("stopped.jsonl"), stop, stop + 5 * oee::kMsPerMinute);
  EXPECT_GE(silence, 12 * 5 * oee::kMsPerMinute);
  ASSERT_EQ(run("replay --plant " + kPlant + " --events " + path("stopped.jsonl") + day), 0) << out_ << err_;
  EXPECT_EQ(number("no_data_s"), static_cast<double>(silence) / 1000.0);
  // 40 s stopped: with a heartbeat every 10 s either side, every silence stays within 60 s.
  oee::testing::stop_feed(path("day.jsonl"), path("short.jsonl"), stop, stop + 40 * oee::kMsPerSecond);
  ASSERT_EQ(run("replay --plant " + kPlant + " --events " + path("short.jsonl") + day), 0) << out_ << err_;
  EXPECT_EQ(number("no_data_s"), 0);

  ASSERT_EQ(run("simulate --plant " + kPlant + day + " --heartbeat-s 0 --out " + path("silent.jsonl")), 0) << err_;
  ASSERT_EQ(run("replay --plant " + kPlant + " --events " + path("silent.jsonl") + day), 0) << out_ << err_;
  EXPECT_GT(number("no_data_s"), 0.9 * downtime_s) << "long stops and breaks send nothing without heartbeats";
}

// Each machine plans by its own calendar: on Tuesday 2026-03-03 (UTC) line l1 runs the plant's early
// shift less its 09:00-11:00 window (6 h), line l2 its own nights (00:00-06:00 and 22:00-24:00: 8 h),
// and Tokyo the plant's early shift in its own zone (06:00-14:00 JST = 21:00-05:00Z: 8 h). `oee replay`
// of what `oee simulate` wrote finds exactly that planned time and nothing running out of it.
TEST_F(Simulate, EachMachineFollowsItsOwnSchedule) {
  std::ofstream(path("plant.yaml")) << R"(timezone: UTC
shifts:
  - {name: early, start: "06:00", end: "14:00"}
sites:
  - id: s
    areas:
      - id: a
        lines:
          - id: l1
            machines: [{id: m1, ideal_cycle_time_s: 1, micro_stop_threshold_s: 60}]
          - id: l2
            shifts: [{name: night, start: "22:00", end: "06:00"}]
            machines: [{id: m2, ideal_cycle_time_s: 1, micro_stop_threshold_s: 60}]
  - id: tokyo
    timezone: Asia/Tokyo
    areas:
      - id: a
        lines:
          - id: l
            machines: [{id: m3, ideal_cycle_time_s: 1, micro_stop_threshold_s: 60}]
downtime:
  - {name: PM, target: s/a/l1, start: "2026-03-03 09:00", end: "2026-03-03 11:00"}
)";
  const std::string day = " --from 2026-03-03T00:00:00Z --to 2026-03-04T00:00:00Z";
  ASSERT_EQ(run("simulate --plant " + path("plant.yaml") + day + " --out " + path("day.jsonl")), 0) << err_;
  const std::string events = slurp(path("day.jsonl"));
  EXPECT_NE(events.find(R"("state":"planned_stop","reason":"PM")"), std::string::npos) << "the stop for the window";
  ASSERT_EQ(run("replay --plant " + path("plant.yaml") + " --events " + path("day.jsonl") + day), 0) << out_ << err_;
  EXPECT_EQ(number("planned_production_time_s"), (6 + 8 + 8) * 3600);
  EXPECT_EQ(number("unscheduled_running_s"), 0);
  EXPECT_EQ(number("unknown_time_s"), 0);
  EXPECT_GT(number("good_count"), 0);
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
  EXPECT_EQ(run("simulate --plant " + kPlant + kWindow + " --heartbeat-s -1 --out -"), 2);
  EXPECT_NE(err_.find("--heartbeat-s"), std::string::npos) << err_;
  EXPECT_EQ(run("simulate --plant " + kPlant + kWindow), 2);  // --out is required
  EXPECT_EQ(run("simulate --help"), 0);
  EXPECT_NE(out_.find("--seed"), std::string::npos);
}

}  // namespace
