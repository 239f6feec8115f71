// `oee replay` as a user runs it: files on disk, the real program, its output and exit code.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

struct ProgramRun {
  int exit_code = -1;
  std::string out;
};

// Runs the oee binary with a shell command line (stderr folded into the output).
ProgramRun oee(const std::string& args) {
  const std::string command = std::string(OEE_BINARY) + " " + args + " 2>&1";
  ProgramRun r;
  FILE* p = popen(command.c_str(), "r");
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

double field(const std::string& json, const std::string& name) {
  // A number (or null) after "name": — no std::regex: g++ 12 warns inside it under the sanitizers.
  const std::string key = "\"" + name + "\":";
  const std::size_t at = json.find(key);
  if (at == std::string::npos) throw std::runtime_error("no field " + name + " in " + json);
  const std::size_t start = at + key.size();
  if (json.compare(start, 4, "null") == 0) return -1;
  std::size_t used = 0;
  const double v = std::stod(json.substr(start), &used);
  if (used == 0) throw std::runtime_error("field " + name + " is not a number in " + json);
  return v;
}

class Replay : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("oee-replay-" + std::to_string(::getpid()) + "-" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  std::filesystem::path dir_;
};

const char* kVornePlant = R"(timezone: America/Chicago
shifts:
  - name: day
    start: "06:00"
    end: "14:00"
    breaks: [{start: "08:00", end: "08:15"}, {start: "10:00", end: "10:30"}, {start: "12:00", end: "12:15"}]
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [{id: press, ideal_cycle_time_s: 1.0, states: {"1": running, "2": stopped}}]}]}]}]
)";

}  // namespace

// The oee.com / Vorne worked example: 480-minute shift, 60 minutes of breaks, 47 minutes down,
// 1.0 s ideal cycle, 19,271 parts of which 423 rejects.
TEST_F(Replay, OeeComWorkedExample) {
  const std::string plant = write("plant.yaml", kVornePlant);
  const std::string events = write("events.jsonl",
      R"({"ts":"2026-11-10T06:00:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"1","src":"plc","seq":1}
{"ts":"2026-11-10T09:00:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"2","reason":"die change","src":"plc","seq":2}
{"ts":"2026-11-10T09:47:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"1","src":"plc","seq":3}
{"ts":"2026-11-10T11:00:00-06:00","machine":"s1/a1/l1/press","type":"count","good":10000,"reject":200,"src":"plc","seq":4}
{"ts":"2026-11-10T13:59:00-06:00","machine":"s1/a1/l1/press","type":"count","good":8848,"reject":223,"src":"plc","seq":5}
{"ts":"2026-11-10T13:59:00-06:00","machine":"s1/a1/l1/press","type":"count","good":8848,"reject":223,"src":"plc","seq":5}
)");
  const ProgramRun r = oee("replay --plant " + plant + " --events " + events +
                    " --from 2026-11-10T06:00:00-06:00 --to 2026-11-10T14:00:00-06:00");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NEAR(field(r.out, "availability"), 0.8881, 5e-5) << r.out;
  EXPECT_NEAR(field(r.out, "performance"), 0.8611, 5e-5);
  EXPECT_NEAR(field(r.out, "quality"), 0.9780, 5e-5);
  EXPECT_NEAR(field(r.out, "oee"), 0.7479, 5e-5);
  EXPECT_EQ(field(r.out, "planned_production_time_s"), 420 * 60);
  EXPECT_EQ(field(r.out, "run_time_s"), 373 * 60);
  EXPECT_EQ(field(r.out, "downtime_s"), 47 * 60);
  EXPECT_EQ(field(r.out, "unknown_time_s"), 0);
  EXPECT_EQ(field(r.out, "total_count"), 19271);  // the duplicate (same src+seq) counted once
  EXPECT_EQ(field(r.out, "good_count"), 18848);
  EXPECT_EQ(field(r.out, "reject_count"), 423);
  EXPECT_EQ(field(r.out, "ideal_time_s"), 19271);
  EXPECT_EQ(field(r.out, "breakdowns"), 47 * 60);
  EXPECT_NE(r.out.find("\"from\":\"2026-11-10T06:00:00-06:00\""), std::string::npos) << r.out;

  const ProgramRun by_hour = oee("replay --plant " + plant + " --events " + events +
                          " --from 2026-11-10T06:00:00-06:00 --to 2026-11-10T14:00:00-06:00 --by hour --node s1/a1/l1");
  ASSERT_EQ(by_hour.exit_code, 0) << by_hour.out;
  EXPECT_EQ(std::count(by_hour.out.begin(), by_hour.out.end(), '\n'), 10) << by_hour.out;  // [ + 8 rows + ]
  const ProgramRun by_shift = oee("replay --plant " + plant + " --events " + events +
                           " --from 2026-11-10T00:00:00-06:00 --to 2026-11-11T00:00:00-06:00 --by shift");
  ASSERT_EQ(by_shift.exit_code, 0) << by_shift.out;
  EXPECT_NE(by_shift.out.find("\"shift\":\"day\""), std::string::npos);
  EXPECT_NEAR(field(by_shift.out, "oee"), 0.7479, 5e-5);
  const ProgramRun table = oee("replay --plant " + plant + " --events " + events +
                        " --from 2026-11-10T06:00:00-06:00 --to 2026-11-10T14:00:00-06:00 --format table");
  ASSERT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("74.8%"), std::string::npos) << table.out;
}

