// Storage briefly unavailable: reads answer the last known values marked stale, /readyz says not
// ready, writes retry and then fail with 503; all recover when storage is back.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_fixture.h"

namespace oee::api {

TEST_F(Api, ReadsServeStaleValuesWhileStorageIsDown) {
  ingest_vorne_shift();
  const std::string kpis = "/api/v1/kpis?node=s1/a1/l1/press&from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00";
  const auto fresh = get(kpis);
  ASSERT_EQ(fresh.status, 200);
  EXPECT_EQ(fresh.headers.find("X-OEE-Stale"), std::string::npos);
  EXPECT_EQ(get("/readyz").status, 200);
  storage_failing_ = true;
  const auto stale = get(kpis);
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, fresh.body);
  EXPECT_NE(stale.headers.find("X-OEE-Stale: true"), std::string::npos) << stale.headers;
  EXPECT_NE(stale.headers.find("Warning: 110"), std::string::npos);
  // Never answered before: 503 with the reason.
  const auto unknown = get("/api/v1/kpis?node=s1");
  EXPECT_EQ(unknown.status, 503);
  EXPECT_NE(unknown.body.find("storage_unavailable"), std::string::npos) << unknown.body;
  const auto ready = get("/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("\"storage\":\"unavailable\""), std::string::npos) << ready.body;
  storage_failing_ = false;
  EXPECT_EQ(get("/api/v1/kpis?node=s1").status, 200);
  EXPECT_EQ(get(kpis).headers.find("X-OEE-Stale"), std::string::npos);
}

// The answers kept for an outage are bounded (Access::kStaleResponsesMax), and a full table lets the
// least recently used go: here the alphabetically first answer, asked again, stays, while the
// oldest of the others goes (an eviction in key order would lose the first instead).
TEST_F(Api, TheStaleAnswersAreBoundedAndTheLeastRecentlyUsedGoes) {
  auto kpis = [](std::size_t i) {
    return "/api/v1/kpis?node=s1&from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00&n=" + std::to_string(100000 + i);
  };
  const std::size_t kept_max = Access::kStaleResponsesMax;
  for (std::size_t i = 0; i < kept_max; ++i) ASSERT_EQ(get(kpis(i)).status, 200) << i;  // a full table
  ASSERT_EQ(get(kpis(0)).status, 200);         // the first, used again
  ASSERT_EQ(get(kpis(kept_max)).status, 200);  // one more: the least recently used goes
  storage_failing_ = true;
  const auto first = get(kpis(0));
  EXPECT_EQ(first.status, 200);
  EXPECT_NE(first.headers.find("X-OEE-Stale: true"), std::string::npos) << first.headers;
  EXPECT_EQ(get(kpis(1)).status, 503);  // evicted
  EXPECT_EQ(get(kpis(2)).status, 200);
  EXPECT_EQ(get(kpis(kept_max)).status, 200);
}

TEST_F(Api, WritesFailCleanlyWhileStorageIsDownAndWorkAfter) {
  ingest_vorne_shift();
  const std::string body = R"({"machine":"s1/a1/l1/press","at":"2026-11-10T09:10:00-06:00","reason":"material"})";
  storage_failing_ = true;
  const auto down = request("POST", "/api/v1/stops/reason", body, operator_token_);
  EXPECT_EQ(down.status, 503);
  EXPECT_NE(down.body.find("storage_unavailable"), std::string::npos) << down.body;
  storage_failing_ = false;
  EXPECT_EQ(request("POST", "/api/v1/stops/reason", body, operator_token_).status, 200);
  const auto j = nlohmann::json::parse(get("/api/v1/pareto?node=s1&from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00").body);
  EXPECT_EQ(j["bars"][0]["name"], "material");
}

TEST_F(Api, StorageFailureAnswersACodeAndARequestIdAndLogsTheCause) {
  storage_failing_ = true;
  ::testing::internal::CaptureStdout();
  const auto read = get("/api/v1/kpis?node=s1");
  const auto write = request("POST", "/api/v1/stops/reason",
                             R"({"machine":"s1/a1/l1/press","at":"2026-11-10T09:10:00-06:00","reason":"material"})", operator_token_);
  const std::string log = ::testing::internal::GetCapturedStdout();
  storage_failing_ = false;
  for (const auto& reply : {read, write}) {
    ASSERT_EQ(reply.status, 503);
    const auto j = nlohmann::json::parse(reply.body);
    EXPECT_EQ(j["error"]["code"], "storage_unavailable");
    const std::string id = j["error"]["request_id"];
    EXPECT_EQ(id.size(), 16u);
    EXPECT_NE(reply.headers.find("X-Request-Id: " + id), std::string::npos) << reply.headers;
    // The store's own words stay in the log, under the id the client got.
    EXPECT_EQ(reply.body.find("disk I/O error"), std::string::npos) << reply.body;
    const std::size_t line = log.find("request_id=" + id);
    ASSERT_NE(line, std::string::npos) << log;
    EXPECT_NE(log.substr(line, log.find('\n', line) - line).find("disk I/O error (injected)"), std::string::npos) << log;
  }
}

}  // namespace oee::api
