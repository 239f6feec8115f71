// A broker that refuses a subscription: the subscriber reports the refusal (SUBACK 0x80) and never
// claims to be connected; it retries, and connects once the broker allows the subscription.
// (With an acl_file, Mosquitto 2.0 grants every subscription and only filters what it delivers,
// so no client can tell: the broker here uses the dynamic security plugin instead.)
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "mosquitto_process.h"
#include "oee/transport/mqtt_client.h"
#include "oee/transport/mqtt_subscriber.h"

using namespace std::chrono_literals;
using oee::testing::eventually;
using oee::testing::MosquittoProcess;
using oee::transport::AckingSubscriber;
using oee::transport::MqttOptions;
using oee::transport::ReceivedMessage;

namespace {

MqttOptions reader_options(const std::string& url) {
  MqttOptions o;
  o.brokers = {url};
  o.client_id = "refused-reader";
  o.username = "reader";
  o.password = "reader-pw";
  o.subscriptions = {"oee/v1/#", "plant/secret/#"};
  o.reconnect_min = 100ms;
  o.reconnect_max = 200ms;
  return o;
}

}  // namespace

TEST(AckingSubscriberRefused, RefusedSubscriptionIsAnErrorAndRetriedUntilTheBrokerAllowsIt) {
  oee::testing::DynsecMosquittoProcess b;
  b.start();
  // The reader may subscribe to oee/v1/# only (the plugin refuses any other subscription).
  ASSERT_TRUE(b.dynsec({"createClient", "reader", "-p", "reader-pw"}));
  ASSERT_TRUE(b.dynsec({"createRole", "readers"}));
  ASSERT_TRUE(b.dynsec({"addRoleACL", "readers", "subscribePattern", "oee/v1/#", "allow"}));
  ASSERT_TRUE(b.dynsec({"addClientRole", "reader", "readers"}));

  std::atomic<int> received{0};
  AckingSubscriber sub(reader_options(b.url()), [&](std::span<const ReceivedMessage> batch) {
    received += static_cast<int>(batch.size());
  });
  sub.start();
  // Refused on the first try and again on a retry, and never connected in between.
  std::atomic<bool> ever_connected{false};
  ASSERT_TRUE(eventually([&] {
    ever_connected = ever_connected || sub.connected();
    return sub.subscription_refusals() >= 2;
  }, 10s));
  EXPECT_FALSE(ever_connected);
  EXPECT_FALSE(sub.connected());

  // The operator allows the second filter (and lets the reader write there); the subscriber, still
  // retrying, gets in without a restart and receives what the filter matches.
  ASSERT_TRUE(b.dynsec({"addRoleACL", "readers", "subscribePattern", "plant/secret/#", "allow"}));
  ASSERT_TRUE(b.dynsec({"addRoleACL", "readers", "publishClientSend", "plant/secret/#", "allow"}));
  ASSERT_TRUE(eventually([&] { return sub.connected(); }, 10s));
  MqttOptions writer = reader_options(b.url());
  writer.client_id = "refused-writer";
  writer.subscriptions.clear();
  oee::transport::MqttClient pub(writer, oee::transport::MqttHandlers{});
  pub.start();
  ASSERT_TRUE(eventually([&] { return pub.connected(); }, 5s));
  ASSERT_TRUE(pub.publish("plant/secret/x", "1"));
  EXPECT_TRUE(eventually([&] { return received == 1; }, 5s));
  EXPECT_TRUE(sub.connected());
}
