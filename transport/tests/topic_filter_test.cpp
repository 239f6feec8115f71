#include "oee/transport/topic_filter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mosquitto_process.h"
#include "oee/transport/mqtt_subscriber.h"

using namespace std::chrono_literals;
using oee::testing::eventually;
using oee::transport::check_topic_filter;
using oee::transport::topic_matches_filter;

TEST(TopicFilter, ValidFiltersAndSharedSubscriptions) {
  for (const char* ok : {"oee/v1/#", "oee/v1/s1/a1/l1/#", "oee/v1/+/+/+/+/events", "#", "+", "a//b", "$share/g/oee/v1/#",
                         "$share/servers/oee/v1/s1/+/+/+/events"})
    EXPECT_EQ(check_topic_filter(ok), "") << ok;
  for (const char* bad : {"", "oee/v1/#/x", "oee/v1/a#", "oee/v1/a+/b", "oee/+x", "$share/", "$share/g", "$share//oee/#",
                          "$share/g/", "$share/g+/oee/#", "$share/g/oee/#/x"})
    EXPECT_NE(check_topic_filter(bad), "") << bad;
  EXPECT_NE(check_topic_filter(std::string("oee/\0x", 6)), "");
  EXPECT_NE(check_topic_filter(std::string(70000, 'a')), "");
  const auto s = oee::transport::split_shared_subscription("$share/g/oee/v1/#");
  EXPECT_EQ(s.group, "g");
  EXPECT_EQ(s.filter, "oee/v1/#");
  EXPECT_EQ(oee::transport::split_shared_subscription("oee/v1/#").filter, "oee/v1/#");
}

TEST(TopicFilter, MatchingFollowsMqtt) {
  const std::string topic = "oee/v1/s1/a1/l1/filler/events";
  EXPECT_TRUE(topic_matches_filter("oee/v1/#", topic));
  EXPECT_TRUE(topic_matches_filter("oee/v1/s1/a1/l1/#", topic));
  EXPECT_TRUE(topic_matches_filter("oee/v1/+/+/l1/+/events", topic));
  EXPECT_TRUE(topic_matches_filter("#", topic));
  EXPECT_TRUE(topic_matches_filter(topic, topic));
  EXPECT_TRUE(topic_matches_filter("oee/v1/s1/#", "oee/v1/s1"));  // '#' includes the parent level
  EXPECT_FALSE(topic_matches_filter("oee/v1/s1/a1/l2/#", topic));
  EXPECT_FALSE(topic_matches_filter("oee/v1/+/+/+/events", topic));
  EXPECT_FALSE(topic_matches_filter("oee/v1/s1/a1/l1/filler", topic));
  EXPECT_FALSE(topic_matches_filter("oee/v1/s1/a1/l1/filler/events/x", topic));
  EXPECT_FALSE(topic_matches_filter("#", "$SYS/broker/uptime"));
  EXPECT_FALSE(topic_matches_filter("+/broker/uptime", "$SYS/broker/uptime"));
  EXPECT_TRUE(topic_matches_filter("$SYS/#", "$SYS/broker/uptime"));
}

// The server's subscriber speaks MQTT 3.1.1: Debian's Mosquitto shares "$share/<group>/…" among
// such clients too, each message to exactly one member of the group.
TEST(TopicFilter, SharedSubscriptionSplitsMessagesAmongMqtt311Subscribers) {
  oee::testing::MosquittoProcess broker;
  broker.start();
  std::mutex m;
  std::vector<std::string> seen[2];
  std::vector<std::unique_ptr<oee::transport::AckingSubscriber>> subscribers;
  for (int i = 0; i < 2; ++i) {
    oee::transport::MqttOptions o;
    o.brokers = {broker.url()};
    o.client_id = "shared-sub-" + std::to_string(i);
    o.subscriptions = {"$share/servers/oee/v1/#"};
    subscribers.push_back(std::make_unique<oee::transport::AckingSubscriber>(
        o, [&, i](std::span<const oee::transport::ReceivedMessage> batch) {
          std::lock_guard l(m);
          for (const auto& msg : batch) seen[i].emplace_back(msg.payload);
        }));
    subscribers.back()->start();
    ASSERT_TRUE(eventually([&] { return subscribers.back()->connected(); }, 5s));  // subscribed: see mosquitto_process.h
  }
  oee::transport::MqttOptions o;
  o.brokers = {broker.url()};
  o.client_id = "shared-sub-pub";
  oee::transport::MqttClient pub(o, {});
  pub.start();
  ASSERT_TRUE(eventually([&] { return pub.connected(); }, 5s));
  constexpr int kMessages = 40;
  for (int i = 0; i < kMessages; ++i) ASSERT_TRUE(pub.publish("oee/v1/s/a/l/m/events", std::to_string(i)));
  ASSERT_TRUE(eventually([&] { std::lock_guard l(m); return seen[0].size() + seen[1].size() >= kMessages; }, 10s));
  std::this_thread::sleep_for(200ms);  // the subject: no duplicate arrives late (an absence, not a state to poll)
  std::lock_guard l(m);
  std::set<std::string> all(seen[0].begin(), seen[0].end());
  all.insert(seen[1].begin(), seen[1].end());
  EXPECT_EQ(seen[0].size() + seen[1].size(), static_cast<std::size_t>(kMessages));
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kMessages));
  EXPECT_GT(seen[0].size(), 0u);
  EXPECT_GT(seen[1].size(), 0u);
}
