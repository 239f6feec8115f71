// The server's clock as clients read it: GET /api/v1/plant's `now` and `clock_rate`, and the live
// feed's hello, on the demo's scaled clock (server/scaled_clock.h: ten of its seconds a wall-clock
// second, here over the test's wall clock now_, which the test moves).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_fixture.h"
#include "live_messages.h"
#include "oee/server/scaled_clock.h"

namespace oee::api {

namespace {

class ApiScaledClock : public Api {
 protected:
  // The server starts a minute before the day shift (06:00-14:00) ends.
  server::Clock service_clock() override {
    now_ = at("2026-11-10T13:59:00-06:00");
    return server::scaled_clock(10, [this] { return now_.load(); });
  }
  double clock_rate() const override { return 10; }
};

}  // namespace

TEST_F(ApiScaledClock, ThePlantAndTheLiveFeedTellTheServersClockAndItsRate) {
  const TimeMs start = now_.load();
  auto plant = nlohmann::json::parse(get("/api/v1/plant").body);
  EXPECT_EQ(plant["now"], "2026-11-10T13:59:00-06:00");
  EXPECT_EQ(plant["clock_rate"], 10);
  EXPECT_EQ(plant["current_shift"]["name"], "day") << plant;
  // A wall-clock second later the server's clock is ten seconds on.
  now_ = start + 1000;
  plant = nlohmann::json::parse(get("/api/v1/plant").body);
  EXPECT_EQ(plant["now"], "2026-11-10T13:59:10-06:00");
  EXPECT_EQ(plant["current_shift"]["name"], "day") << plant;
  // 6.5 wall-clock seconds on: 14:00:05 on the server's clock, the shift is over there.
  now_ = start + 6500;
  plant = nlohmann::json::parse(get("/api/v1/plant").body);
  EXPECT_EQ(plant["now"], "2026-11-10T14:00:05-06:00");
  EXPECT_FALSE(plant.contains("current_shift")) << plant;
  testing::WebSocketClient ws(http_->port(), "/api/v1/live", "Authorization: Bearer " + viewer_token_ + "\r\n");
  ASSERT_EQ(ws.status, 101) << ws.handshake;
  const auto hello = next_of(ws, "hello");
  EXPECT_EQ(hello["now"], "2026-11-10T14:00:05-06:00") << hello;
  EXPECT_EQ(hello["clock_rate"], 10);
}

TEST_F(Api, ThePlantTellsAClockRateOfOneOutsideTheDemo) {
  const auto plant = nlohmann::json::parse(get("/api/v1/plant").body);
  EXPECT_EQ(plant["now"], "2026-11-10T14:00:00-06:00");
  EXPECT_EQ(plant["clock_rate"], 1);
}

}  // namespace oee::api
