#include "oee/transport/mqtt_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mosquitto_process.h"

using namespace std::chrono_literals;
using oee::testing::eventually;
using oee::testing::MosquittoProcess;
using oee::transport::MqttClient;
using oee::transport::MqttHandlers;
using oee::transport::MqttOptions;
using oee::transport::parse_broker_url;

namespace {

// Collects what a subscriber receives.
struct Inbox {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::string>> messages;
  void add(std::string_view t, std::string_view p) {
    std::lock_guard l(m);
    messages.emplace_back(t, p);
    cv.notify_all();
  }
  bool wait_count(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock l(m);
    return cv.wait_for(l, timeout, [&] { return messages.size() >= n; });
  }
};

MqttOptions options(std::vector<std::string> brokers, std::string id) {
  MqttOptions o;
  o.brokers = std::move(brokers);
  o.client_id = std::move(id);
  o.reconnect_min = 200ms;  // tests wait less than the production 2 s
  o.reconnect_max = 1000ms;
  return o;
}

std::unique_ptr<MqttClient> subscriber(const std::string& url, const std::string& id, Inbox& inbox) {
  auto o = options({url}, id);
  o.subscriptions = {"oee/v1/#"};
  MqttHandlers h;
  h.on_message = [&inbox](std::string_view t, std::string_view p) { inbox.add(t, p); };
  auto c = std::make_unique<MqttClient>(o, h);
  c->start();
  return c;
}

}  // namespace

TEST(BrokerUrl, ParsesSchemesAndPorts) {
  std::string error;
  auto b = parse_broker_url("mqtt://127.0.0.1:1884", error);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "127.0.0.1");
  EXPECT_EQ(b->port, 1884);
  EXPECT_FALSE(b->tls);
  b = parse_broker_url("mqtts://broker.example", error);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->port, 8883);
  EXPECT_TRUE(parse_broker_url("localhost:1883", error));
  EXPECT_FALSE(parse_broker_url("http://x:1", error));
  EXPECT_FALSE(parse_broker_url("mqtt://x:99999", error));
  EXPECT_FALSE(parse_broker_url("mqtt://:1883", error));
}

TEST(MqttClient, PublishesQos1AndGetsPuback) {
  MosquittoProcess broker;
  broker.start();
  Inbox inbox;
  auto sub = subscriber(broker.url(), "test-sub", inbox);
  std::mutex m;
  std::set<int> acked;
  MqttHandlers h;
  h.on_published = [&](int mid, std::uint64_t) {
    std::lock_guard l(m);
    acked.insert(mid);
  };
  // The publisher starts once the subscriber is connected, hence subscribed: see mosquitto_process.h.
  ASSERT_TRUE(eventually([&] { return sub->connected(); }, 5s));
  MqttClient pub(options({broker.url()}, "test-pub"), h);
  pub.start();
  ASSERT_TRUE(eventually([&] { return pub.connected(); }, 5s));
  std::vector<int> mids;
  for (int i = 0; i < 100; ++i) {
    auto mid = pub.publish("oee/v1/s1/a1/l1/m1/events", "[{\"n\":" + std::to_string(i) + "}]");
    ASSERT_TRUE(mid);
    mids.push_back(*mid);
  }
  ASSERT_TRUE(eventually([&] { std::lock_guard l(m); return acked.size() == 100; }, 5s));
  ASSERT_TRUE(inbox.wait_count(100, 5s));
  EXPECT_EQ(inbox.messages[42].second, "[{\"n\":42}]");
}

TEST(MqttClient, PersistentSessionKeepsMessagesForAnAbsentSubscriber) {
  MosquittoProcess broker;
  broker.start();
  {
    Inbox first;
    auto sub = subscriber(broker.url(), "durable-sub", first);
    ASSERT_TRUE(eventually([&] { return sub->connected(); }, 5s));  // SUBSCRIBE went before DISCONNECT
    sub->stop();
  }
  std::atomic<int> acked{0};
  MqttHandlers h;
  h.on_published = [&](int, std::uint64_t) { ++acked; };
  MqttClient pub(options({broker.url()}, "pub2"), h);
  pub.start();
  ASSERT_TRUE(eventually([&] { return pub.connected(); }, 5s));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(pub.publish("oee/v1/x/events", std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return acked == 10; }, 5s));  // all ten wait in the absent session
  Inbox second;
  auto sub = subscriber(broker.url(), "durable-sub", second);
  ASSERT_TRUE(second.wait_count(10, 5s));
}

// How fast: bench/bench_mqtt_failover.cpp (a timing belongs in a benchmark, not a test).
TEST(MqttClient, FailsOverToTheSecondBroker) {
  MosquittoProcess a, b;
  a.start();
  b.start();
  MqttClient pub(options({a.url(), b.url()}, "failover-pub"), {});
  pub.start();
  ASSERT_TRUE(eventually([&] { return pub.connected(); }, 5s));
  EXPECT_EQ(pub.current_broker(), a.url());
  a.kill();
  ASSERT_TRUE(eventually([&] { return pub.connected() && pub.current_broker() == b.url(); }, 20s));
  EXPECT_TRUE(pub.publish("oee/v1/x/events", "after failover"));
}

TEST(MqttClient, ReconnectsWhenTheBrokerComesBack) {
  MosquittoProcess broker;
  broker.start();
  std::atomic<int> ups{0}, downs{0};
  MqttHandlers h;
  h.on_connection = [&](bool up, const std::string&) { (up ? ups : downs)++; };
  MqttClient pub(options({broker.url()}, "reconnect-pub"), h);
  pub.start();
  ASSERT_TRUE(eventually([&] { return pub.connected(); }, 5s));
  broker.stop();
  ASSERT_TRUE(eventually([&] { return !pub.connected(); }, 5s));
  EXPECT_FALSE(pub.publish("oee/v1/x/events", "nobody"));
  std::this_thread::sleep_for(1500ms);  // the subject: a few failed rounds with backoff while the broker is down
  broker.start();
  // The handler runs on the client's thread after connected() turns true: wait for both.
  ASSERT_TRUE(eventually([&] { return pub.connected() && ups.load() >= 2; }, 5s));
  EXPECT_EQ(ups.load(), 2);
  EXPECT_EQ(downs.load(), 1);
  EXPECT_EQ(pub.reconnects(), 1u);
}

TEST(MqttClient, AuthenticatesWithUserNameAndPassword) {
  oee::testing::TempDir dir;
  const std::string pw = dir.path + "/passwd";
  oee::testing::ChildProcess tool;
  tool.start({"/usr/bin/mosquitto_passwd", "-c", "-b", pw, "edge", "s3cret"});
  ASSERT_EQ(tool.wait(10000), 0);
  MosquittoProcess broker({}, pw);
  broker.start();
  auto wrong = options({broker.url()}, "auth-wrong");
  wrong.username = "edge";
  wrong.password = "nope";
  MqttClient refused(wrong, {});
  refused.start();
  auto right = options({broker.url()}, "auth-right");
  right.username = "edge";
  right.password = "s3cret";
  MqttClient accepted(right, {});
  accepted.start();
  ASSERT_TRUE(eventually([&] { return accepted.connected(); }, 5s));
  std::this_thread::sleep_for(500ms);  // the subject: time for the refused client to retry a few times
  EXPECT_FALSE(refused.connected());  // refused, retried with backoff, never a crash
}
