// The API over a real embedded store and the real HTTP server.
#include <gtest/gtest.h>

#include <filesystem>

#include "../../server/tests/http_client.h"
#include "oee/api/routes.h"
#include "oee/codec/event_json.h"
#include "oee/server/http_server.h"

namespace oee::api {

namespace {

TimeMs at(const char* s) { return *parse_timestamp(s); }

const char* kPlant = R"(timezone: America/Chicago
shifts:
  - name: day
    start: "06:00"
    end: "14:00"
    breaks: [{start: "08:00", end: "08:15"}, {start: "10:00", end: "10:30"}, {start: "12:00", end: "12:15"}]
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [
  {id: press, name: Press 1, ideal_cycle_time_s: 1.0, states: {"1": running, "2": stopped}, targets: {oee: 0.8}},
  {id: idle, ideal_cycle_time_s: 2.0}]}]}]}]
)";

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

Event event(const std::string& json) {
  Event e;
  std::string error;
  if (!codec::parse_event(json, e, error)) throw std::runtime_error(error);
  return e;
}

class Api : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("oee-api-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    service_ = std::make_unique<server::PlantService>(
        plant::load_plant_yaml(kPlant, "plant.yaml"),
        [this](const PlantModel& p, const ShiftCalendar& c) { return storage::open_sqlite_store((dir_ / "oee.sqlite").string(), p, c); },
        [this] { return now_; });
    add_plant_routes(router_, *service_);
    server::HttpServerOptions o;
    o.port = 0;
    http_ = std::make_unique<server::HttpServer>(router_, o);
    http_->start();
  }
  void TearDown() override {
    http_.reset();
    service_.reset();
    std::filesystem::remove_all(dir_);
  }
  testing::HttpReply get(const std::string& target) { return testing::http_get(http_->port(), target); }

  // The oee.com / Vorne shift on the press.
  void ingest_vorne_shift() {
    std::vector<Event> events = {
        event(R"({"ts":"2026-11-10T06:00:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"1","src":"plc","seq":1})"),
        event(R"({"ts":"2026-11-10T09:00:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"2","reason":"die","src":"plc","seq":2})"),
        event(R"({"ts":"2026-11-10T09:47:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"1","src":"plc","seq":3})"),
        event(R"({"ts":"2026-11-10T11:00:00-06:00","machine":"s1/a1/l1/press","type":"count","good":10000,"reject":200,"src":"plc","seq":4})"),
        event(R"({"ts":"2026-11-10T13:59:00-06:00","machine":"s1/a1/l1/press","type":"count","good":8848,"reject":223,"src":"plc","seq":6})"),
        event(R"({"ts":"2026-11-10T13:59:00-06:00","machine":"s1/a1/l1/press","type":"product","product":"p1","src":"plc","seq":7})"),
        event(R"({"ts":"2026-11-10T13:59:00-06:00","machine":"s1/a1/l1/ghost","type":"state","state":"1","src":"plc","seq":8})"),
        event(R"({"ts":"2026-11-10T13:59:00-06:00","machine":"s1/a1/l1/press","type":"state","state":"9","src":"plc","seq":9})")};
    const auto report = service_->ingest(events, "oee/v1/s1/a1/l1/press/events");
    ASSERT_EQ(report.accepted, 6u);
    ASSERT_EQ(report.dead_lettered, 2u);
    ASSERT_EQ(report.inserted, 6u);
    const auto again = service_->ingest({events[0], events[3]}, "replay");
    ASSERT_EQ(again.duplicates, 2u);
  }

  std::filesystem::path dir_;
  TimeMs now_ = at("2026-11-10T14:00:00-06:00");
  std::unique_ptr<server::PlantService> service_;
  server::Router router_;
  std::unique_ptr<server::HttpServer> http_;
};

}  // namespace

TEST_F(Api, HealthAndUnknownRoutes) {
  EXPECT_EQ(get("/healthz").body, "{\"status\":\"ok\"}");
  const auto r = get("/api/v1/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"code\":\"not_found\""), std::string::npos);
}

