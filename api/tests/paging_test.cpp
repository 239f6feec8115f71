// Paging and window bounds of the list routes (docs/api.md): with `limit` and the `next` cursor
// (followed here through the Link header, as a client that does not read bodies would), every item
// of a route comes exactly once and in the order of one unpaged request; `limit` over 10,000 and a
// window over a route's maximum are 400s that say why.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_fixture.h"

namespace oee::api {
namespace {

const std::string kShift = "from=2026-11-10T06:00:00-06:00&to=2026-11-10T14:00:00-06:00";

// The target of the `Link: <…>; rel="next"` header, or empty.
std::string next_link(const std::string& headers) {
  const std::size_t at = headers.find("Link: <");
  if (at == std::string::npos) return {};
  const std::size_t end = headers.find(">; rel=\"next\"", at);
  return headers.substr(at + 7, end - at - 7);
}

class Paging : public Api {
 protected:
  // The press alternates running and stopped every 10 minutes over the shift and counts at each
  // change; five sources share the events; seven events of an unknown machine are dead-lettered;
  // six tokens created by the admin are audited.
  void SetUp() override {
    Api::SetUp();
    std::vector<Event> events;
    const TimeMs start = at("2026-11-10T06:00:00-06:00");
    for (int i = 0; i < 48; ++i) {
      const std::string ts = format_rfc3339(start + i * 10 * kMsPerMinute);
      const std::string src = "\"src\":\"plc-" + std::to_string(i % 5) + "\",\"seq\":";
      events.push_back(event(R"({"ts":")" + ts + R"(","machine":"s1/a1/l1/press","type":"state","state":")" + (i % 2 ? "2" : "1") +
                             "\"," + src + std::to_string(2 * i) + "}"));
      events.push_back(event(R"({"ts":")" + ts + R"(","machine":"s1/a1/l1/press","type":"count","good":10,"reject":1,)" + src +
                             std::to_string(2 * i + 1) + "}"));
    }
    for (int i = 0; i < 7; ++i)
      events.push_back(event(R"({"ts":"2026-11-10T07:00:00Z","machine":"s1/a1/l1/ghost","type":"state","state":"1","src":"x","seq":)" +
                             std::to_string(i) + "}"));
    ASSERT_EQ(service_->ingest(events, "test").dead_lettered, 7u);
    for (int i = 0; i < 6; ++i)
      ASSERT_EQ(request("POST", "/api/v1/tokens", R"({"name":"t)" + std::to_string(i) + R"("})", kAdminToken).status, 201);
  }

