#pragma once
// What the API fuzz targets serve: every real route and the live feed over a real embedded store
// (SQLite, in a scratch directory removed at exit), real accounts and audit chain, and a known
// admin token (kFuzzAdminToken, which the seed corpora carry). Built once per fuzzing process.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

#include "oee/api/live_feed.h"
#include "oee/api/routes.h"
#include "oee/server/http_server.h"

namespace oee::api::fuzz {

inline constexpr const char* kFuzzAdminToken = "fuzz-admin-token-0123456789";

inline constexpr const char* kFuzzPlant = R"(timezone: Europe/Berlin
shifts: [{name: day, start: "06:00", end: "14:00"}]
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [
  {id: press, ideal_cycle_time_s: 1.0, states: {"1": running, "2": stopped}},
  {id: lathe, ideal_cycle_time_s: 2.0}]}]}]}]
)";

class FuzzedApi {
 public:
  FuzzedApi()
      : dir_(make(std::filesystem::temp_directory_path() / ("oee-api-fuzz-" + std::to_string(::getpid())))),
        service_(std::make_unique<server::PlantService>(
            plant::load_plant_yaml(kFuzzPlant, "plant.yaml"),
            [this](const PlantModel& p, const ShiftCalendar& c) { return storage::open_sqlite_store((dir_ / "oee.sqlite").string(), p, c); },
            [this] { return now_.load(); })) {
    auth::AccountsOptions ao;
    ao.pwhash_opslimit = 1;  // the cheapest password hash: logins and new users at fuzzing speed
    ao.pwhash_memlimit = 8192;
    accounts_ = std::make_unique<auth::Accounts>((dir_ / "auth.sqlite").string(), ao, [this] { return now_.load(); });
    audit_ = std::make_unique<auth::AuditChain>((dir_ / "auth.sqlite").string());
    comments_ = std::make_unique<StopComments>(*service_);
    access_ = std::make_unique<Access>(*accounts_, *audit_);
    accounts_->set_environment_admin_token(kFuzzAdminToken);
    add_api_routes(router_, *service_, *access_, *comments_);
    live_ = std::make_unique<LiveFeed>(*service_);
    live_->add_route(router_, *access_);  // not started: no ticker thread, the fuzzer drives it alone
  }
  ~FuzzedApi() { std::filesystem::remove_all(dir_); }

  const server::Router& router() const { return router_; }
  const server::HttpServerOptions& options() const { return options_; }  // the server's defaults
  // Each input a second later: back-offs and rate windows end, so inputs keep reaching the routes.
  void tick() { now_ += 1000; }

 private:
  static std::filesystem::path make(std::filesystem::path dir) {
    std::filesystem::create_directories(dir);
    return dir;
  }
  std::filesystem::path dir_;
  std::atomic<TimeMs> now_{1'795'000'000'000};
  std::unique_ptr<server::PlantService> service_;
  std::unique_ptr<auth::Accounts> accounts_;
  std::unique_ptr<auth::AuditChain> audit_;
  std::unique_ptr<StopComments> comments_;
  std::unique_ptr<Access> access_;
  std::unique_ptr<LiveFeed> live_;
  server::Router router_;
  server::HttpServerOptions options_;
};

// A WebSocket peer that drops what a route sends (the fuzzers look for crashes, not answers).
class DiscardingConnection : public server::WebSocketConnection {
 public:
  bool send(std::shared_ptr<const std::string>, std::string_view) override { return true; }
  void close() override {}
};

}  // namespace oee::api::fuzz
