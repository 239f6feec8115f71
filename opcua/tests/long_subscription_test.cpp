// 10,000 monitored items at a 1 s publishing interval for 60 s against node-opcua: every change of
// every counter arrives, in order (label "long").
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "oee/opcua/client.h"
#include "opcua_peer.h"
#include "subscription_recorder.h"

namespace oee::opcua {
namespace {

using namespace std::chrono_literals;
using testing::OpcuaPeer;
using testing::PeerOptions;
using testing::Recorder;

TEST(OpcuaLongTest, TenThousandItemsForSixtySecondsReceiveEveryChangeInOrder) {
  constexpr int kItems = 10000;
  const int seconds = std::getenv("OEE_OPCUA_LONG_SECONDS") ? std::atoi(std::getenv("OEE_OPCUA_LONG_SECONDS")) : 60;
  OpcuaPeer peer(PeerOptions{kItems, 1000, false});
  peer.start();
  Recorder rec;
  ClientConfig config;
  config.endpoint_url = peer.url();
  config.request_timeout_ms = 60000;
  Client client(config);
  client.set_event_handler(rec.event_handler());
  client.connect();
  const uint32_t sub = client.create_subscription(SubscriptionSettings{1000, 120, 10, 0, 0}, rec.handler());
  const auto results = client.create_monitored_items(sub, testing::counter_items(kItems));
  ASSERT_EQ(results.size(), static_cast<size_t>(kItems));
  for (const auto& r : results) ASSERT_TRUE(r.status.is_good()) << status_name(r.status);
  ASSERT_TRUE(rec.wait_for(60s, [&] { return rec.values.size() == kItems; })) << "not every item reported";
  {
    std::lock_guard lock(rec.mutex);
    for (auto& [handle, series] : rec.values) series.clear();  // count from here
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));  // the subject: a subscription held this long
  client.disconnect();
  std::lock_guard lock(rec.mutex);
  testing::expect_consecutive(rec.values, static_cast<size_t>(seconds - 2));
  EXPECT_FALSE(rec.has_event(ClientEvent::Kind::data_gap));
  EXPECT_FALSE(rec.has_event(ClientEvent::Kind::connection_lost));
  EXPECT_FALSE(rec.has_event(ClientEvent::Kind::keep_alive_missed));
  const auto stats = client.statistics();
  std::fprintf(stderr, "items %d, seconds %d, values %zu, publish responses %llu, republished %llu\n", kItems,
               seconds, rec.total, static_cast<unsigned long long>(stats.publish_responses),
               static_cast<unsigned long long>(stats.republished_messages));
  for (const auto& e : rec.events) std::fprintf(stderr, "event %s: %s\n", client_event_kind_name(e.kind), e.detail.c_str());
}

}  // namespace
}  // namespace oee::opcua
