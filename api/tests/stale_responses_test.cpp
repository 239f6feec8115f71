// The stale-answer cache is bounded and drops the least recently used answer first (not the
// alphabetically first, as it once did).
#include <gtest/gtest.h>

#include "oee/api/stale_responses.h"

namespace oee::api {

namespace {
server::HttpResponse answer(const std::string& body) { return server::HttpResponse::json(body); }
}  // namespace

TEST(StaleResponses, EvictsTheLeastRecentlyUsedAnswer) {
  StaleResponses cache(3, 1 << 20);
  cache.keep("/b", answer("B"), 1000);
  cache.keep("/a", answer("A"), 1000);
  cache.keep("/c", answer("C"), 1000);
  ASSERT_TRUE(cache.find("/b"));  // served stale: now the most recently used
  cache.keep("/d", answer("D"), 1000);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.find("/a")) << "the least recently used answer goes first";
  EXPECT_EQ(cache.find("/b")->body, "B");
  EXPECT_EQ(cache.find("/c")->body, "C");
  EXPECT_EQ(cache.find("/d")->body, "D");
  cache.keep("/c", answer("C"), 1000);  // kept again: used
  cache.keep("/e", answer("E"), 1000);
  EXPECT_FALSE(cache.find("/b"));
  EXPECT_TRUE(cache.find("/c"));
}

TEST(StaleResponses, StaysWithinItsBytes) {
  StaleResponses cache(100, 30);
  cache.keep("/x", answer(std::string(10, 'x')), 0);  // 12 bytes with the key
  cache.keep("/y", answer(std::string(10, 'y')), 0);
  cache.keep("/z", answer(std::string(10, 'z')), 0);  // 36 > 30: /x goes
  EXPECT_LE(cache.bytes(), 30u);
  EXPECT_FALSE(cache.find("/x"));
  EXPECT_TRUE(cache.find("/y"));
  EXPECT_TRUE(cache.find("/z"));
  cache.keep("/big", answer(std::string(40, 'b')), 0);  // larger than the whole cache: not kept
  EXPECT_FALSE(cache.find("/big"));
  EXPECT_EQ(cache.size(), 2u);
}

TEST(StaleResponses, RefreshesAnAnswerAtMostOnceASecond) {
  StaleResponses cache(10, 1 << 20);
  cache.keep("/k", answer("old"), 10'000);
  cache.keep("/k", answer("new"), 10'500);
  EXPECT_EQ(cache.find("/k")->body, "old");
  cache.keep("/k", answer("newer"), 11'000);
  EXPECT_EQ(cache.find("/k")->body, "newer");
  EXPECT_EQ(cache.bytes(), std::string("/k").size() + std::string("newer").size());
}

}  // namespace oee::api