TEST_F(Replay, BadInputExitsWithTwoAndSaysWhy) {
  const std::string plant = write("plant.yaml", kVornePlant);
  const std::string events = write("events.jsonl", R"({"ts":"2026-11-10T06:00:00Z","machine":"s1/a1/l1/press","type":"state","state":"1"}
{"ts":"2026-11-10T06:00:00Z","machine":"s1/a1/l1/press","type":"count","good":"ten"}
)");
  ProgramRun r = oee("replay --plant " + plant + " --events " + events + " --from 2026-11-10T00:00:00Z --to 2026-11-11T00:00:00Z");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("events.jsonl:2: field 'good': must be an integer"), std::string::npos) << r.out;

  const std::string unknown = write("unknown.jsonl", R"({"ts":"2026-11-10T06:00:00Z","machine":"s1/a1/l1/nope","type":"state","state":"1"})");
  r = oee("replay --plant " + plant + " --events " + unknown + " --from 2026-11-10T00:00:00Z --to 2026-11-11T00:00:00Z");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("unknown machine 's1/a1/l1/nope'"), std::string::npos) << r.out;

  r = oee("replay --plant " + plant + " --events " + events + " --from yesterday --to 2026-11-11T00:00:00Z");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--from: 'yesterday' is not an RFC 3339 timestamp"), std::string::npos) << r.out;

  const std::string bad_plant = write("bad.yaml", "timezone: UTC\nsites: [{id: s}]\n");
  r = oee("replay --plant " + bad_plant + " --events " + events + " --from 2026-11-10T00:00:00Z --to 2026-11-11T00:00:00Z");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("bad.yaml:2: sites[0]: missing 'areas'"), std::string::npos) << r.out;

  r = oee("replay --plant " + plant + " --events " + events + " --from 2026-11-10T00:00:00Z --to 2026-11-11T00:00:00Z --by week");
  EXPECT_EQ(r.exit_code, 2);
  r = oee("replay --plant " + plant + " --events " + events + " --from 2026-11-10T00:00:00Z --to 2026-11-11T00:00:00Z --node s9");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("'s9' is not a node"), std::string::npos) << r.out;
  EXPECT_EQ(oee("replay --help").exit_code, 0);
  EXPECT_EQ(oee("frobnicate").exit_code, 2);
}

