// `oee edge` with mqtt.format: sparkplug (a real child process) through a real Mosquitto, read by
// Eclipse Tahu's payload decoder (npm sparkplug-payload, tests/peer/sparkplug_payload.js): births,
// data, seq, bdSeq, the primary host's STATE, Rebirth, a broker outage replayed as historical.
// The edge runs the demo plant's simulator from a fixed start, so `oee simulate` of the same seed
// and start gives the events its metrics must carry.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "mosquitto_process.h"
#include "oee/codec/event_json.h"
#include "oee/transport/mqtt_client.h"

using namespace std::chrono_literals;
using nlohmann::json;
using oee::testing::ChildProcess;
using oee::testing::eventually;
using oee::testing::MosquittoProcess;
using oee::testing::TempDir;

namespace {

const std::string kPlant = std::string(OEE_SOURCE_DIR) + "/examples/demo-plant.yaml";
const std::string kPeer = std::string(OEE_SOURCE_DIR) + "/edge/tests/peer/sparkplug_payload.js";
constexpr std::int64_t kStartMs = 1793599200000;  // 2026-11-02T06:00:00Z, simulated

std::string node_topic(const std::string& type) { return "spBv1.0/plant/" + type + "/line1-edge"; }

struct Message {
  std::string topic, payload;
};

// Everything published under spBv1.0/#, in arrival order (a persistent session: what arrives while
// the broker restarts is kept for it).
class Recorder {
 public:
  explicit Recorder(const std::string& url) {
    oee::transport::MqttOptions o;
    o.brokers = {url};
    o.client_id = "sparkplug-recorder";
    o.reconnect_min = 100ms;
    o.reconnect_max = 500ms;
    o.subscriptions = {"spBv1.0/#"};
    oee::transport::MqttHandlers h;
    h.on_message = [this](std::string_view topic, std::string_view payload) {
      std::lock_guard l(m_);
      messages_.push_back({std::string(topic), std::string(payload)});
    };
    client_ = std::make_unique<oee::transport::MqttClient>(o, h);
    client_->start();
  }
  bool connected() const { return client_->connected(); }
  std::vector<Message> messages() const {
    std::lock_guard l(m_);
    return messages_;
  }
  std::size_t count(const std::string& topic_prefix) const {
    std::lock_guard l(m_);
    std::size_t n = 0;
    for (const auto& m : messages_) n += m.topic.rfind(topic_prefix, 0) == 0;
    return n;
  }
  // Publishes as the test's primary host or command sender.
  void publish(const std::string& topic, const std::string& payload, bool retain) {
    ASSERT_TRUE(client_->publish(topic, payload, 1, retain).has_value());
  }

