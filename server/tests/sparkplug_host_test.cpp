// The server as a Sparkplug B host application, against an independent edge node: Eclipse Tahu's
// JavaScript client (sparkplug-client 3.2.4, tests/sparkplug_tahu_node.js), through a Mosquitto the
// suite starts. One broker serves every case; each case has its own store, host and node.
#include <gtest/gtest.h>

#include <limits>
#include <mutex>

#include "eventually.h"
#include "mosquitto_process.h"
#include "oee/server/mqtt_ingest.h"
#include "oee/server/plant_service.h"
#include "oee/server/sparkplug_host.h"
#include "oee/sparkplug/payload_codec.h"
#include "oee/transport/mqtt_client.h"

namespace oee::server {
namespace {

using namespace std::chrono_literals;
using oee::testing::eventually;

constexpr const char* kPlant = R"(timezone: UTC
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [
  {id: filler, ideal_cycle_time_s: 1.0,
   sparkplug: {group: berlin, node: pet1-edge, device: filler,
               metrics: {"Status/State": state, "Counts/Total": "counter:total", "Counts/Reject": "counter:reject"}}},
  {id: twin, ideal_cycle_time_s: 1.0},
  {id: packer, ideal_cycle_time_s: 1.0,
   sparkplug: {group: berlin, node: pet3-edge, device: packer, metrics: {"Counts/Total": "counter:total"}}},
  {id: capper, ideal_cycle_time_s: 1.0, no_data_after_s: 5,
   sparkplug: {group: berlin, node: pet2-edge, device: capper, metrics: {"State": state}}}]}]}]}]
)";

// A controllable clock: the no-data case moves time on by hand.
struct TestClock {
  std::atomic<TimeMs> now{0};
};

class SparkplugHostTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = new oee::testing::MosquittoProcess();
    broker_->start();
  }
  static void TearDownTestSuite() {
    delete broker_;
    broker_ = nullptr;
  }
  void TearDown() override {
    if (host_) host_->stop();
    node_.kill();
    if (control_) control_->stop();
  }

  // A service over its own store and a host on it; `clock` null: the system clock.
  void start_host(const std::string& host_id, TestClock* clock = nullptr, DurationMs reorder_timeout_ms = 300) {
    Clock c = clock ? Clock([clock] { return clock->now.load(); }) : Clock(system_clock_ms);
    service_ = std::make_unique<PlantService>(plant::load_plant_yaml(kPlant, "plant.yaml"),
                                              [this](const PlantModel& p, const ShiftCalendar& cal) {
                                                return storage::open_sqlite_store(dir_.path + "/oee.sqlite", p, cal);
                                              },
                                              c);
    SparkplugHostConfig config;
    config.host_id = host_id;
    config.reorder_timeout_ms = reorder_timeout_ms;
    config.mqtt.brokers = {broker_->url()};
    config.mqtt.client_id = "host-" + host_id;
    config.mqtt.reconnect_min = 100ms;
    host_ = std::make_unique<SparkplugHost>(*service_, config);
    host_->start();
    ASSERT_TRUE(eventually([&] { return host_->connected(); }, 10s));
    start_control();
  }

  // The test's own MQTT client: drives the node (test/ctl/<node>) and sees its reports and STATE.
  void start_control() {
    transport::MqttOptions o;
    o.brokers = {broker_->url()};
    o.client_id = "control-" + std::to_string(++controls_);
    o.clean_session = true;
    o.subscriptions = {"test/evt/#", "spBv1.0/STATE/#"};
    transport::MqttHandlers h;
    h.on_message = [this](std::string_view topic, std::string_view payload) {
      std::lock_guard lock(mutex_);
      seen_.emplace_back(std::string(topic), std::string(payload));
    };
    control_ = std::make_unique<transport::MqttClient>(o, h);
    control_->start();
    ASSERT_TRUE(eventually([&] { return control_->connected(); }, 10s));
  }

  bool saw(const std::string& topic, const std::string& part, std::size_t times = 1) { return count(topic, part) >= times; }

  std::size_t count(const std::string& topic, const std::string& part) {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [t, p] : seen_) n += t == topic && p.find(part) != std::string::npos;
    return n;
  }

  void start_node(const std::string& node) {
    const std::size_t readies = count("test/evt/" + node, "\"ready\":true");
    node_.start({"/usr/bin/node", OEE_SPARKPLUG_TAHU_NODE, OEE_NODE_MODULES, broker_->url(), "berlin", node},
                dir_.path + "/" + node + ".log");
    ASSERT_TRUE(eventually([&] { return count("test/evt/" + node, "\"ready\":true") > readies; }, 30s)) << "the Tahu node did not start";
  }

  void command(const std::string& node, const std::string& json) {
    ASSERT_TRUE(control_->publish("test/ctl/" + node, json, 1).has_value());
  }

  std::vector<Event> events_of(const std::string& machine) {
    return service_->with_store([&](storage::EventStore& s) { return s.machine_events(machine, kTimeMin, kTimeMax); });
  }
  std::vector<storage::DeadLetter> dead_letters() {
    return service_->with_store([](storage::EventStore& s) { return s.dead_letters(std::numeric_limits<std::int64_t>::max(), 100); });
  }
  KpiTotals kpis(const std::string& machine, TimeMs from, TimeMs to) {
    auto rows = service_->node_kpis("s1/a1/l1/" + machine, Grouping::none, from, to);
    return rows.empty() ? KpiTotals{} : rows.front().totals;
  }

  static oee::testing::MosquittoProcess* broker_;
  oee::testing::TempDir dir_;
  std::unique_ptr<PlantService> service_;
  std::unique_ptr<SparkplugHost> host_;
  std::unique_ptr<transport::MqttClient> control_;
  oee::testing::ChildProcess node_;
  std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> seen_;
  int controls_ = 0;
};