TEST_F(Api, KpisOfTheVorneShift) {
  ingest_vorne_shift();
  auto r = get("/api/v1/kpis?node=s1/a1/l1/press&from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NEAR(field(r.body, "availability"), 0.8881, 5e-5) << r.body;
  EXPECT_NEAR(field(r.body, "performance"), 0.8611, 5e-5);
  EXPECT_NEAR(field(r.body, "quality"), 0.9780, 5e-5);
  EXPECT_NEAR(field(r.body, "oee"), 0.7479, 5e-5);
  EXPECT_EQ(field(r.body, "total_count"), 19271);
  EXPECT_NE(r.body.find("\"from\":\"2026-11-10T06:00:00-06:00\""), std::string::npos);
  // The line sums its machines: the idle machine has no events, so its time is unknown.
  r = get("/api/v1/kpis?node=s1/a1/l1&from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00");
  EXPECT_NEAR(field(r.body, "oee"), 0.7479, 5e-5);
  EXPECT_EQ(field(r.body, "unknown_time_s"), 8 * 3600);
  EXPECT_EQ(field(r.body, "machines"), 2);
  // Default window: the current shift so far.
  r = get("/api/v1/kpis?node=s1/a1/l1/press");
  EXPECT_NEAR(field(r.body, "oee"), 0.7479, 5e-5) << r.body;
  r = get("/api/v1/kpis?node=s1&from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00&by=hour");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.front(), '[');
  std::size_t rows = 0;
  for (std::size_t p = r.body.find("\"node\""); p != std::string::npos; p = r.body.find("\"node\"", p + 1)) ++rows;
  EXPECT_EQ(rows, 8u);
  r = get("/api/v1/kpis?node=s1&from=2026-11-10T00:00:00-06:00&to=2026-11-11T00:00:00-06:00&by=shift");
  EXPECT_NE(r.body.find("\"shift\":\"day\""), std::string::npos) << r.body;
}

TEST_F(Api, BadParametersGive400WithAMessage) {
  auto r = get("/api/v1/kpis?node=s9");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "{\"error\":{\"code\":\"unknown_node\",\"message\":\"'s9' is not a node of the plant\"}}");
  r = get("/api/v1/kpis?from=monday");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'from': 'monday' is not an RFC 3339 timestamp"), std::string::npos);
  r = get("/api/v1/kpis?by=week");
  EXPECT_EQ(r.status, 400);
  r = get("/api/v1/kpis?from=2026-11-10T06:00:00Z&to=2026-11-10T05:00:00Z");
  EXPECT_EQ(r.status, 400);
  r = get("/api/v1/kpis?from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&by=hour");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("too_many_buckets"), std::string::npos);
  r = get("/api/v1/dead-letters?limit=0");
  EXPECT_EQ(r.status, 400);
}

TEST_F(Api, PlantTreeWithLiveState) {
  ingest_vorne_shift();
  const auto r = get("/api/v1/plant");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"timezone\":\"America/Chicago\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"path\":\"s1/a1/l1/press\",\"name\":\"Press 1\",\"state\":\"running\",\"since\":\"2026-11-10T09:47:00-06:00\",\"product\":\"p1\""),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("\"path\":\"s1/a1/l1/idle\",\"name\":\"idle\",\"state\":\"unknown\""), std::string::npos);
  EXPECT_NE(r.body.find("\"targets\":{\"oee\":0.8}"), std::string::npos);
}

TEST_F(Api, DeadLettersAndSources) {
  ingest_vorne_shift();
  auto r = get("/api/v1/dead-letters");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"total\":2"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("unknown machine 's1/a1/l1/ghost'"), std::string::npos);
  EXPECT_NE(r.body.find("state '9' is neither canonical nor in s1/a1/l1/press's states map"), std::string::npos);
  EXPECT_NE(r.body.find("\"topic\":\"oee/v1/s1/a1/l1/press/events\""), std::string::npos);
  r = get("/api/v1/sources");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"src\":\"plc\",\"events\":6,\"seq_min\":1,\"seq_max\":7,\"gaps\":[[5,5]]"), std::string::npos) << r.body;
}

}  // namespace oee::api