TEST_F(Replay, CheckPlant) {
  const ProgramRun ok = oee("check-plant " + write("plant.yaml", kVornePlant));
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_NE(ok.out.find("1 machine(s), 1 shift(s), time zone America/Chicago"), std::string::npos) << ok.out;
  const ProgramRun bad = oee("check-plant " + write("bad.yaml", "timezone: Europe/Nowhere\nsites: []\n"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("bad.yaml:1: timezone: unknown time zone 'Europe/Nowhere'"), std::string::npos) << bad.out;
}

// The worked example of docs/oee-model.md ("Sites in their own time zones") from a plant file: Tokyo's
// days are its own (from 15:00 UTC), the plant's are UTC days summing both sites' shifts.
TEST_F(Replay, SitesInTheirOwnTimeZones) {
  const std::string plant = write("plant.yaml", R"(timezone: UTC
shifts: [{name: day, start: "08:00", end: "16:00"}]
sites:
  - {id: berlin, timezone: Europe/Berlin, areas: [{id: a, lines: [{id: l, machines: [{id: press, ideal_cycle_time_s: 1}]}]}]}
  - {id: tokyo, timezone: Asia/Tokyo, areas: [{id: a, lines: [{id: l, machines: [{id: press, ideal_cycle_time_s: 1}]}]}]}
)");
  const std::string events = write("events.jsonl",
      R"({"ts":"2026-11-09T00:00:00Z","machine":"berlin/a/l/press","type":"state","state":"running","src":"plc","seq":1}
{"ts":"2026-11-09T00:00:00Z","machine":"tokyo/a/l/press","type":"state","state":"running","src":"plc","seq":2}
)");
  const std::string window = " --from 2026-11-10T00:00:00Z --to 2026-11-11T00:00:00Z --as-of 2026-11-12T00:00:00Z --by day";
  const ProgramRun tokyo = oee("replay --plant " + plant + " --events " + events + " --node tokyo" + window);
  ASSERT_EQ(tokyo.exit_code, 0) << tokyo.out;
  const std::size_t second = tokyo.out.find("\"from\":\"2026-11-11T00:00:00+09:00\"");
  ASSERT_NE(second, std::string::npos) << tokyo.out;
  EXPECT_EQ(field(tokyo.out, "planned_production_time_s"), 7 * 3600) << tokyo.out;  // 00:00Z-15:00Z
  EXPECT_EQ(field(tokyo.out.substr(second), "planned_production_time_s"), 3600) << tokyo.out;
  const ProgramRun all = oee("replay --plant " + plant + " --events " + events + window);
  ASSERT_EQ(all.exit_code, 0) << all.out;
  EXPECT_EQ(field(all.out, "planned_production_time_s"), 16 * 3600) << all.out;
  EXPECT_NE(all.out.find("\"from\":\"2026-11-10T00:00:00"), std::string::npos) << all.out;
  EXPECT_EQ(all.out.find("\"from\"", all.out.find("\"from\"") + 1), std::string::npos) << "one UTC day: " << all.out;
}

// check-plant lists the crews, holidays, downtime windows and own schedules it read.
TEST_F(Replay, CheckPlantSummarisesCrewsHolidaysDowntimeAndOwnSchedules) {
  const ProgramRun r = oee("check-plant " + write("plant.yaml", R"(timezone: Europe/Berlin
shifts: [{name: day, start: "07:00", end: "19:00"}, {name: night, start: "19:00", end: "07:00"}]
holidays: [2026-12-25, {from: 2026-12-28, to: 2026-12-31, name: Year end}, {yearly: last mon of may}]
rotation:
  start: 2026-11-02
  pattern: [{shift: day, days: 2}, {shift: night, days: 2}, {off: 4}]
  crews: [{name: A}, {name: B, offset_days: 2}, {name: C, offset_days: 4}, {name: D, offset_days: 6}]
sites:
  - {id: s1, areas: [{id: a1, lines: [{id: l1, machines: [{id: press, ideal_cycle_time_s: 1.0}]}]}]}
  - id: s2
    timezone: Asia/Tokyo
    areas: [{id: a1, lines: [{id: l1, shifts: [{name: early, start: "06:00", end: "14:00"}],
                              machines: [{id: press, ideal_cycle_time_s: 1.0}]}]}]
downtime:
  - {name: PM, target: s1/a1/l1, start: "2026-11-10 06:00", end: "2026-11-10 10:30"}
  - {name: cleaning, target: s2/a1/l1/press, start: "22:00", end: "23:00", days: [fri, sat]}
)"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* line : {"crews: 4 on a 8-day rotation from 2026-11-02: A (+0 d) B (+2 d) C (+4 d) D (+6 d)\n",
                           "holidays: 3: 2026-12-25; 2026-12-28 to 2026-12-31 (Year end); yearly last mon of month 5\n",
                           "downtime windows: 2 (local times of the target's site)\n",
                           "  PM on s1/a1/l1: once 2026-11-10 06:00 to 2026-11-10 10:30\n",
                           "  cleaning on s2/a1/l1/press: every fri,sat 22:00-23:00\n",
                           "  site s2: time zone Asia/Tokyo, 2 shift(s)\n",
                           "  line s2/a1/l1: 1 shift(s) of its own\n"})
    EXPECT_NE(r.out.find(line), std::string::npos) << line << " in " << r.out;
  const ProgramRun bad = oee("check-plant " + write("bad.yaml", R"(sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [{id: m, ideal_cycle_time_s: 1}]}]}]}]
downtime: [{name: PM, target: s1/a1/l2, start: "06:00", end: "07:00"}]
)"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("bad.yaml:2: downtime[0].target: 's1/a1/l2' is not a line or machine"), std::string::npos) << bad.out;
}

// KPIs by crew over a DuPont rotation's 28 days (hand-computed): each crew works 14 twelve-hour
// shifts less a 30-minute break, 161 h planned; crew A loses 2 h in its first night.
TEST_F(Replay, ByCrewOverADuPontRotation) {
  const std::string plant = write("plant.yaml", R"(shifts:
  - {name: day, start: "07:00", end: "19:00", breaks: [{start: "12:00", end: "12:30"}]}
  - {name: night, start: "19:00", end: "07:00", breaks: [{start: "00:00", end: "00:30"}]}
rotation:
  start: 2026-11-02
  pattern: [{shift: night, days: 4}, {off: 3}, {shift: day, days: 3}, {off: 1}, {shift: night, days: 3}, {off: 3},
            {shift: day, days: 4}, {off: 7}]
  crews: [{name: A}, {name: B, offset_days: 7}, {name: C, offset_days: 14}, {name: D, offset_days: 21}]
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [{id: press, ideal_cycle_time_s: 1.0}]}]}]}]
)");
  const std::string events = write("events.jsonl",
      R"({"ts":"2026-11-02T00:00:00Z","machine":"s1/a1/l1/press","type":"state","state":"running","src":"plc","seq":1}
{"ts":"2026-11-02T20:00:00Z","machine":"s1/a1/l1/press","type":"state","state":"stopped","src":"plc","seq":2}
{"ts":"2026-11-02T22:00:00Z","machine":"s1/a1/l1/press","type":"state","state":"running","src":"plc","seq":3}
)");
  const ProgramRun r = oee("replay --plant " + plant + " --events " + events +
                           " --from 2026-11-02T07:00:00Z --to 2026-11-30T07:00:00Z --by crew");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::size_t at = 0;
  for (const char* crew : {"A", "B", "C", "D"}) {
    at = r.out.find(std::string("\"crew\":\"") + crew + "\"", at);
    ASSERT_NE(at, std::string::npos) << crew << " in " << r.out;
    const std::string row = r.out.substr(at, r.out.find('}', at) - at);
    EXPECT_DOUBLE_EQ(field(row, "planned_production_time_s"), 161 * 3600.0) << crew;
    EXPECT_DOUBLE_EQ(field(row, "downtime_s"), crew == std::string("A") ? 2 * 3600.0 : 0.0) << crew;
  }
  EXPECT_EQ(r.out.find("\"shift\""), std::string::npos) << r.out;  // a crew's row spans its shifts

  const ProgramRun no_rotation = oee("replay --plant " + write("plain.yaml", kVornePlant) + " --events " + events +
                                     " --from 2026-11-02T07:00:00Z --to 2026-11-03T07:00:00Z --by crew");
  EXPECT_EQ(no_rotation.exit_code, 2);
  EXPECT_NE(no_rotation.out.find("--by crew: "), std::string::npos) << no_rotation.out;
  EXPECT_NE(no_rotation.out.find("has no rotation (crews)"), std::string::npos) << no_rotation.out;
}

