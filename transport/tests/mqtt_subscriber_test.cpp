#include "oee/transport/mqtt_subscriber.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mosquitto_process.h"

using namespace std::chrono_literals;
using oee::testing::eventually;
using oee::testing::MosquittoProcess;
using oee::transport::AckingSubscriber;
using oee::transport::MqttClient;
using oee::transport::MqttOptions;
using oee::transport::ReceivedMessage;

namespace {

MqttOptions subscriber_options(const std::string& url, const std::string& id) {
  MqttOptions o;
  o.brokers = {url};
  o.client_id = id;
  o.subscriptions = {"oee/v1/#"};
  o.reconnect_min = 100ms;
  o.reconnect_max = 500ms;
  return o;
}

std::unique_ptr<MqttClient> publisher(const std::string& url) {
  MqttOptions o;
  o.brokers = {url};
  o.client_id = "sub-test-pub";
  auto c = std::make_unique<MqttClient>(o, oee::transport::MqttHandlers{});
  c->start();
  return c;
}

}  // namespace

TEST(AckingSubscriber, ReceivesAndAFailedHandlerGetsTheMessageAgain) {
  MosquittoProcess broker;
  broker.start();
  std::mutex m;
  std::vector<std::string> seen;
  std::set<std::string> failed_once;
  std::size_t duplicates_flagged = 0;
  AckingSubscriber sub(subscriber_options(broker.url(), "acking-sub"), [&](std::span<const ReceivedMessage> batch) {
    std::lock_guard l(m);
    for (const auto& msg : batch)  // a failed batch is not acknowledged: all of it comes again
      if (msg.payload == "7" && failed_once.insert("7").second) throw std::runtime_error("storage unavailable");
    for (const auto& msg : batch) {
      duplicates_flagged += msg.duplicate;
      seen.emplace_back(msg.payload);
    }
  });
  sub.start();
  ASSERT_TRUE(eventually([&] { return sub.connected(); }, 5s));
  std::this_thread::sleep_for(200ms);
  auto pub = publisher(broker.url());
  ASSERT_TRUE(eventually([&] { return pub->connected(); }, 5s));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(pub->publish("oee/v1/s/a/l/m/events", std::to_string(i)));
  // Message 7 was not acknowledged: the broker redelivers it on the next connection.
  ASSERT_TRUE(eventually([&] { std::lock_guard l(m); return std::set<std::string>(seen.begin(), seen.end()).size() == 20; }, 10s));
  std::lock_guard l(m);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "7"), 1);
  EXPECT_EQ(seen.size(), 20u);  // nothing twice: the failed batch was never taken
  EXPECT_GE(duplicates_flagged, 1u);
}

TEST(AckingSubscriber, MessagesWaitInThePersistentSessionWhileAway) {
  MosquittoProcess broker;
  broker.start();
  std::mutex m;
  std::vector<std::string> seen;
  auto handler = [&](std::span<const ReceivedMessage> batch) {
    std::lock_guard l(m);
    for (const auto& msg : batch) seen.emplace_back(msg.payload);
  };
  {
    AckingSubscriber first(subscriber_options(broker.url(), "away-sub"), handler);
    first.start();
    ASSERT_TRUE(eventually([&] { return first.connected(); }, 5s));
    std::this_thread::sleep_for(200ms);
  }
  auto pub = publisher(broker.url());
  ASSERT_TRUE(eventually([&] { return pub->connected(); }, 5s));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pub->publish("oee/v1/s/a/l/m/events", std::to_string(i)));
  std::this_thread::sleep_for(300ms);
  AckingSubscriber again(subscriber_options(broker.url(), "away-sub"), handler);
  again.start();
  ASSERT_TRUE(eventually([&] { std::lock_guard l(m); return seen.size() == 5; }, 5s));
}

TEST(AckingSubscriber, OversizedPayloadIsCutAndReportedNotFatal) {
  MosquittoProcess broker;
  broker.start();
  std::mutex m;
  std::vector<std::pair<std::size_t, std::size_t>> sizes;  // kept, sent
  AckingSubscriber sub(subscriber_options(broker.url(), "small-sub"),
                       [&](std::span<const ReceivedMessage> batch) {
                         std::lock_guard l(m);
                         for (const auto& msg : batch) sizes.emplace_back(msg.payload.size(), msg.payload_bytes);
                       },
                       100);
  sub.start();
  ASSERT_TRUE(eventually([&] { return sub.connected(); }, 5s));
  std::this_thread::sleep_for(200ms);
  auto pub = publisher(broker.url());
  ASSERT_TRUE(eventually([&] { return pub->connected(); }, 5s));
  ASSERT_TRUE(pub->publish("oee/v1/s/a/l/m/events", std::string(1 << 20, 'x')));
  ASSERT_TRUE(pub->publish("oee/v1/s/a/l/m/events", "small"));
  ASSERT_TRUE(eventually([&] { std::lock_guard l(m); return sizes.size() == 2; }, 5s));
  EXPECT_EQ(sizes[0], std::make_pair(std::size_t{100}, std::size_t{1} << 20));
  EXPECT_EQ(sizes[1], std::make_pair(std::size_t{5}, std::size_t{5}));
}
