// The topic names the machine (docs/mqtt.md): through a real Mosquitto, an event naming another
// machine than its topic's is dead-lettered with a reason naming both while the valid events of the
// same message are stored; with the broker's ACL of docs/operations.md, an edge user's publish to
// another line's topic never reaches the server, so the edge can only write its own machines.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <tuple>

#include "mosquitto_process.h"
#include "oee/server/mqtt_ingest.h"
#include "oee/server/plant_service.h"
#include "oee/transport/mqtt_client.h"

namespace oee::server {
namespace {

using namespace std::chrono_literals;
using oee::testing::eventually;

constexpr const char* kTwoLines = R"(timezone: UTC
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [{id: filler, ideal_cycle_time_s: 1.0}, {id: capper, ideal_cycle_time_s: 1.0}]},
                                         {id: l2, machines: [{id: press, ideal_cycle_time_s: 1.0}]}]}]}]
)";

class Ingest {
 public:
  explicit Ingest(const std::string& broker, const std::string& user = {}, const std::string& password = {})
      : service_(plant::load_plant_yaml(kTwoLines, "plant.yaml"), [this](const PlantModel& p, const ShiftCalendar& c) {
          return storage::open_sqlite_store(dir_.path + "/oee.sqlite", p, c);
        }) {
    transport::MqttOptions o;
    o.brokers = {broker};
    o.client_id = "oee-server-test";
    o.username = user;
    o.password = password;
    o.reconnect_min = 100ms;
    ingest_ = std::make_unique<MqttIngest>(service_, o);
    ingest_->start();
  }
  MqttIngest& ingest() { return *ingest_; }
  std::int64_t events_of(const std::string& machine) {
    return static_cast<std::int64_t>(service_.with_store([&](storage::EventStore& s) { return s.machine_events(machine, kTimeMin, kTimeMax); }).size());
  }
  std::vector<storage::DeadLetter> dead_letters() {
    return service_.with_store([](storage::EventStore& s) { return s.dead_letters(0, 100); });
  }

 private:
  oee::testing::TempDir dir_;
  PlantService service_;
  std::unique_ptr<MqttIngest> ingest_;
};

// A QoS 1 publisher that counts the broker's acknowledgements.
class Edge {
 public:
  Edge(const std::string& broker, const std::string& user = {}, const std::string& password = {}) {
    transport::MqttOptions o;
    o.brokers = {broker};
    o.client_id = "edge-test";
    o.clean_session = true;
    o.username = user;
    o.password = password;
    o.reconnect_min = 100ms;
    transport::MqttHandlers h;
    h.on_published = [this](int, std::uint64_t) { ++acked_; };
    client_ = std::make_unique<transport::MqttClient>(o, h);
    client_->start();
    EXPECT_TRUE(eventually([&] { return client_->connected(); }, 10s));
  }
  void publish(const std::string& topic, const std::string& payload) {
    const int want = ++sent_;
    ASSERT_TRUE(client_->publish(topic, payload, 1).has_value());
    ASSERT_TRUE(eventually([&] { return acked_.load() >= want; }, 10s));
  }
  // A publish the broker's ACL denies: Mosquitto answers with reason 135, which this MQTT 3.1.1
  // client takes as a protocol error, so the connection drops and comes back. Returns once the new
  // connection is up: a message published before that could go out on the dying one and be lost.
  void publish_denied(const std::string& topic, const std::string& payload) {
    const std::uint64_t generation = client_->generation();
    ++sent_;
    ASSERT_TRUE(client_->publish(topic, payload, 1).has_value());
    ASSERT_TRUE(eventually([&] { return client_->connected() && client_->generation() > generation; }, 10s));
    acked_ = sent_;
  }

 private:
  std::atomic<int> acked_{0};
  int sent_ = 0;
  std::unique_ptr<transport::MqttClient> client_;
};

const std::string kFillerTopic = "oee/v1/s1/a1/l1/filler/events";
// One valid filler event, one naming the press of the other line, one naming the capper of the same line.
const std::string kSpoofingMessage = R"([{"src":"e1","seq":1,"ts":"2026-11-10T06:00:00Z","type":"state","state":"running"},
  {"src":"e1","seq":2,"ts":"2026-11-10T06:00:01Z","type":"state","state":"stopped","machine":"s1/a1/l2/press"},
  {"src":"e1","seq":3,"ts":"2026-11-10T06:00:02Z","type":"state","state":"stopped","machine":"s1/a1/l1/capper"},
  {"src":"e1","seq":4,"ts":"2026-11-10T06:00:03Z","type":"state","state":"stopped","machine":"s1/a1/l1/filler"}])";