oee::testing::MosquittoProcess* SparkplugHostTest::broker_ = nullptr;

std::string ms(TimeMs t) { return std::to_string(t); }

// Tahu's births and data (aliases, metric timestamps) make the same KPIs as the same events sent
// as JSON through the MQTT ingest; a metric no machine maps is ignored and counted.
TEST_F(SparkplugHostTest, KpisEqualThoseOfTheSameEventsSentAsJson) {
  start_host("oee-kpi");
  MqttIngest json(*service_, [] {
    transport::MqttOptions o;
    o.brokers = {broker_->url()};
    o.client_id = "json-ingest";
    o.reconnect_min = 100ms;
    return o;
  }());
  json.start();
  ASSERT_TRUE(eventually([&] { return json.connected(); }, 10s));
  start_node("pet1-edge");
  const TimeMs t0 = (system_clock_ms() / 60000) * 60000 - 3600000;
  command("pet1-edge", R"({"op":"birth","node_metrics":[{"name":"Uptime","type":"Int64","value":5}],"devices":{"filler":[
    {"name":"Status/State","alias":1,"type":"String","value":"running","timestamp":)" + ms(t0) + R"(},
    {"name":"Counts/Total","alias":2,"type":"Int64","value":0,"timestamp":)" + ms(t0) + R"(},
    {"name":"Counts/Reject","alias":3,"type":"Int64","value":0,"timestamp":)" + ms(t0) + R"(}]}})");
  const std::vector<std::pair<TimeMs, std::string>> data = {
      {t0 + 60000, R"({"alias":2,"type":"Int64","value":50})"},
      {t0 + 120000, R"({"alias":3,"type":"Int64","value":2},{"alias":2,"type":"Int64","value":100})"},
      {t0 + 180000, R"({"alias":1,"type":"String","value":"stopped"})"},
      {t0 + 300000, R"({"alias":1,"type":"String","value":"running"})"},
      {t0 + 400000, R"({"alias":2,"type":"Int64","value":180},{"name":"Debug/Temp","type":"Double","value":21.5})"}};
  for (const auto& [t, metrics] : data) {
    command("pet1-edge", R"({"op":"ddata","device":"filler","timestamp":)" + ms(t) + R"(,"metrics":[)" + metrics + "]}");
  }
  const std::string twin = "oee/v1/s1/a1/l1/twin/events";
  transport::MqttClient& publisher = *control_;
  ASSERT_TRUE(publisher.publish(twin, R"([{"ts":)" + ms(t0) + R"(,"type":"state","state":"running"},
    {"ts":)" + ms(t0) + R"(,"type":"counter","name":"total","value":0},{"ts":)" + ms(t0) + R"(,"type":"counter","name":"reject","value":0},
    {"ts":)" + ms(t0 + 60000) + R"(,"type":"counter","name":"total","value":50},
    {"ts":)" + ms(t0 + 120000) + R"(,"type":"counter","name":"reject","value":2},{"ts":)" + ms(t0 + 120000) + R"(,"type":"counter","name":"total","value":100},
    {"ts":)" + ms(t0 + 180000) + R"(,"type":"state","state":"stopped"},{"ts":)" + ms(t0 + 300000) + R"(,"type":"state","state":"running"},
    {"ts":)" + ms(t0 + 400000) + R"(,"type":"counter","name":"total","value":180}])", 1));
  ASSERT_TRUE(eventually([&] { return events_of("s1/a1/l1/filler").size() == 9 && events_of("s1/a1/l1/twin").size() == 9; }, 20s))
      << events_of("s1/a1/l1/filler").size() << " Sparkplug events, " << events_of("s1/a1/l1/twin").size() << " JSON events";
  const auto sparkplug_kpis = kpis("filler", t0, t0 + 600000);
  EXPECT_EQ(sparkplug_kpis, kpis("twin", t0, t0 + 600000));
  EXPECT_EQ(sparkplug_kpis.good_count + sparkplug_kpis.reject_count, 180);
  EXPECT_EQ(sparkplug_kpis.breakdown_ms, 120000);
  EXPECT_GE(host_->stats().unmapped_metrics, 2u);  // the node's Uptime, the device's Debug/Temp
  EXPECT_NE(service_->metrics().prometheus_text().find("oee_sparkplug_unmapped_metrics_total 2"), std::string::npos);
  json.stop();
}