 private:
  mutable std::mutex m_;
  std::vector<Message> messages_;
  std::unique_ptr<oee::transport::MqttClient> client_;
};

std::string state_json(bool online, std::int64_t ts) {
  return std::string("{\"online\":") + (online ? "true" : "false") + ",\"timestamp\":" + std::to_string(ts) + "}";
}

class SparkplugEdge {
 public:
  SparkplugEdge(const std::string& broker, const std::string& primary_host) {
    std::ofstream f(dir_.path + "/edge.yaml");
    f << "id: line1-edge\ndata_dir: " << dir_.path << "/data\ndrain_timeout_ms: 10000\n"
      << "mqtt:\n  brokers: [\"" << broker << "\"]\n  reconnect_min_ms: 100\n  reconnect_max_ms: 500\n"
      << "  format: sparkplug\n  sparkplug: {group: plant, node: line1-edge"
      << (primary_host.empty() ? "" : ", primary_host: " + primary_host) << "}\n"
      << "plant: " << kPlant << "\nsources:\n  - {type: simulator, seed: 7, speed: 600, start: " << kStartMs << "}\n";
  }
  void start() { process_.start({OEE_BINARY, "edge", "--config", dir_.path + "/edge.yaml"}, dir_.path + "/edge.log"); }
  int stop() {
    ::kill(process_.pid(), SIGTERM);
    return process_.wait(30000);
  }
  void kill() { process_.kill(); }
  std::string log() const {
    std::ifstream f(dir_.path + "/edge.log");
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  std::size_t log_count(const std::string& needle) const {
    const std::string l = log();
    std::size_t n = 0;
    for (std::size_t p = 0; (p = l.find(needle, p)) != std::string::npos; p += needle.size()) ++n;
    return n;
  }
  const std::string& dir() const { return dir_.path; }

 private:
  TempDir dir_;
  ChildProcess process_;
};

struct Decoded {
  std::string topic;
  json payload;
  std::string type() const {  // NBIRTH, DDATA, …: the topic's third level
    const auto a = topic.find('/', topic.find('/') + 1) + 1;
    return topic.substr(a, topic.find('/', a) - a);
  }
  std::string device() const {
    const auto n = std::count(topic.begin(), topic.end(), '/');
    return n == 4 ? topic.substr(topic.rfind('/') + 1) : "";
  }
};

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::string run_peer(const std::string& args, const std::string& dir) {
  const std::string out = dir + "/peer.out";
  const std::string cmd = "NODE_PATH=" + std::string(OEE_SOURCE_DIR) + "/node_modules node " + kPeer + " " + args + " > " + out;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return read_file(out);
}

// Our node's messages (STATE excluded), decoded by Tahu.
std::vector<Decoded> decode_node_messages(const std::vector<Message>& messages, const std::string& dir) {
  std::vector<Decoded> out;
  std::string files;
  for (const auto& m : messages) {
    if (m.topic.find("/line1-edge") == std::string::npos || m.topic.find("/NCMD/") != std::string::npos) continue;
    const std::string file = dir + "/msg-" + std::to_string(out.size()) + ".bin";
    std::ofstream(file, std::ios::binary) << m.payload;
    files += " " + file;
    out.push_back({m.topic, {}});
  }
  std::istringstream lines(run_peer("decode" + files, dir));
  std::string line;
  for (auto& d : out) {
    EXPECT_TRUE(std::getline(lines, line));
    d.payload = json::parse(line);
  }
  return out;
}

// One metric value as the simulated events say it: (device, name, timestamp, value).
using MetricKey = std::tuple<std::string, std::string, std::int64_t, std::string>;

std::string device_of(const std::string& machine) {
  std::string d = machine;
  std::replace(d.begin(), d.end(), '/', '.');
  return d;
}

// `oee simulate` of the edge's simulator (same plant, seed and start): the metrics its events make.
std::set<MetricKey> expected_metrics(const std::string& dir, std::int64_t to_ms) {
  const std::string file = dir + "/expected.jsonl";
  const std::string cmd = std::string(OEE_BINARY) + " simulate --plant " + kPlant + " --seed 7 --from " +
                          std::to_string(kStartMs) + " --to " + std::to_string(to_ms) + " --out " + file;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::set<MetricKey> out;
  std::ifstream f(file);
  std::string line, error;
  while (std::getline(f, line)) {
    oee::Event e;
    EXPECT_TRUE(oee::codec::parse_event(line, e, error)) << error;
    const std::string d = device_of(e.machine);
    switch (e.type) {
      case oee::EventType::state:
        out.insert({d, "state", e.ts, e.state});
        if (!e.reason.empty()) out.insert({d, "reason", e.ts, e.reason});
        break;
      case oee::EventType::counter:
        out.insert({d, "counter:" + std::string(oee::counter_name(e.counter)), e.ts, std::to_string(e.value)});
        break;
      case oee::EventType::count:
        if (e.good > 0) out.insert({d, "count:good", e.ts, std::to_string(e.good)});
        if (e.reject > 0) out.insert({d, "count:reject", e.ts, std::to_string(e.reject)});
        break;
      case oee::EventType::product: out.insert({d, "product", e.ts, e.product}); break;
      case oee::EventType::reason: out.insert({d, "reason", e.at, e.reason}); break;  // the stop it names
      case oee::EventType::heartbeat: break;
      default: ADD_FAILURE() << "the simulator made an event this test does not expect: " << line;
    }
  }
  return out;
}

std::string value_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  return v.dump();
}

// Every DDATA metric received (device, name, timestamp, value).
std::set<MetricKey> received_metrics(const std::vector<Decoded>& messages) {
  std::set<MetricKey> out;
  for (const auto& m : messages)
    if (m.type() == "DDATA")
      for (const auto& metric : m.payload["metrics"])
        out.insert({m.device(), metric["name"], metric["timestamp"].get<std::int64_t>(), value_text(metric["value"])});
  return out;
}

// Received metrics are the simulated ones: none wrong, none missing up to `complete_until_ms`.
void expect_metrics_equal_the_simulation(const std::vector<Decoded>& messages, const std::string& dir,
                                         std::int64_t complete_until_ms) {
  const auto received = received_metrics(messages);
  ASSERT_FALSE(received.empty());
  std::int64_t max_ts = 0;
  for (const auto& k : received) max_ts = std::max(max_ts, std::get<2>(k));
  const auto expected = expected_metrics(dir, max_ts + 1);
  std::size_t wrong = 0, missing = 0, compared = 0;
  for (const auto& k : received) wrong += expected.count(k) == 0;
  for (const auto& k : expected)
    if (std::get<2>(k) <= complete_until_ms) ++compared, missing += received.count(k) == 0;
  EXPECT_EQ(wrong, 0u) << "metrics that no simulated event says, of " << received.size();
  EXPECT_EQ(missing, 0u) << "simulated events whose metric never arrived, of " << compared;
  EXPECT_GT(compared, 1000u);
  // The simulated PLC's 16-bit counters carry their rollover.
  std::size_t counters = 0;
  for (const auto& m : messages)
    if (m.type() == "DDATA")
      for (const auto& x : m.payload["metrics"])
        if (x["name"] == "counter:total") {
          ++counters;
          EXPECT_EQ(x["properties"]["rollover"]["value"], 65536) << x.dump();
        }
  EXPECT_GT(counters, 0u);
}

std::int64_t bd_seq(const Decoded& m);

// Sessions as a host sees them: each NBIRTH and the messages after it up to the next NBIRTH or the
// NDEATH with its bdSeq (an older session's NDEATH ends nothing).
std::vector<std::vector<const Decoded*>> sessions(const std::vector<Decoded>& messages) {
  std::vector<std::vector<const Decoded*>> out;
  bool open = false;
  for (const auto& m : messages) {
    if (m.type() == "NBIRTH") out.emplace_back(), open = true;
    if (m.type() == "NDEATH") open = open && bd_seq(m) != bd_seq(*out.back().front());
    else if (open) out.back().push_back(&m);
  }
  return out;
}

// Within a session seq is 0, 1, … 255, 0, …: one per message, NBIRTH first.
void expect_seq_runs_and_wraps(const std::vector<const Decoded*>& session) {
  for (std::size_t k = 0; k < session.size(); ++k)
    ASSERT_EQ(session[k]->payload.value("seq", json()), k % 256) << "message " << k << " " << session[k]->topic << " "
                                                                  << session[k]->payload.dump().substr(0, 300);
}

const json& metric(const Decoded& m, const std::string& name) {
  static const json none;
  for (const auto& x : m.payload["metrics"])
    if (x["name"] == name) return x;
  return none;
}

std::int64_t bd_seq(const Decoded& m) { return metric(m, "bdSeq")["value"].get<std::int64_t>(); }

// An NBIRTH, then a DBIRTH for each of the demo plant's 12 machines with the simulator's 7 metrics.
void expect_births(const std::vector<const Decoded*>& session) {
  ASSERT_GE(session.size(), 13u);
  const Decoded& nbirth = *session[0];
  EXPECT_EQ(metric(nbirth, "bdSeq")["type"], "Int64");
  EXPECT_EQ(metric(nbirth, "Node Control/Rebirth")["type"], "Boolean");
  EXPECT_EQ(metric(nbirth, "Node Control/Rebirth")["value"], false);
  std::set<std::string> devices;
  for (std::size_t k = 1; k <= 12; ++k) {
    const Decoded& d = *session[k];
    ASSERT_EQ(d.type(), "DBIRTH");
    devices.insert(d.device());
    std::map<std::string, std::string> types;
    for (const auto& m : d.payload["metrics"]) types[m["name"]] = m["type"];
    EXPECT_EQ(types, (std::map<std::string, std::string>{{"count:good", "UInt64"}, {"count:reject", "UInt64"},
                                                         {"counter:reject", "UInt64"}, {"counter:total", "UInt64"},
                                                         {"product", "String"}, {"reason", "String"}, {"state", "String"}}))
        << d.topic;
  }
  EXPECT_EQ(devices.size(), 12u);
  EXPECT_EQ(devices.count("berlin.bottling.pet1.filler"), 1u);
}

std::size_t position(const std::vector<Message>& messages, const std::string& topic, const std::string& payload) {
  for (std::size_t i = 0; i < messages.size(); ++i)
    if (messages[i].topic == topic && messages[i].payload == payload) return i;
  return messages.size();
}

std::size_t first_position(const std::vector<Message>& messages, const std::string& topic) {
  for (std::size_t i = 0; i < messages.size(); ++i)
    if (messages[i].topic == topic) return i;
  return messages.size();
}

}  // namespace

