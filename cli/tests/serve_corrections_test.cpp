// A correction that changes history, through `oee serve` as a supervisor uses it: the oee.com /
// Vorne shift is stored and settled, then a supervisor reclassifies part of its breakdown as
// planned and adds rejects found later. /api/v1/kpis changes exactly as computed by hand, the
// corrections are listed and audited (who, why), and `oee replay` with the listed corrections
// agrees figure for figure.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "../../server/tests/http_client.h"
#include "child_process.h"
#include "demo_crash_scenario.h"
#include "oee/codec/event_json.h"
#include "oee/core/shift_calendar.h"
#include "oee/plant/plant_file.h"
#include "oee/storage/event_store.h"
#include "oee_command.h"

namespace oee::testing {
namespace {

using nlohmann::json;

const std::string kAdminToken = "serve-corrections-test-admin-token";
const std::string kShift = "from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00";

const char* const kPlant = R"(timezone: America/Chicago
shifts:
  - name: day
    start: "06:00"
    end: "14:00"
    breaks: [{start: "08:00", end: "08:15"}, {start: "10:00", end: "10:30"}, {start: "12:00", end: "12:15"}]
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [{id: press, ideal_cycle_time_s: 1.0, states: {"1": running, "2": stopped}}]}]}]}]
)";

// The worked example of oee.com / Vorne: 420 planned minutes, 47 down, 1.0 s cycle, 19,271 parts
// of which 423 rejects.
const char* const kEvents =
    R"({"ts":"2026-11-10T06:00:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"1","src":"plc","seq":1}
{"ts":"2026-11-10T09:00:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"2","reason":"die change","src":"plc","seq":2}
{"ts":"2026-11-10T09:47:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"1","src":"plc","seq":3}
{"ts":"2026-11-10T11:00:00-06:00","machine":"s1/a1/l1/press","type":"count","good":10000,"reject":200,"src":"plc","seq":4}
{"ts":"2026-11-10T13:59:00-06:00","machine":"s1/a1/l1/press","type":"count","good":8848,"reject":223,"src":"plc","seq":5}
{"ts":"2026-11-10T16:00:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"1","src":"plc","seq":6}
)";

class ServeCorrections : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("oee-corrections-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "data");
    std::ofstream(dir_ / "plant.yaml") << kPlant;
    std::ofstream(dir_ / "events.jsonl") << kEvents;
    store_events();
    ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{OEE_BINARY, "serve", "--plant", (dir_ / "plant.yaml").string(), "--data-dir",
                                 (dir_ / "data").string(), "--listen", "127.0.0.1:0"},
        (dir_ / "serve.log").string());
    ASSERT_TRUE(server_->wait_for_output("listening on", std::chrono::seconds(30))) << server_->output();
    port_ = listening_port(server_->output());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  // The events in the server's store before it starts (no route takes machine events: they come
  // over MQTT); every hour of the shift is settled.
  void store_events() {
    const plant::LoadedPlant plant = plant::load_plant_file((dir_ / "plant.yaml").string());
    const ShiftCalendar calendar(plant.model, *plant.zone);
    std::vector<Event> events;
    std::istringstream lines(kEvents);
    std::string line, why;
    while (std::getline(lines, line)) {
      Event e;
      ASSERT_TRUE(codec::parse_event(line, e, why)) << why;
      events.push_back(e);
    }
    auto store = storage::open_sqlite_store((dir_ / "data" / "oee.sqlite").string(), plant.model, calendar);
    ASSERT_EQ(store->append(events, *parse_timestamp("2026-11-10T23:00:00Z")).inserted, events.size());
  }
  HttpReply call(const std::string& method, const std::string& target, const std::string& body, const std::string& token) {
    return HttpConnection(port_).request(method, target, body, "Authorization: Bearer " + token + "\r\n");
  }
  json kpis() {
    const HttpReply r = call("GET", "/api/v1/kpis?node=s1/a1/l1/press&" + kShift, {}, kAdminToken);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }

  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> server_;
  std::uint16_t port_ = 0;
};

TEST_F(ServeCorrections, ACorrectionChangesSettledHistoryByHandIsAuditedAndReplayAgrees) {
  ASSERT_NE(port_, 0);
  json before = kpis();
  ASSERT_EQ(before["planned_production_time_s"], 420 * 60) << before;
  ASSERT_EQ(before["downtime_s"], 47 * 60) << before;
  HttpReply r = call("POST", "/api/v1/tokens", R"({"name":"shift-lead","role":"supervisor"})", kAdminToken);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string supervisor = json::parse(r.body)["token"];
  r = call("POST", "/api/v1/tokens", R"({"name":"olga","role":"operator"})", kAdminToken);
  const std::string operator_token = json::parse(r.body)["token"];

  // The first 20 minutes of the breakdown were planned cleaning; 100 good parts of 11:00 were bad.
  const std::string reclassify = R"({"machine":"s1/a1/l1/press","kind":"reclassify","at":"2026-11-10T09:00:00-06:00",)"
                                 R"("until":"2026-11-10T09:20:00-06:00","state":"planned_stop","why":"cleaning was planned"})";
  EXPECT_EQ(call("POST", "/api/v1/corrections", reclassify, operator_token).status, 403);
  r = call("POST", "/api/v1/corrections", reclassify, supervisor);
  ASSERT_EQ(r.status, 201) << r.body;
  r = call("POST", "/api/v1/corrections",
           R"({"machine":"s1/a1/l1/press","kind":"rejects","at":"2026-11-10T11:00:00-06:00","reject":100,"why":"found at inspection"})",
           supervisor);
  ASSERT_EQ(r.status, 201) << r.body;

  // By hand: planned 420 - 20 = 400 min, 373 run, 27 down; good 18,848 - 100 of 19,271;
  // OEE = good parts x ideal cycle / planned time = 18,748 s / 24,000 s.
  const json after = kpis();
  EXPECT_EQ(after["planned_production_time_s"], 400 * 60) << after;
  EXPECT_EQ(after["run_time_s"], 373 * 60);
  EXPECT_EQ(after["downtime_s"], 27 * 60);
  EXPECT_EQ(after["total_count"], 19271);
  EXPECT_EQ(after["good_count"], 18748);
  EXPECT_EQ(after["reject_count"], 523);
  EXPECT_NEAR(after["availability"].get<double>(), 373.0 / 400, 1e-9);
  EXPECT_NEAR(after["quality"].get<double>(), 18748.0 / 19271, 1e-9);
  EXPECT_NEAR(after["oee"].get<double>(), 18748.0 / 24000, 1e-9);

  // Listed, and in the audit chain with who and why.
  r = call("GET", "/api/v1/corrections?node=s1&" + kShift, {}, kAdminToken);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(json::parse(r.body)["corrections"].size(), 2u) << r.body;
  std::ofstream(dir_ / "corrections.json") << r.body;
  const HttpReply audit = call("GET", "/api/v1/audit", {}, kAdminToken);
  EXPECT_NE(audit.body.find("correction.reclassify"), std::string::npos) << audit.body;
  EXPECT_NE(audit.body.find("correction.rejects"), std::string::npos) << audit.body;
  EXPECT_NE(audit.body.find("shift-lead"), std::string::npos) << audit.body;
  EXPECT_NE(audit.body.find("cleaning was planned"), std::string::npos) << audit.body;

  // `oee replay` over the original events and the listed corrections gives the same figures.
  std::string out;
  ASSERT_EQ(run_oee("replay --plant " + (dir_ / "plant.yaml").string() + " --events " + (dir_ / "events.jsonl").string() +
                        " --corrections " + (dir_ / "corrections.json").string() + " --node s1/a1/l1/press" +
                        " --from 2026-11-10T06:00:00-06:00 --to 2026-11-10T14:00:00-06:00",
                    out),
            0)
      << out;
  const json replayed = json::parse(out);
  const json& row = replayed.is_array() ? replayed[0] : replayed;
  for (const char* f : {"planned_production_time_s", "run_time_s", "downtime_s", "good_count", "reject_count", "oee"})
    EXPECT_EQ(row[f], after[f]) << f << ": " << out;
  // Without the corrections, replay gives the figures of before.
  ASSERT_EQ(run_oee("replay --plant " + (dir_ / "plant.yaml").string() + " --events " + (dir_ / "events.jsonl").string() +
                        " --node s1/a1/l1/press --from 2026-11-10T06:00:00-06:00 --to 2026-11-10T14:00:00-06:00",
                    out),
            0);
  const json plain = json::parse(out);
  EXPECT_EQ((plain.is_array() ? plain[0] : plain)["planned_production_time_s"], before["planned_production_time_s"]) << out;
}

}  // namespace
}  // namespace oee::testing