// A seq gap the reorder timeout does not see filled: the held message is dead-lettered, the node
// is asked for a Rebirth (NCMD), Tahu answers with its births, and the data after them is taken.
TEST_F(SparkplugHostTest, SeqGapTriggersRebirthAndTheDataAfterItIsTaken) {
  start_host("oee-gap");
  start_node("pet3-edge");
  const TimeMs t0 = system_clock_ms() - 60000;
  command("pet3-edge", R"({"op":"birth","devices":{"packer":[{"name":"Counts/Total","alias":1,"type":"Int64","value":10,"timestamp":)" +
                           ms(t0) + "}]}}");
  command("pet3-edge", R"({"op":"skip_seq"})");
  command("pet3-edge", R"({"op":"ddata","device":"packer","timestamp":)" + ms(t0 + 1000) +
                           R"(,"metrics":[{"alias":1,"type":"Int64","value":20}]})");
  ASSERT_TRUE(eventually([&] { return saw("test/evt/pet3-edge", "\"rebirth\":1"); }, 20s)) << "no Rebirth answered";
  EXPECT_EQ(host_->stats().rebirths_requested, 1u);
  ASSERT_TRUE(eventually([&] { return host_->stats().births >= 4; }, 10s));  // NBIRTH+DBIRTH twice
  command("pet3-edge", R"({"op":"ddata","device":"packer","timestamp":)" + ms(t0 + 2000) +
                           R"(,"metrics":[{"alias":1,"type":"Int64","value":30}]})");
  ASSERT_TRUE(eventually([&] {
    for (const auto& e : events_of("s1/a1/l1/packer")) if (e.type == EventType::counter && e.value == 30) return true;
    return false;
  }, 10s)) << "the data after the Rebirth was not taken";
  bool held_dead_lettered = false;
  for (const auto& d : dead_letters()) held_dead_lettered |= d.reason.find("missing for the reorder timeout") != std::string::npos;
  EXPECT_TRUE(held_dead_lettered);
}