// The node waits for its primary host's STATE online, births, publishes; the host going offline
// ends the session (NDEATH, reconnect, wait again); a clean stop sends NDEATH. Tahu decodes all of
// it: names, types, values, timestamps equal to the simulated events, seq 0-255 wrapping.
TEST(SparkplugEdge, WaitsForPrimaryHostStateBirthsPublishesTheSimulatedEventsTahuDecodesThem) {
  MosquittoProcess broker;
  broker.start();
  Recorder recorder(broker.url());
  ASSERT_TRUE(eventually([&] { return recorder.connected(); }, 5s));
  const std::string state_topic = "spBv1.0/STATE/scada";
  recorder.publish(state_topic, state_json(false, 1000), true);
  SparkplugEdge edge(broker.url(), "scada");
  edge.start();
  // The node has seen its host offline on its connection: no birth.
  ASSERT_TRUE(eventually([&] { return edge.log_count("primary host scada is offline") >= 1; }, 10s)) << edge.log();
  EXPECT_EQ(recorder.count(node_topic("NBIRTH")), 0u);
  recorder.publish(state_topic, state_json(true, 2000), true);
  ASSERT_TRUE(eventually([&] { return recorder.count(node_topic("DDATA")) >= 300; }, 30s)) << edge.log();
  // The host goes offline: NDEATH; the node connects again and waits for it.
  recorder.publish(state_topic, state_json(false, 3000), true);
  ASSERT_TRUE(eventually([&] { return recorder.count(node_topic("NDEATH")) >= 1; }, 10s)) << edge.log();
  ASSERT_TRUE(eventually([&] { return edge.log_count("primary host scada is offline") >= 3; }, 10s)) << edge.log();
  EXPECT_EQ(recorder.count(node_topic("NBIRTH")), 1u);
  // A stale online (older than the offline) is ignored; a new one births again.
  recorder.publish(state_topic, state_json(true, 2500), true);
  recorder.publish(state_topic, state_json(true, 4000), true);
  ASSERT_TRUE(eventually([&] { return recorder.count(node_topic("NBIRTH")) >= 2; }, 10s)) << edge.log();
  const std::size_t ddata = recorder.count(node_topic("DDATA"));
  ASSERT_TRUE(eventually([&] { return recorder.count(node_topic("DDATA")) >= ddata + 20; }, 20s)) << edge.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();  // drains the queue, then NDEATH
  ASSERT_TRUE(eventually([&] { return recorder.count(node_topic("NDEATH")) >= 2; }, 10s)) << edge.log();

  const auto raw = recorder.messages();
  EXPECT_LT(position(raw, state_topic, state_json(true, 2000)), first_position(raw, node_topic("NBIRTH")))
      << "the NBIRTH came before the host was online";
  const auto messages = decode_node_messages(raw, edge.dir());
  const auto s = sessions(messages);
  ASSERT_EQ(s.size(), 2u);
  for (const auto& session : s) {
    expect_births(session);
    expect_seq_runs_and_wraps(session);
  }
  EXPECT_GT(s[0].size(), 256u) << "seq never wrapped";
  std::set<std::int64_t> deaths;
  for (const auto& m : messages)
    if (m.type() == "NDEATH") {
      EXPECT_FALSE(m.payload.contains("seq"));
      deaths.insert(bd_seq(m));
    }
  // Each NDEATH names its session's birth: bdSeq 0, then 1 on the next connection. (The broker
  // may also send the first session's will, the same NDEATH, when it takes the new connection
  // before it reads the old one's DISCONNECT.)
  EXPECT_EQ(bd_seq(*s[0][0]), 0);
  EXPECT_EQ(bd_seq(*s[1][0]), 1);
  EXPECT_EQ(deaths, (std::set<std::int64_t>{0, 1}));
  // A clean stop drains: every simulated event up to the last one sent arrived, with its value and time.
  std::int64_t last_ts = 0;
  for (const auto& k : received_metrics(messages)) last_ts = std::max(last_ts, std::get<2>(k));
  expect_metrics_equal_the_simulation(messages, edge.dir(), last_ts);
  // Births carry the last value taken: the second session's filler state is one the first sent.
  const auto& filler_birth = *std::find_if(s[1].begin(), s[1].end(), [](const Decoded* d) { return d->device() == "berlin.bottling.pet1.filler"; });
  const auto& state = metric(*filler_birth, "state");
  ASSERT_TRUE(state["value"].is_string()) << filler_birth->payload.dump();
  EXPECT_EQ(received_metrics(messages).count({"berlin.bottling.pet1.filler", "state", state["timestamp"].get<std::int64_t>(),
                                              state["value"].get<std::string>()}),
            1u);
}