// `--by run`: two work orders on the press, by hand. WO-1 (50 parts) reaches its quantity at 06:00:30
// and ends at 06:00:40; WO-2 (100 parts) starts at 06:00:45, its first good parts at 06:01:00 (the
// changeover: 30 s after WO-1's last good part), 30 good by 06:01:45, so the 70 left take 140 s.
TEST_F(Replay, ByRunReportsTargetExpectedFinishAndChangeover) {
  const std::string plant = write("plant.yaml", kVornePlant);
  const std::string events = write("events.jsonl",
      R"({"ts":"2026-11-10T12:00:00Z","machine":"s1/a1/l1/press","type":"state","state":"1"}
{"ts":"2026-11-10T12:00:00Z","machine":"s1/a1/l1/press","type":"run","action":"start","run":"WO-1","product":"cap-red","quantity":50}
{"ts":"2026-11-10T12:00:10Z","machine":"s1/a1/l1/press","type":"count","good":20}
{"ts":"2026-11-10T12:00:20Z","machine":"s1/a1/l1/press","type":"count","good":20,"reject":2}
{"ts":"2026-11-10T12:00:30Z","machine":"s1/a1/l1/press","type":"count","good":10}
{"ts":"2026-11-10T12:00:40Z","machine":"s1/a1/l1/press","type":"run","action":"end","run":"WO-1"}
{"ts":"2026-11-10T12:00:45Z","machine":"s1/a1/l1/press","type":"run","action":"start","run":"WO-2","product":"cap-blue","quantity":100,"ideal_cycle_s":0.8}
{"ts":"2026-11-10T12:01:00Z","machine":"s1/a1/l1/press","type":"count","good":10}
{"ts":"2026-11-10T12:01:30Z","machine":"s1/a1/l1/press","type":"count","good":20}
)");
  const ProgramRun r = oee("replay --plant " + plant + " --events " + events +
                           " --from 2026-11-10T12:00:00Z --to 2026-11-10T12:01:45Z --node s1/a1/l1/press --by run");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::size_t second = r.out.find("\"run\":\"WO-2\"");
  ASSERT_NE(second, std::string::npos) << r.out;
  const std::string wo1 = r.out.substr(0, second), wo2 = r.out.substr(second);
  EXPECT_EQ(field(wo1, "quantity"), 50);
  EXPECT_EQ(field(wo1, "good_count"), 50);
  EXPECT_EQ(field(wo1, "reject_count"), 2);
  EXPECT_EQ(field(wo1, "remaining"), 0);
  EXPECT_EQ(field(wo1, "run_time_s"), 40);
  EXPECT_NE(wo1.find("\"expected_finish\":\"2026-11-10T06:00:30-06:00\""), std::string::npos) << wo1;
  EXPECT_EQ(field(wo1, "changeover_s"), -1);  // null: no run before it
  EXPECT_EQ(field(wo2, "ideal_cycle_s"), 0.8);
  EXPECT_EQ(field(wo2, "good_count"), 30);
  EXPECT_EQ(field(wo2, "remaining"), 70);
  EXPECT_EQ(field(wo2, "run_time_s"), 60);
  EXPECT_NE(wo2.find("\"end\":null"), std::string::npos) << wo2;
  EXPECT_NE(wo2.find("\"expected_finish\":\"2026-11-10T06:04:05-06:00\""), std::string::npos) << wo2;
  EXPECT_EQ(field(wo2, "changeover_s"), 30);
  // A window that ends before WO-2 starts holds WO-1 only, even reported as of a later instant.
  const ProgramRun first = oee("replay --plant " + plant + " --events " + events + " --from 2026-11-10T12:00:00Z"
                               " --to 2026-11-10T12:00:45Z --as-of 2026-11-10T12:01:45Z --node s1/a1/l1/press --by run");
  ASSERT_EQ(first.exit_code, 0) << first.out;
  EXPECT_NE(first.out.find("\"run\":\"WO-1\""), std::string::npos) << first.out;
  EXPECT_EQ(first.out.find("\"run\":\"WO-2\""), std::string::npos) << first.out;

  // A run event without its quantity is bad input, with the line and the field.
  const std::string bad = write("bad.jsonl",
      R"({"ts":"2026-11-10T12:00:00Z","machine":"s1/a1/l1/press","type":"run","action":"start","run":"WO-1","product":"p"})"
      "\n");
  const ProgramRun b = oee("replay --plant " + plant + " --events " + bad +
                           " --from 2026-11-10T12:00:00Z --to 2026-11-10T13:00:00Z --node s1/a1/l1/press --by run");
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.out.find("bad.jsonl:1: field 'quantity': missing"), std::string::npos) << b.out;
  // --by run reports a machine's runs: a line is refused with the reason.
  const ProgramRun l = oee("replay --plant " + plant + " --events " + events +
                           " --from 2026-11-10T12:00:00Z --to 2026-11-10T13:00:00Z --node s1/a1/l1 --by run");
  EXPECT_EQ(l.exit_code, 2);
  EXPECT_NE(l.out.find("--node must be a machine"), std::string::npos) << l.out;
}