// NDEATH (the broker's will for a node that vanished, bdSeq matching its birth) makes the node's
// machines no data from then on; while the node lived, the host's heartbeats kept them in data;
// a new birth resumes them.
TEST_F(SparkplugHostTest, NodeDeathMakesItsMachinesNoDataAndABirthResumesThem) {
  TestClock clock;
  clock.now = (system_clock_ms() / 60000) * 60000 - 3600000;
  const TimeMs t0 = clock.now;
  start_host("oee-death", &clock);
  start_node("pet2-edge");
  command("pet2-edge", R"({"op":"birth","devices":{"capper":[{"name":"State","type":"String","value":"running","timestamp":)" +
                           ms(t0) + "}]}}");
  ASSERT_TRUE(eventually([&] { return events_of("s1/a1/l1/capper").size() >= 1; }, 20s));
  for (int step = 0; step < 7; ++step) {  // 21 s alive, reporting nothing by exception
    const auto beats = host_->stats().heartbeats;
    clock.now += 3000;  // past half of no_data_after_s: the next heartbeat is due
    ASSERT_TRUE(eventually([&] { return host_->stats().heartbeats > beats; }, 5s));
  }
  node_.kill();  // the broker publishes Tahu's will: NDEATH with the birth's bdSeq
  ASSERT_TRUE(eventually([&] { return host_->stats().deaths == 1; }, 20s));
  const TimeMs died = clock.now;
  clock.now += 60000;
  auto k = kpis("capper", t0, clock.now);
  EXPECT_EQ(k.no_data_ms, 60000) << "no data from the death on";
  EXPECT_EQ(k.running_ms, died - t0) << "alive (heartbeats) up to the death";
  start_node("pet2-edge");
  command("pet2-edge", R"({"op":"birth","devices":{"capper":[{"name":"State","type":"String","value":"running"}]}})");
  ASSERT_TRUE(eventually([&] { return host_->stats().births >= 4; }, 20s));
  const auto beats = host_->stats().heartbeats;
  clock.now += 3000;
  EXPECT_TRUE(eventually([&] { return host_->stats().heartbeats > beats; }, 5s)) << "a new birth resumes the heartbeats";
}

// A counter's `rollover` property (as our edge sends it) reaches the event: a reading below the
// previous one is a wrap, not a reset. A property that is no integer is dead-lettered.
TEST_F(SparkplugHostTest, CounterRolloverPropertyIsApplied) {
  start_host("oee-rollover");
  start_node("pet3-edge");
  const TimeMs t0 = (system_clock_ms() / 60000) * 60000 - 3600000;
  const std::string rollover = R"("properties":{"rollover":{"type":"UInt64","value":1000}})";
  command("pet3-edge", R"({"op":"birth","devices":{"packer":[{"name":"Counts/Total","alias":1,"type":"UInt64","value":990,)" +
                           rollover + R"(,"timestamp":)" + ms(t0) + "}]}}");
  // A minute later: 15 parts are plausible at 1 s a part, so the drop is a wrap, not a reset.
  command("pet3-edge", R"({"op":"ddata","device":"packer","timestamp":)" + ms(t0 + 60000) +
                           R"(,"metrics":[{"alias":1,"type":"UInt64","value":5,)" + rollover + "}]}");
  command("pet3-edge", R"({"op":"ddata","device":"packer","timestamp":)" + ms(t0 + 120000) +
                           R"(,"metrics":[{"alias":1,"type":"UInt64","value":7,"properties":{"rollover":{"type":"String","value":"x"}}}]})");
  ASSERT_TRUE(eventually([&] { return events_of("s1/a1/l1/packer").size() == 2 && !dead_letters().empty(); }, 20s));
  for (const auto& e : events_of("s1/a1/l1/packer")) EXPECT_EQ(e.rollover, 1000) << e.value;
  EXPECT_EQ(kpis("packer", t0, t0 + 180000).good_count, 15) << "990 -> 1000 = 0 -> 5 (a reset would make 5)";
  EXPECT_NE(dead_letters().front().reason.find("property 'rollover' needs an integer"), std::string::npos)
      << dead_letters().front().reason;
}

