#pragma once
// The API test fixture: a real embedded store, the real accounts and audit files, every route, the
// real HTTP server on a free loopback port, and a token per role.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>

#include "../../server/tests/http_client.h"
#include "oee/api/live_feed.h"
#include "oee/api/routes.h"
#include "oee/codec/event_json.h"
#include "oee/server/http_server.h"

namespace oee::api {

inline TimeMs at(const char* s) { return *parse_timestamp(s); }

inline constexpr const char* kPlant = R"(name: Chicago works
timezone: America/Chicago
shifts:
  - name: day
    start: "06:00"
    end: "14:00"
    breaks: [{start: "08:00", end: "08:15"}, {start: "10:00", end: "10:30", name: Lunch}, {start: "12:00", end: "12:15"}]
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [
  {id: press, name: Press 1, description: "Stamping press, bay 3", ideal_cycle_time_s: 1.0, states: {"1": running, "2": stopped}, targets: {oee: 0.8}},
  {id: idle, ideal_cycle_time_s: 2.0, no_data_after_s: 60}]}]}]}]
)";

inline double field(const std::string& json, const std::string& name) {
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

// The real SQLite store with a switch that makes every call fail as a lost database would (fault
// injection for the graceful-degradation tests).
class SwitchableStore : public storage::EventStore {
 public:
  SwitchableStore(std::unique_ptr<storage::EventStore> real, std::atomic<bool>& failing) : real_(std::move(real)), failing_(failing) {}
  storage::AppendResult append(std::span<const Event> e, TimeMs at) override { check(); return real_->append(e, at); }
  std::vector<Event> machine_events(std::string_view m, TimeMs f, TimeMs t) override { check(); return real_->machine_events(m, f, t); }
  std::vector<Event> machine_corrections(std::string_view m, TimeMs f, TimeMs t) override {
    check();
    return real_->machine_corrections(m, f, t);
  }
  std::vector<Event> machine_run_events(std::string_view m, TimeMs t) override { check(); return real_->machine_run_events(m, t); }
  MachineHistory machine_history(const MachineSpec& m, TimeMs f, TimeMs t) override { check(); return real_->machine_history(m, f, t); }
  KpiTotals machine_totals(const MachineSpec& m, TimeMs f, TimeMs t, TimeMs h) override { check(); return real_->machine_totals(m, f, t, h); }
  KpiTotals machines_totals(std::span<const MachineSpec* const> ms, TimeMs f, TimeMs t, TimeMs h) override { check(); return real_->machines_totals(ms, f, t, h); }
  std::int64_t event_count() override { check(); return real_->event_count(); }
  std::vector<storage::SourceStats> sources() override { check(); return real_->sources(); }
  std::int64_t add_dead_letter(const storage::DeadLetter& d) override { check(); return real_->add_dead_letter(d); }
  std::vector<storage::DeadLetter> dead_letters(std::int64_t b, std::size_t l) override { check(); return real_->dead_letters(b, l); }
  std::int64_t dead_letter_count() override { check(); return real_->dead_letter_count(); }
  void add_conflicts(std::span<const storage::Conflict> c) override { check(); real_->add_conflicts(c); }
  std::vector<storage::Conflict> conflicts(std::int64_t b, std::size_t l) override { check(); return real_->conflicts(b, l); }
  std::int64_t conflict_count() override { check(); return real_->conflict_count(); }
  std::int64_t add_stop_comment(const storage::StopComment& c) override { check(); return real_->add_stop_comment(c); }
  std::vector<storage::StopComment> stop_comments(std::string_view m, TimeMs f, TimeMs t) override { check(); return real_->stop_comments(m, f, t); }
  std::int64_t pseudonymise_comment_author(std::string_view n, std::string_view p) override { check(); return real_->pseudonymise_comment_author(n, p); }
  bool fire_alert(const Alert& a) override { check(); return real_->fire_alert(a); }
  std::optional<Alert> resolve_alert(std::string_view id, TimeMs at, AlertResolution why) override { check(); return real_->resolve_alert(id, at, why); }
  std::optional<Alert> acknowledge_alert(std::string_view id, std::optional<TimeMs> fired, std::string_view u, TimeMs at) override {
    check();
    return real_->acknowledge_alert(id, fired, u, at);
  }
  std::vector<Alert> alerts() override { check(); return real_->alerts(); }
  storage::RetentionResult apply_retention(TimeMs now) override { check(); return real_->apply_retention(now); }
  std::string describe() const override { return real_->describe(); }
  bool reads_beside_writes() const override { return real_->reads_beside_writes(); }

 private:
  void check() const {
    if (failing_) throw std::runtime_error("sqlite: disk I/O error (injected)");
  }
  std::unique_ptr<storage::EventStore> real_;
  std::atomic<bool>& failing_;
};

inline Event event(const std::string& json) {
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
        plant::load_plant_yaml(plant_yaml(), "plant.yaml"),
        [this](const PlantModel& p, const ShiftCalendar& c) -> std::unique_ptr<storage::EventStore> {
          return std::make_unique<SwitchableStore>(storage::open_sqlite_store((dir_ / "oee.sqlite").string(), p, c), storage_failing_);
        },
        service_clock(), clock_rate());
    auth::AccountsOptions ao;
    ao.pwhash_opslimit = 1;  // crypto_pwhash_OPSLIMIT_MIN / MEMLIMIT_MIN: fast tests
    ao.pwhash_memlimit = 8192;
    accounts_ = std::make_unique<auth::Accounts>((dir_ / "auth.sqlite").string(), ao, [this] { return now_.load(); });
    audit_ = std::make_unique<auth::AuditChain>((dir_ / "auth.sqlite").string());
    comments_ = std::make_unique<StopComments>(*service_);
    access_ = std::make_unique<Access>(*accounts_, *audit_);
    accounts_->set_environment_admin_token(kAdminToken);
    viewer_token_ = accounts_->create_api_token("viewer-token", auth::Role::viewer, "test").token;
    operator_token_ = accounts_->create_api_token("operator-token", auth::Role::operator_, "test").token;
    add_api_routes(router_, *service_, *access_, *comments_);
    live_ = std::make_unique<LiveFeed>(*service_, LiveFeedOptions{100, 256});
    live_->add_route(router_, *access_);
    alerts_ = std::make_unique<server::AlertMonitor>(*service_, [this] {
      std::lock_guard lock(edge_statuses_mutex_);
      return edge_statuses_;
    });
    alerts_->add_listener([this](const AlertChange& c) { live_->publish_alert(c); });
    add_alert_routes(router_, *alerts_, *access_);
    live_->start();
    server::HttpServerOptions o;
    o.port = 0;
    o.metrics = &service_->metrics();
    http_ = std::make_unique<server::HttpServer>(router_, o);
    http_->start();
  }
  // The plant the test runs on.
  virtual std::string plant_yaml() const { return kPlant; }
  // The services' clock (now_, which a test moves) and its rate.
  virtual server::Clock service_clock() { return [this] { return now_.load(); }; }
  virtual double clock_rate() const { return 1.0; }
  void TearDown() override {
    if (live_) live_->stop();  // as `oee serve` does: its ticker thread may hold the last WebSocket while the server goes
    http_.reset();
    live_.reset();
    alerts_.reset();
    access_.reset();
    comments_.reset();
    audit_.reset();
    accounts_.reset();
    service_.reset();
    std::filesystem::remove_all(dir_);
  }
  // As a viewer unless another token is given ("" for none).
  testing::HttpReply get(const std::string& target) { return request("GET", target, "", viewer_token_); }
  testing::HttpReply request(const std::string& method, const std::string& target, const std::string& body,
                             const std::string& token) {
    return testing::HttpConnection(http_->port())
        .request(method, target, body, token.empty() ? std::string() : "Authorization: Bearer " + token + "\r\n");
  }

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
  std::atomic<bool> storage_failing_{false};
  // The services' clock: atomic, as the live feed's thread reads it while a test moves it.
  std::atomic<TimeMs> now_{at("2026-11-10T14:00:00-06:00")};
  static constexpr const char* kAdminToken = "test-admin-token-0123456789";
  std::unique_ptr<server::PlantService> service_;
  std::unique_ptr<auth::Accounts> accounts_;
  std::unique_ptr<auth::AuditChain> audit_;
  std::unique_ptr<StopComments> comments_;
  std::unique_ptr<Access> access_;
  std::unique_ptr<LiveFeed> live_;
  std::unique_ptr<server::AlertMonitor> alerts_;
  std::mutex edge_statuses_mutex_;
  std::map<std::string, std::string> edge_statuses_;  // what MQTT edges last reported, by edge id
  std::string viewer_token_, operator_token_;
  server::Router router_;
  std::unique_ptr<server::HttpServer> http_;
};

}  // namespace oee::api