// docs/oee-model.md's worked example of a line in constraint mode, from its files in examples/.
TEST_F(Replay, ConstraintLineWorkedExample) {
  const std::string files = std::string(OEE_CONSTRAINT_LINE_DIR) + "/";
  const std::string args = "replay --plant " + files + "plant.yaml --events " + files +
                           "events.jsonl --from 2026-11-10T06:00:00Z --to 2026-11-10T07:00:00Z --node s1/a1/l1";
  const ProgramRun r = oee(args);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NEAR(field(r.out, "availability"), 3000.0 / 3600.0, 1e-9) << r.out;  // the capper's
  EXPECT_NEAR(field(r.out, "performance"), 1380 * 2.0 / 3000.0, 1e-9);        // the packer's parts at 2 s
  EXPECT_NEAR(field(r.out, "quality"), 1350.0 / 1380.0, 1e-9);                // the packer's
  EXPECT_NEAR(field(r.out, "oee"), 0.75, 1e-9);
  EXPECT_EQ(field(r.out, "good_count"), 1350);

  // The line's 300 s starved and 120 s blocked, blamed on the filler (upstream, down first) and the
  // packer (downstream).
  const ProgramRun c = oee(args + " --by cause");
  ASSERT_EQ(c.exit_code, 0) << c.out;
  EXPECT_EQ(c.out,
            "[{\"machine\":\"s1/a1/l1/filler\",\"constraint_state\":\"starved\",\"loss_s\":300,\"stops\":1},"
            "{\"machine\":\"s1/a1/l1/packer\",\"constraint_state\":\"blocked\",\"loss_s\":120,\"stops\":1}]\n");

  const ProgramRun m = oee(args + "/capper --by cause");
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_NE(m.out.find("--by cause: --node must be a line in kpi mode constraint"), std::string::npos) << m.out;
}