// After a restart the broker hands over data of nodes whose birth this host never saw: data naming
// every metric with its datatype is taken (and a Rebirth asked); data by alias cannot be read, so it
// is dead-lettered (and a Rebirth asked too).
TEST_F(SparkplugHostTest, DataOfANodeNotSeenSinceTheStartIsTakenUpWhenItNamesItsMetrics) {
  start_host("oee-restart");
  const TimeMs t0 = (system_clock_ms() / 60000) * 60000 - 3600000;
  auto ddata = [&](std::uint64_t seq, bool named, std::int64_t value) {
    sparkplug::pb::Payload p;
    p.set_seq(seq);
    auto* m = p.add_metrics();
    if (named) m->set_name("Counts/Total");
    else m->set_alias(1);
    m->set_timestamp(static_cast<std::uint64_t>(t0 + value * 1000));
    sparkplug::set_metric_value(*m, sparkplug::pb::UInt64, std::uint64_t(value));
    return sparkplug::encode_payload(p);
  };
  ASSERT_TRUE(control_->publish("spBv1.0/berlin/DDATA/pet3-edge/packer", ddata(17, true, 40), 1).has_value());
  ASSERT_TRUE(control_->publish("spBv1.0/berlin/DDATA/pet3-edge/packer", ddata(18, true, 45), 1).has_value());
  ASSERT_TRUE(control_->publish("spBv1.0/berlin/DDATA/pet1-edge/filler", ddata(3, false, 50), 1).has_value());
  ASSERT_TRUE(eventually([&] { return events_of("s1/a1/l1/packer").size() == 2 && dead_letters().size() == 1; }, 10s))
      << events_of("s1/a1/l1/packer").size() << " events, " << dead_letters().size() << " dead letters";
  EXPECT_EQ(events_of("s1/a1/l1/packer").back().value, 45);
  EXPECT_NE(dead_letters().front().reason.find("DDATA before the node's NBIRTH: Rebirth requested"), std::string::npos)
      << dead_letters().front().reason;
  EXPECT_EQ(host_->stats().rebirths_requested, 2u);  // one per node
}

// Bad payloads are dead-lettered with the reason; the host's STATE is retained online, and put back
// online when something reports it offline.
TEST_F(SparkplugHostTest, BadPayloadsAreDeadLetteredAndStateIsKeptOnline) {
  start_host("oee-state");
  EXPECT_TRUE(eventually([&] { return saw("spBv1.0/STATE/oee-state", "\"online\":true"); }, 10s));
  ASSERT_TRUE(control_->publish("spBv1.0/STATE/oee-state", R"({"online":false,"timestamp":1})", 1, true).has_value());
  EXPECT_TRUE(eventually([&] { return saw("spBv1.0/STATE/oee-state", "\"online\":true", 2); }, 10s));
  EXPECT_GE(host_->stats().state_published, 2u);
  ASSERT_TRUE(control_->publish("spBv1.0/berlin/DDATA/pet9-edge/x", std::string("\xff\xff\xff", 3), 1).has_value());
  sparkplug::pb::Payload wrong;
  auto* m = wrong.add_metrics();
  m->set_name("State");
  m->set_datatype(sparkplug::pb::Int32);
  m->set_string_value("running");
  ASSERT_TRUE(control_->publish("spBv1.0/berlin/NBIRTH/pet9-edge", sparkplug::encode_payload(wrong), 1).has_value());
  ASSERT_TRUE(eventually([&] { return dead_letters().size() >= 2; }, 10s));
  std::string reasons;
  for (const auto& d : dead_letters()) reasons += d.topic + ": " + d.reason + "\n";
  EXPECT_NE(reasons.find("spBv1.0/berlin/DDATA/pet9-edge/x: sparkplug: not a Sparkplug B payload"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("spBv1.0/berlin/NBIRTH/pet9-edge: sparkplug: metric 'State': Int32"), std::string::npos) << reasons;
  ASSERT_TRUE(control_->publish("spBv1.0/STATE/oee-state", "", 1, true).has_value());  // leave no retained STATE behind
}

}  // namespace
}  // namespace oee::server