  // Every item of `target` page by page (`limit` each), following the Link header; `list` picks the
  // items out of a body. Checks that object bodies carry the same cursor as `next`.
  std::vector<std::string> paged(const std::string& target, int limit, const char* list, const std::string& token) {
    std::vector<std::string> out;
    std::string url = target + (target.find('?') == std::string::npos ? "?" : "&") + "limit=" + std::to_string(limit);
    for (int pages = 0; !url.empty(); ++pages) {
      EXPECT_LT(pages, 1000) << url;
      if (pages >= 1000) break;
      const auto r = request("GET", url, "", token);
      EXPECT_EQ(r.status, 200) << url << ": " << r.body;
      if (r.status != 200) break;
      const auto j = nlohmann::json::parse(r.body);
      const auto& items = *list ? j.at(list) : j;
      EXPECT_LE(items.size(), static_cast<std::size_t>(limit)) << url;
      for (const auto& item : items) out.push_back(item.dump());
      url = next_link(r.headers);
      if (*list) {
        EXPECT_EQ(j.contains("next"), !url.empty()) << r.body;
      }
    }
    return out;
  }
  void expect_pages_give_every_item_once(const std::string& target, const char* list, std::size_t at_least,
                                         const std::string& token = {}) {
    const std::string who = token.empty() ? viewer_token_ : token;
    const auto r = request("GET", target, "", who);
    ASSERT_EQ(r.status, 200) << target << ": " << r.body;
    EXPECT_EQ(next_link(r.headers), "") << target;  // the default limit holds it all
    const auto j = nlohmann::json::parse(r.body);
    std::vector<std::string> all;
    for (const auto& item : *list ? j.at(list) : j) all.push_back(item.dump());
    ASSERT_GE(all.size(), at_least) << target;
    for (const int limit : {1, 3, 7}) EXPECT_EQ(paged(target, limit, list, who), all) << target << " limit " << limit;
  }
};

TEST_F(Paging, EveryListRouteGivesEveryItemOnceThroughItsCursor) {
  expect_pages_give_every_item_once("/api/v1/stops?node=s1&limit=1000&" + kShift, "items", 24);
  expect_pages_give_every_item_once("/api/v1/timeline?machine=s1/a1/l1/press&" + kShift, "intervals", 48);
  expect_pages_give_every_item_once("/api/v1/tags?machine=s1/a1/l1/press&tag=count.good&bucket_s=600&" + kShift, "buckets", 48);
  expect_pages_give_every_item_once("/api/v1/counts?node=s1/a1/l1/press&by=hour&" + kShift, "", 8);
  expect_pages_give_every_item_once("/api/v1/dead-letters?limit=1000", "items", 7);
  expect_pages_give_every_item_once("/api/v1/sources", "", 5);
  expect_pages_give_every_item_once("/api/v1/audit?limit=1000", "items", 6, kAdminToken);
}

TEST_F(Paging, StopsCursorIsNotShiftedByANewerStop) {
  auto r = get("/api/v1/stops?node=s1&limit=2&" + kShift);
  ASSERT_EQ(r.status, 200);
  const auto first = nlohmann::json::parse(r.body);
  const std::string next = first.at("next");
  // A stop that begins after the first page was read (the newest first) would shift an offset.
  ASSERT_EQ(service_->ingest({event(R"({"ts":"2026-11-10T13:55:00-06:00","machine":"s1/a1/l1/idle","type":"state","state":"stopped","src":"y","seq":1})")},
                             "test").inserted, 1u);
  r = get("/api/v1/stops?node=s1&limit=2&" + kShift + "&cursor=" + next);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto second = nlohmann::json::parse(r.body);
  ASSERT_EQ(second.at("items").size(), 2u);
  EXPECT_LT(second["items"][0]["from"].get<std::string>(), first["items"][1]["from"].get<std::string>());
}

TEST_F(Paging, LimitOverTenThousandAndBadCursorsAre400) {
  for (const std::string target : {"/api/v1/stops?node=s1", "/api/v1/timeline?machine=s1/a1/l1/press",
                                   "/api/v1/tags?machine=s1/a1/l1/press", "/api/v1/counts?node=s1", "/api/v1/dead-letters",
                                   "/api/v1/sources", "/api/v1/audit"}) {
    auto r = request("GET", target + (target.find('?') == std::string::npos ? "?" : "&") + "limit=10001", "", kAdminToken);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_NE(r.body.find("'limit' must be an integer from 1 to 10000"), std::string::npos) << target << ": " << r.body;
    EXPECT_EQ(request("GET", target + (target.find('?') == std::string::npos ? "?" : "&") + "limit=10000", "", kAdminToken).status, 200)
        << target;
  }
  EXPECT_EQ(get("/api/v1/timeline?machine=s1/a1/l1/press&cursor=yesterday").status, 400);
  EXPECT_EQ(get("/api/v1/stops?node=s1&cursor=12").status, 400);
  EXPECT_EQ(get("/api/v1/dead-letters?cursor=x").status, 400);
}

TEST_F(Paging, WindowsLongerThanTheRouteServesAre400WithTheMaximum) {
  const std::string year2000 = "from=2000-01-01T00:00:00Z&to=2026-11-10T00:00:00Z";
  const std::pair<std::string, int> cases[] = {
      {"/api/v1/stops?node=s1&", 31},        {"/api/v1/timeline?machine=s1/a1/l1/press&", 31},
      {"/api/v1/tags?machine=s1/a1/l1/press&bucket_s=86400&", 31}, {"/api/v1/pareto?node=s1&", 92},
      {"/api/v1/export/stops.csv?node=s1&", 92}, {"/api/v1/counts?node=s1&", 366},
      {"/api/v1/kpis?node=s1&", 366},           {"/api/v1/export/kpis.csv?node=s1&", 366}};
  for (const auto& [route, days] : cases) {
    auto r = get(route + year2000);
    EXPECT_EQ(r.status, 400) << route;
    EXPECT_NE(r.body.find("this route serves at most " + std::to_string(days) + " days per request"), std::string::npos)
        << route << ": " << r.body;
    // Exactly the maximum is served.
    const std::string window = "from=2026-01-01T00:00:00Z&to=" + format_rfc3339(at("2026-01-01T00:00:00Z") + days * kMsPerDay);
    r = get(route + window);
    EXPECT_EQ(r.status, 200) << route << window << ": " << r.body;
  }
}

}  // namespace
}  // namespace oee::api