void expect_spoofs_dead_lettered(Ingest& server) {
  ASSERT_TRUE(eventually([&] { return server.ingest().stats().events_inserted >= 2; }, 10s));
  EXPECT_EQ(server.events_of("s1/a1/l1/filler"), 2);  // the valid events of the message (own machine, named or not)
  EXPECT_EQ(server.events_of("s1/a1/l2/press"), 0);
  EXPECT_EQ(server.events_of("s1/a1/l1/capper"), 0);
  EXPECT_EQ(server.ingest().stats().dead_letters, 2u);
  const auto letters = server.dead_letters();
  ASSERT_EQ(letters.size(), 2u);
  for (const auto& l : letters) {
    EXPECT_EQ(l.topic, kFillerTopic);
    EXPECT_NE(l.reason.find("on the events topic of machine 's1/a1/l1/filler'"), std::string::npos) << l.reason;
  }
  const std::string reasons = letters[0].reason + letters[1].reason;
  EXPECT_NE(reasons.find("names machine 's1/a1/l2/press'"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("names machine 's1/a1/l1/capper'"), std::string::npos) << reasons;
  const std::string payloads = letters[0].payload + letters[1].payload;
  EXPECT_NE(payloads.find("\"seq\":2"), std::string::npos) << payloads;  // the spoofed events themselves
  EXPECT_NE(payloads.find("\"seq\":3"), std::string::npos) << payloads;
}

TEST(MqttIngestSpoof, EventNamingAnotherMachineIsDeadLetteredAndTheRestStored) {
  oee::testing::MosquittoProcess broker;
  broker.start();
  Ingest server(broker.url());
  ASSERT_TRUE(eventually([&] { return server.ingest().connected(); }, 10s));
  Edge edge(broker.url());
  edge.publish(kFillerTopic, kSpoofingMessage);
  expect_spoofs_dead_lettered(server);
}

TEST(MqttIngestSpoof, AclAndTopicRuleConfineAnEdgeToItsLine) {
  oee::testing::TempDir dir;
  const std::string passwd = dir.path + "/passwd", acl = dir.path + "/acl";
  for (const auto& [user, pw, create] : {std::tuple{"edge", "edge-pw", true}, std::tuple{"oee-server", "server-pw", false}}) {
    oee::testing::ChildProcess tool;
    std::vector<std::string> argv = {"/usr/bin/mosquitto_passwd", "-b", passwd, user, pw};
    if (create) argv.insert(argv.begin() + 1, "-c");
    tool.start(argv);
    ASSERT_EQ(tool.wait(10000), 0);
  }
  // The ACL of docs/operations.md: the edge writes its line's events topics, the server reads all.
  std::ofstream(acl) << "user edge\ntopic write oee/v1/s1/a1/l1/+/events\nuser oee-server\ntopic read oee/v1/#\n";
  oee::testing::MosquittoProcess broker("acl_file " + acl + "\n", passwd);
  broker.start();
  Ingest server(broker.url(), "oee-server", "server-pw");
  ASSERT_TRUE(eventually([&] { return server.ingest().connected(); }, 10s));
  Edge edge(broker.url(), "edge", "edge-pw");
  // Another line's topic: the broker acknowledges and drops it (Mosquitto 2.0 logs "Denied PUBLISH").
  edge.publish_denied("oee/v1/s1/a1/l2/press/events", R"([{"src":"e1","seq":10,"ts":"2026-11-10T06:00:00Z","type":"state","state":"running"}])");
  // Then its own topic, with events naming other machines: the topic rule closes that hole. The
  // broker keeps one client's QoS 1 messages in order, so once this one is in, the first would be.
  edge.publish(kFillerTopic, kSpoofingMessage);
  expect_spoofs_dead_lettered(server);
  EXPECT_EQ(server.ingest().stats().messages, 1u);  // the other line's message never arrived
}

// An edge status that is no JSON object, or too long to keep whole, is dead-lettered with its reason
// and still kept as the edge's last status, as sent (the API names its problem); a good one is not.
TEST(MqttIngestEdgeStatus, OneThatIsNoObjectOrTooLongIsDeadLetteredAndStillKept) {
  oee::testing::MosquittoProcess broker;
  broker.start();
  Ingest server(broker.url());
  ASSERT_TRUE(eventually([&] { return server.ingest().connected(); }, 10s));
  Edge edge(broker.url());
  edge.publish("oee/v1/_edge/e1/status", "[1,2]");
  edge.publish("oee/v1/_edge/e2/status", R"({"edge":"e2","state":"online","pad":")" + std::string(5000, 'x') + "\"}");
  edge.publish("oee/v1/_edge/e3/status", R"({"edge":"e3","state":"online","queue_depth":0})");
  ASSERT_TRUE(eventually([&] { return server.ingest().edge_statuses().size() == 3; }, 10s));
  EXPECT_EQ(server.ingest().edge_statuses().at("e1"), "[1,2]");
  EXPECT_EQ(server.ingest().edge_statuses().at("e3"), R"({"edge":"e3","state":"online","queue_depth":0})");
  const auto letters = server.dead_letters();
  ASSERT_EQ(letters.size(), 2u);
  std::map<std::string, std::string> reasons;
  for (const auto& l : letters) reasons[l.topic] = l.reason;
  EXPECT_EQ(reasons["oee/v1/_edge/e1/status"], "edge status is not a JSON object");
  EXPECT_EQ(reasons["oee/v1/_edge/e2/status"], "edge status of 5039 bytes exceeds the limit of 4096 bytes");
  EXPECT_EQ(server.ingest().stats().dead_letters, 2u);
}

}  // namespace
}  // namespace oee::server