// A Rebirth command yields new births with the session's bdSeq; a broker outage is buffered on
// disk and replayed as historical after a new birth; a killed edge's will is its NDEATH.
TEST(SparkplugEdge, RebirthCommandBrokerOutageReplayedAsHistoricalAndTheWillIsNdeath) {
  MosquittoProcess broker;
  broker.start();
  auto recorder = std::make_unique<Recorder>(broker.url());
  ASSERT_TRUE(eventually([&] { return recorder->connected(); }, 5s));
  SparkplugEdge edge(broker.url(), "");
  edge.start();
  ASSERT_TRUE(eventually([&] { return recorder->count(node_topic("DDATA")) >= 50; }, 20s)) << edge.log();
  run_peer("rebirth " + edge.dir() + "/rebirth.bin", edge.dir());
  recorder->publish(node_topic("NCMD"), read_file(edge.dir() + "/rebirth.bin"), false);
  ASSERT_TRUE(eventually([&] { return recorder->count(node_topic("NBIRTH")) >= 2; }, 10s)) << edge.log();
  // The rebirth's DBIRTHs go out before its next DDATA: wait for one, so that the outage cuts no
  // birth short (under ASan it once came between the NBIRTH and the third DBIRTH).
  const std::size_t before_rebirth_data = recorder->count(node_topic("DDATA"));
  ASSERT_TRUE(eventually([&] { return recorder->count(node_topic("DDATA")) > before_rebirth_data; }, 20s)) << edge.log();

  broker.stop();  // the outage: the edge keeps acquiring into its queue
  ASSERT_TRUE(eventually([&] { return edge.log_count("lost") >= 1; }, 10s)) << edge.log();
  std::this_thread::sleep_for(2s);  // the subject: an outage of 2 s (about 20 simulated minutes)
  broker.start();
  ASSERT_TRUE(eventually([&] { return recorder->count(node_topic("NBIRTH")) >= 3; }, 20s)) << edge.log();
  const std::size_t ddata = recorder->count(node_topic("DDATA"));
  ASSERT_TRUE(eventually([&] { return recorder->count(node_topic("DDATA")) >= ddata + 50; }, 20s)) << edge.log();
  // (Messages queued for the recorder during the outage came before the third NBIRTH.)
  const std::size_t deaths = recorder->count(node_topic("NDEATH"));
  edge.kill();  // the broker sends the will
  ASSERT_TRUE(eventually([&] { return recorder->count(node_topic("NDEATH")) > deaths; }, 10s)) << edge.log();

  const auto messages = decode_node_messages(recorder->messages(), edge.dir());
  const auto s = sessions(messages);
  // Three births at least: the first, the rebirth, the one after the outage. A slow build (ASan)
  // may add one, a reconnect or a rebirth; each is a whole session all the same.
  ASSERT_GE(s.size(), 3u);
  for (const auto& session : s) {
    expect_births(session);
    expect_seq_runs_and_wraps(session);
  }
  EXPECT_EQ(bd_seq(*s[0][0]), bd_seq(*s[1][0])) << "a rebirth keeps the session's bdSeq";
  bool new_connection = false;
  for (std::size_t k = 1; k < s.size(); ++k) {
    const auto step = bd_seq(*s[k][0]) - bd_seq(*s[k - 1][0]);
    EXPECT_TRUE(step == 0 || step == 1) << "bdSeq goes up by one per connection, session " << k;
    new_connection = new_connection || step == 1;
  }
  EXPECT_TRUE(new_connection) << "a new connection is a new bdSeq";
  // The last NDEATH is the killed edge's will (the broker's shutdown may have sent the first session's).
  const auto death = std::find_if(messages.rbegin(), messages.rend(), [](const Decoded& m) { return m.type() == "NDEATH"; });
  ASSERT_NE(death, messages.rend());
  EXPECT_EQ(bd_seq(*death), bd_seq(*s.back()[0]));
  // After the outage each device's backlog comes first, flagged historical, then live data.
  std::size_t historical = 0;
  for (std::size_t k = 0; k < s.size(); ++k) {
    std::map<std::string, bool> live_seen;
    for (const Decoded* m : s[k]) {
      if (m->type() != "DDATA") continue;
      for (const auto& metric : m->payload["metrics"]) {
        const bool hist = metric.value("isHistorical", false);
        historical += k >= 2 && hist;
        if (hist) EXPECT_FALSE(live_seen[m->device()]) << "historical after live data in session " << k;
        else live_seen[m->device()] = true;
      }
    }
  }
  EXPECT_GT(historical, 100u) << "the outage's backlog was not flagged historical";
  // Nothing lost across the outage (the unacknowledged tail at the kill aside: 10 simulated minutes).
  std::int64_t last_ts = 0;
  for (const auto& k : received_metrics(messages)) last_ts = std::max(last_ts, std::get<2>(k));
  expect_metrics_equal_the_simulation(messages, edge.dir(), last_ts - 600'000);
}

// Device ids are machine paths with '.' for '/': machines that would share one, or a path that
// is no topic level, are refused before the edge starts (`oee edge --check`, exit 2).
TEST(SparkplugEdge, MachinesThatWouldShareADeviceIdAreRefusedAtCheck) {
  TempDir dir;
  auto check = [&](const std::string& lines) {
    std::ofstream(dir.path + "/plant.yaml") << "timezone: UTC\nsites: [{id: s, areas: [" << lines << "]}]\n";
    std::ofstream(dir.path + "/edge.yaml")
        << "id: e\ndata_dir: " << dir.path << "/data\nmqtt: {brokers: [\"mqtt://127.0.0.1:1\"], format: sparkplug,\n"
        << "  sparkplug: {group: g, node: n}}\nplant: plant.yaml\nsources: [{type: simulator}]\n";
    const std::string cmd = std::string(OEE_BINARY) + " edge --check --config " + dir.path + "/edge.yaml 2> " + dir.path + "/err";
    const int status = std::system(cmd.c_str());
    return std::make_pair(WEXITSTATUS(status), read_file(dir.path + "/err"));
  };
  const auto clash = check("{id: a, lines: [{id: l.m, machines: [{id: x, ideal_cycle_time_s: 1}]}]},"
                           "{id: a.l, lines: [{id: m, machines: [{id: x, ideal_cycle_time_s: 1}]}]}");
  EXPECT_EQ(clash.first, 2);
  EXPECT_NE(clash.second.find("machines 's/a.l/m/x' and 's/a/l.m/x' are both device 's.a.l.m.x'"), std::string::npos)
      << clash.second;
  const auto plus = check("{id: a, lines: [{id: l, machines: [{id: \"x+1\", ideal_cycle_time_s: 1}]}]}");
  EXPECT_EQ(plus.first, 2);
  EXPECT_NE(plus.second.find("machine 's/a/l/x+1' has '+' or '#' in its path"), std::string::npos) << plus.second;
  const auto fine = check("{id: a, lines: [{id: l, machines: [{id: x, ideal_cycle_time_s: 1}]}]}");
  EXPECT_EQ(fine.first, 0) << fine.second;
}
