// The edge agent (`oee edge`, a real child process) against real Mosquitto brokers and a pymodbus
// device on loopback: broker outage, edge SIGKILL with a torn queue tail, disk cap during an
// outage, broker failover, a bridge cut, and Modbus acquisition. A subscriber in the test collects
// what arrives and deduplicates on src+seq as the server does.
//
// Outages here last seconds, not the issue's 60 s: the mechanism (queue, backoff, redelivery) is
// the same and the suite stays within a few minutes. Reconnect backoff is 200 ms .. 1 s here.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <modbus/modbus.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <random>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "../../storage/tests/postgres_test_cluster.h"
#include "mosquitto_process.h"
#include "nats_cluster.h"
#include "oee/codec/commit_report.h"
#include "oee/codec/event_json.h"
#include "oee/core/time.h"
#include "oee/edge/durable_queue.h"
#include "oee/transport/mqtt_client.h"

using namespace std::chrono_literals;
using oee::testing::ChildProcess;
using oee::testing::eventually;
using oee::testing::MosquittoProcess;
using oee::testing::TempDir;

namespace {

const std::string kEdgeId = "it-edge";

// Subscribes to every event topic with a persistent session and keeps what arrives.
class Collector {
 public:
  Collector(const std::string& url, const std::string& client_id) {
    oee::transport::MqttOptions o;
    o.brokers = {url};
    o.client_id = client_id;
    o.reconnect_min = 200ms;
    o.reconnect_max = 1000ms;
    o.subscriptions = {"oee/v1/#"};
    oee::transport::MqttHandlers h;
    h.on_message = [this](std::string_view topic, std::string_view payload) { take(topic, payload); };
    client_ = std::make_unique<oee::transport::MqttClient>(o, h);
    client_->start();
  }

  void take(std::string_view topic, std::string_view payload) {
    std::lock_guard l(m_);
    if (topic.find("/_edge/") != std::string_view::npos) {
      last_status_ = std::string(payload);
      return;
    }
    // oee/v1/<site>/<area>/<line>/<machine>/events
    std::string_view machine = topic.substr(7);
    machine = machine.substr(0, machine.rfind('/'));
    std::vector<oee::Event> events;
    std::vector<oee::codec::RejectedEvent> rejected;
    std::string error;
    if (!oee::codec::parse_event_batch(payload, events, rejected, error, machine) || !rejected.empty()) {
      ++bad_messages_;
      return;
    }
    for (std::size_t p = 0; (p = payload.find("\"historical\":true", p)) != std::string_view::npos; ++p) ++historical_;
    for (const auto& e : events) {
      if (e.src != kEdgeId) continue;
      ++received_;
      if (!seqs_.insert(e.seq).second) ++duplicates_;
      if (e.type == oee::EventType::state) states_.insert(e.state);
      if (e.type == oee::EventType::counter) last_counter_ = e.value;
      if (e.type == oee::EventType::heartbeat) ++heartbeats_[std::string(machine)];
    }
  }

  bool connected() const { return client_->connected(); }
  std::size_t unique() const {
    std::lock_guard l(m_);
    return seqs_.size();
  }
  std::set<std::int64_t> seqs() const {
    std::lock_guard l(m_);
    return seqs_;
  }
  std::size_t historical() const {
    std::lock_guard l(m_);
    return historical_;
  }
  std::size_t duplicates() const {
    std::lock_guard l(m_);
    return duplicates_;
  }
  std::size_t bad_messages() const {
    std::lock_guard l(m_);
    return bad_messages_;
  }
  std::string last_status() const {
    std::lock_guard l(m_);
    return last_status_;
  }
  std::set<std::string> states() const {
    std::lock_guard l(m_);
    return states_;
  }
  std::int64_t last_counter() const {
    std::lock_guard l(m_);
    return last_counter_;
  }
  std::int64_t max_seq() const {
    std::lock_guard l(m_);
    return seqs_.empty() ? -1 : *seqs_.rbegin();
  }
  // `next_seq` of the newest edge status received (-1 before any).
  std::int64_t status_next_seq() const {
    const auto j = nlohmann::json::parse(last_status(), nullptr, false);
    return j.is_object() ? j.value("next_seq", std::int64_t{-1}) : -1;
  }
  std::size_t heartbeats(const std::string& machine) const {
    std::lock_guard l(m_);
    const auto it = heartbeats_.find(machine);
    return it == heartbeats_.end() ? 0 : it->second;
  }

 private:
  mutable std::mutex m_;
  std::set<std::int64_t> seqs_;
  std::set<std::string> states_;
  std::int64_t last_counter_ = -1;
  std::map<std::string, std::size_t> heartbeats_;  // by machine
  std::size_t received_ = 0, duplicates_ = 0, historical_ = 0, bad_messages_ = 0;
  std::string last_status_;
  std::unique_ptr<oee::transport::MqttClient> client_;
};

// An edge whose events only the test's Collector reads (no server sends commit reports): it keeps
// events until the broker acknowledged them, as before end-to-end acknowledgement.
const std::string kNoServer = "  commit_ack: false\n";

// One edge: its config, data dir and process.
class Edge {
 public:
  // `mqtt_extra`: more lines of the mqtt section (e.g. "  tls: {ca_file: …}\n"); edges talking to a
  // real `oee serve` pass "" (or their own lines) and acknowledge end to end.
  Edge(const std::vector<std::string>& brokers, const std::string& sources, std::uint64_t queue_max_bytes = 1ull << 30,
       const std::string& mqtt_extra = kNoServer)
      : brokers_(brokers), sources_(sources), queue_max_bytes_(queue_max_bytes), mqtt_extra_(mqtt_extra), data_dir_(dir_.path + "/data") {
    write_config();
  }
  // For the next start: other source lines, another data directory.
  void set_sources(const std::string& sources) {
    sources_ = sources;
    write_config();
  }
  void set_data_dir(const std::string& dir) {
    data_dir_ = dir;
    write_config();
  }
  void set_queue_max_bytes(std::uint64_t bytes) {
    queue_max_bytes_ = bytes;
    write_config();
  }
  void set_plant(const std::string& path) {
    plant_ = path;
    write_config();
  }
  void start() {
    log_at_start_ = log().size();
    process_.start({OEE_BINARY, "edge", "--config", dir_.path + "/edge.yaml"}, dir_.path + "/edge.log");
  }
  // This start's edge has opened its queue and started its sources (the log is appended to).
  bool running() const { return log().find("edge " + std::string(kEdgeId) + ": source ", log_at_start_) != std::string::npos; }
  int stop() {  // SIGTERM: sources stop, the queue drains (bounded), clean disconnect
    ::kill(process_.pid(), SIGTERM);
    return process_.wait(30000);
  }
  void kill() { process_.kill(); }
  void signal(int s) const { ::kill(process_.pid(), s); }
  std::string queue_dir() const { return data_dir_ + "/queue"; }
  // The queue's view once the edge is stopped: every id below next_id was accepted.
  oee::edge::DurableQueueStats queue_stats() const {
    oee::edge::DurableQueueOptions o;
    o.dir = queue_dir();
    return oee::edge::DurableQueue(o).stats();
  }
  std::string log() const {
    std::ifstream f(dir_.path + "/edge.log");
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

 private:
  void write_config() const {
    std::ofstream f(dir_.path + "/edge.yaml");
    f << "id: " << kEdgeId << "\n"
      << "data_dir: " << data_dir_ << "\n"
      << "queue: {max_bytes: " << queue_max_bytes_ << "}\n"
      << "drain_timeout_ms: 10000\n"
      << "mqtt:\n  brokers: [";
    for (std::size_t i = 0; i < brokers_.size(); ++i) f << (i ? ", " : "") << '"' << brokers_[i] << '"';
    f << "]\n  reconnect_min_ms: 200\n  reconnect_max_ms: 1000\n  status_interval_ms: 500\n" << mqtt_extra_
      << "plant: " << plant_ << "\n"
      << "sources:\n" << sources_;
  }

  TempDir dir_;
  std::vector<std::string> brokers_;
  std::string sources_;
  std::uint64_t queue_max_bytes_;
  std::string mqtt_extra_, data_dir_;
  std::string plant_ = std::string(OEE_SOURCE_DIR) + "/examples/demo-plant.yaml";
  std::size_t log_at_start_ = 0;
  ChildProcess process_;
};

// 12 simulated machines at 600x real time: about 2,000 events/s.
const std::string kSimulator = "  - {type: simulator, seed: 7, speed: 600}\n";

// Every accepted seq [from, next_id) arrived, each counted once after dedup.
void expect_complete(const std::set<std::int64_t>& seqs, std::uint64_t from, std::uint64_t next_id) {
  ASSERT_GT(next_id, from);
  std::uint64_t missing = 0;
  for (std::uint64_t s = from; s < next_id; ++s) missing += seqs.count(static_cast<std::int64_t>(s)) == 0;
  EXPECT_EQ(missing, 0u) << "of " << next_id - from << " events";
  EXPECT_EQ(seqs.size(), next_id - from);
  if (!seqs.empty()) {
    EXPECT_EQ(static_cast<std::uint64_t>(*seqs.begin()), from);
    EXPECT_EQ(static_cast<std::uint64_t>(*seqs.rbegin()), next_id - 1);
  }
}

}  // namespace

TEST(EdgeIntegration, BrokerOutageThenEveryEventArrivesOnce) {
  MosquittoProcess broker;
  broker.start();
  Collector collector(broker.url(), "it-collector-outage");
  ASSERT_TRUE(eventually([&] { return collector.connected(); }, 5s));
  Edge edge({broker.url()}, kSimulator);
  edge.start();
  ASSERT_TRUE(eventually([&] { return collector.unique() >= 2000; }, 20s)) << edge.log();
  broker.stop();  // the outage: the edge keeps acquiring into its queue
  std::this_thread::sleep_for(5s);  // the subject: an outage of 5 s
  broker.start();
  // The edge is back and its backlog arrives, marked: ~5 s of backfill at ~2,000 events/s.
  ASSERT_TRUE(eventually([&] { return collector.historical() > 5000; }, 20s)) << edge.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const auto q = edge.queue_stats();
  EXPECT_EQ(q.depth_records, 0u);
  ASSERT_TRUE(eventually([&] { return collector.unique() >= q.next_id; }, 20s));
  expect_complete(collector.seqs(), 0, q.next_id);
  EXPECT_EQ(collector.bad_messages(), 0u);
}

TEST(EdgeIntegration, EdgeSigkilledWithTornQueueTailLosesAndDuplicatesNothing) {
  MosquittoProcess broker;
  broker.start();
  Collector collector(broker.url(), "it-collector-kill");
  ASSERT_TRUE(eventually([&] { return collector.connected(); }, 5s));
  Edge edge({broker.url()}, kSimulator);
  for (int round = 0; round < 2; ++round) {
    edge.start();
    const std::size_t before = collector.unique();
    ASSERT_TRUE(eventually([&] { return collector.unique() >= before + 3000; }, 20s)) << edge.log();
    edge.kill();
    // A torn write: half a record header at the tail of the newest segment.
    std::filesystem::path newest;
    for (const auto& e : std::filesystem::directory_iterator(edge.queue_dir()))
      if (e.path().extension() == ".log" && e.path() > newest) newest = e.path();
    std::ofstream(newest, std::ios::app | std::ios::binary) << "\x40\x00\x00\x00\x12\x34";
  }
  const std::size_t before_restart = collector.unique();
  edge.start();
  // Past the torn tail, the edge publishes anew.
  ASSERT_TRUE(eventually([&] { return collector.unique() >= before_restart + 1000; }, 20s)) << edge.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const auto q = edge.queue_stats();
  EXPECT_EQ(q.depth_records, 0u);
  ASSERT_TRUE(eventually([&] { return collector.unique() >= q.next_id; }, 20s));
  expect_complete(collector.seqs(), 0, q.next_id);  // seq gapless across the restarts
  EXPECT_NE(edge.log().find("torn or corrupt"), std::string::npos);
}

TEST(EdgeIntegration, DiskCapDuringOutageEvictsOldestAndCounts) {
  // The collector's persistent session is made first, so that once the broker is back it keeps
  // what the edge sends even if the edge reconnects before the collector does.
  MosquittoProcess broker;
  broker.start();
  Collector collector(broker.url(), "it-collector-cap");
  ASSERT_TRUE(eventually([&] { return collector.connected(); }, 5s));
  broker.stop();  // a long outage from the edge's beginning
  Edge edge({broker.url()}, "  - {type: simulator, seed: 3, speed: 3000}\n", 1u << 20);
  edge.start();
  // Wait until the 1 MiB queue has evicted: the queue logs each eviction ("disk cap … reached:
  // evicted …"; the edge's start line says "0 evicted so far", which must not count).
  ASSERT_TRUE(eventually([&] { return edge.log().find("reached: evicted") != std::string::npos; }, 30s)) << edge.log();
  // The outage ends with a restart that raises the cap and slows the source, so that every eviction
  // happened while nothing was in flight: the evicted events are then exactly the oldest, ids
  // [0, evicted). (Left at 1 MiB and 3,000x, a loaded machine backfills slower than the simulator
  // produces, and the queue goes on evicting the backlog it is sending: some of those arrive and are
  // counted as evicted too, so the count is only an upper bound. CI saw exactly that.)
  edge.kill();
  const auto during_outage = edge.queue_stats();
  ASSERT_GT(during_outage.evicted_records, 0u);
  edge.set_queue_max_bytes(1ull << 30);
  edge.set_sources("  - {type: simulator, seed: 3, speed: 600}\n");
  edge.start();
  broker.start();
  // The edge is back and its backlog is through: it sends oldest first, so once an event it
  // accepted after a status since the reconnect has arrived, everything before it was sent or
  // evicted, and its stop has only the live tail to drain.
  std::int64_t backlog_end = -1;
  ASSERT_TRUE(eventually([&] {
    if (backlog_end < 0) backlog_end = collector.status_next_seq();
    return backlog_end >= 0 && collector.max_seq() >= backlog_end;
  }, 60s)) << edge.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const auto q = edge.queue_stats();
  EXPECT_EQ(q.evicted_records, during_outage.evicted_records) << "evicted after the outage";
  ASSERT_TRUE(eventually([&] { return collector.unique() + q.evicted_records >= q.next_id; }, 30s))
      << collector.unique() << " arrived + " << q.evicted_records << " evicted of " << q.next_id << ", queue depth "
      << q.depth_records << "\n" << edge.log();
  // The oldest went, every newer one arrived once, and the count is exact.
  const auto seqs = collector.seqs();
  ASSERT_FALSE(seqs.empty());
  EXPECT_EQ(static_cast<std::uint64_t>(*seqs.begin()), q.evicted_records);
  expect_complete(seqs, q.evicted_records, q.next_id);
  EXPECT_EQ(collector.duplicates(), 0u);
  // The status published as the edge stopped carries the final count.
  EXPECT_TRUE(eventually([&] {
    return collector.last_status().find("\"evicted_events\":" + std::to_string(q.evicted_records)) != std::string::npos;
  }, 10s)) << collector.last_status();
}

// How fast the failover is: bench/bench_mqtt_failover.cpp (a timing belongs in a benchmark).
TEST(EdgeIntegration, FailsOverToTheSecondBroker) {
  MosquittoProcess first, second;
  first.start();
  second.start();
  Collector on_first(first.url(), "it-collector-a");
  Collector on_second(second.url(), "it-collector-b");
  ASSERT_TRUE(eventually([&] { return on_first.connected() && on_second.connected(); }, 5s));
  Edge edge({first.url(), second.url()}, kSimulator);
  edge.start();
  ASSERT_TRUE(eventually([&] { return on_first.unique() >= 2000; }, 20s)) << edge.log();
  first.kill();
  // Events flow through the second broker (about a second's worth).
  ASSERT_TRUE(eventually([&] { return on_second.unique() >= 2000; }, 20s)) << edge.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const auto q = edge.queue_stats();
  EXPECT_EQ(q.depth_records, 0u);
  // The edge resends everything the first broker had not acknowledged; what the first broker
  // acknowledged but had not yet passed on when SIGKILLed died with it (a broker without
  // replication): at most the messages in its hands, reported here, not hidden.
  std::set<std::int64_t> all = on_first.seqs();
  const auto b = on_second.seqs();
  all.insert(b.begin(), b.end());
  ASSERT_TRUE(eventually([&] {
    std::set<std::int64_t> s = on_first.seqs();
    const auto t = on_second.seqs();
    s.insert(t.begin(), t.end());
    return s.size() >= q.next_id - 2000;
  }, 20s));
  all = on_first.seqs();
  for (auto s : on_second.seqs()) all.insert(s);
  const std::int64_t first_on_second = *b.begin();
  std::uint64_t lost_in_killed_broker = 0;
  for (std::int64_t s = 0; s < first_on_second; ++s) lost_in_killed_broker += all.count(s) == 0;
  std::printf("failover: %llu events acknowledged by the killed broker never left it\n",
              static_cast<unsigned long long>(lost_in_killed_broker));
  for (std::uint64_t s = static_cast<std::uint64_t>(first_on_second); s < q.next_id; ++s)
    ASSERT_EQ(all.count(static_cast<std::int64_t>(s)), 1u) << "seq " << s;
}

TEST(EdgeIntegration, BridgeCutAndRestoredLosesNothing) {
  MosquittoProcess central;
  central.start();
  MosquittoProcess line("connection central\naddress 127.0.0.1:" + std::to_string(central.port()) +
                        "\ntopic oee/v1/# out 1\ncleansession false\nremote_clientid bridge-line1\n"
                        "restart_timeout 1\nbridge_attempt_unsubscribe false\n");
  line.start();
  Collector collector(central.url(), "it-collector-central");
  ASSERT_TRUE(eventually([&] { return collector.connected(); }, 5s));
  Edge edge({line.url()}, kSimulator);
  edge.start();
  ASSERT_TRUE(eventually([&] { return collector.unique() >= 2000; }, 20s)) << edge.log();
  central.stop();  // the WAN is cut: the line broker queues for the bridge
  std::this_thread::sleep_for(4s);  // the subject: a cut of 4 s
  const std::size_t before_restore = collector.unique();
  central.start();
  // The bridge is back: what the line broker queued, and live events, reach the central broker.
  ASSERT_TRUE(eventually([&] { return collector.unique() >= before_restore + 2000; }, 30s)) << edge.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const auto q = edge.queue_stats();
  EXPECT_EQ(q.depth_records, 0u);
  ASSERT_TRUE(eventually([&] { return collector.unique() >= q.next_id; }, 30s));
  expect_complete(collector.seqs(), 0, q.next_id);
}

namespace {

// The pymodbus test device (edge/tests/peer/modbus_device.py) on a free port, owned by the caller.
struct ModbusDevice {
  ChildProcess process;
  TempDir logs;
  int port = oee::testing::free_loopback_port();
  ModbusDevice() {
    process.start({"/usr/bin/python3", std::string(OEE_SOURCE_DIR) + "/edge/tests/peer/modbus_device.py", std::to_string(port)},
                  logs.path + "/device.log");
  }
  bool ready() const { return oee::testing::wait_for_port(port, 15000); }
  // An edge's Modbus source polling it every 100 ms with these tag lines.
  std::string source(const std::string& tags) const {
    return "  - type: modbus\n    address: 127.0.0.1:" + std::to_string(port) + "\n    unit: 1\n    poll_ms: 100\n    tags:\n" + tags;
  }
};

}  // namespace

TEST(EdgeIntegration, ModbusDeviceStatesAndCountersArrive) {
  MosquittoProcess broker;
  broker.start();
  Collector collector(broker.url(), "it-collector-modbus");
  ASSERT_TRUE(eventually([&] { return collector.connected(); }, 5s));
  ModbusDevice device;
  ASSERT_TRUE(device.ready());
  const std::string machine = "berlin/bottling/pet1/filler";
  Edge edge({broker.url()},
            device.source("      - {register: holding:0, format: uint16, machine: " + machine + ", signal: state}\n"
                "      - {register: holding:1, format: uint32, word_order: big, machine: " + machine +
                ", signal: \"counter:total\", rollover: 4294967296}\n"
                "      - {register: input:0, format: float32, machine: " + machine + ", signal: \"sample:temperature\"}\n"
                "      - {register: coil:0, machine: " + machine + ", signal: \"sample:running\"}\n"));
  edge.start();
  ASSERT_TRUE(eventually([&] { return collector.states().size() >= 2 && collector.last_counter() > 30; }, 20s)) << edge.log();
  // The device is read: the machine's heartbeat (heartbeat_s default 10: the first poll sends one).
  ASSERT_TRUE(eventually([&] { return collector.heartbeats(machine) >= 1; }, 20s)) << edge.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const auto states = collector.states();
  EXPECT_TRUE(states.count("running")) << "raw 1 mapped through the plant's state map";
  EXPECT_TRUE(states.count("stopped"));
  const auto q = edge.queue_stats();
  ASSERT_TRUE(eventually([&] { return collector.unique() >= q.next_id; }, 10s));
  expect_complete(collector.seqs(), 0, q.next_id);
}

TEST(EdgeIntegration, OpcUaSubscriptionTagsArrive) {
  if (::access("/usr/bin/node", X_OK) != 0) GTEST_SKIP() << "no node.js for the OPC UA test server";
  MosquittoProcess broker;
  broker.start();
  Collector collector(broker.url(), "it-collector-opcua");
  ASSERT_TRUE(eventually([&] { return collector.connected(); }, 5s));
  const int port = oee::testing::free_loopback_port();
  ChildProcess server;
  TempDir logs;
  // node-opcua's test server of opcua/: Counter.Tick counts up every 100 ms. It offers only
  // secured endpoints, so the source's security keys must take effect (`best` picks one, our
  // certificate is made in pki_dir on first use).
  const std::string script = std::string(OEE_SOURCE_DIR) + "/opcua/tests/peer/server.js";
  const std::string launcher = "NODE_PATH=" + std::string(OEE_SOURCE_DIR) + "/node_modules exec /usr/bin/node " + script +
                               " --port " + std::to_string(port) + " --rate-ms 100" +
                               " --security-policies Basic256Sha256,Aes256_Sha256_RsaPss --security-modes Sign,SignAndEncrypt";
  server.start({"/bin/sh", "-c", launcher}, logs.path + "/opcua.log");
  ASSERT_TRUE(oee::testing::wait_for_port(port, 60000));
  const std::string machine = "berlin/bottling/pet1/filler";
  Edge edge({broker.url()}, "  - type: opcua\n    endpoint: opc.tcp://127.0.0.1:" + std::to_string(port) +
                                "\n    sampling_ms: 100\n    security_policy: best\n    pki_dir: " + logs.path +
                                "/pki\n    tags:\n"
                                "      - {node: \"ns=1;s=Counter.Tick\", machine: " + machine +
                                ", signal: \"counter:total\", rollover: 4294967296}\n"
                                "      - {node: \"ns=1;s=Scalar.UInt16\", machine: " + machine + ", signal: state}\n");
  edge.start();
  // The PKI does not know the server yet: its certificate lands in rejected/ and the source keeps
  // retrying; trusting it (moving the file to trusted/certs/) lets the data through.
  const std::filesystem::path rejected = logs.path + "/pki/rejected";
  // As an operator would, the test takes the finished certificate files: `*.der`, not hidden ones.
  const auto rejected_certificates = [&] {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& f : std::filesystem::directory_iterator(rejected, ec)) {
      const std::string name = f.path().filename().string();
      if (!name.starts_with('.') && name.ends_with(".der")) files.push_back(f.path());
    }
    return files;
  };
  ASSERT_TRUE(eventually([&] { return !rejected_certificates().empty(); }, 30s)) << edge.log();
  EXPECT_EQ(collector.last_counter(), -1);
  for (const auto& f : rejected_certificates()) {
    std::filesystem::rename(f, logs.path + "/pki/trusted/certs/" + f.filename().string());
  }
  std::int64_t first = -1;
  ASSERT_TRUE(eventually([&] { if (first < 0) first = collector.last_counter(); return first >= 0 && collector.last_counter() >= first + 10; }, 30s))
      << edge.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const auto q = edge.queue_stats();
  ASSERT_TRUE(eventually([&] { return collector.unique() >= q.next_id; }, 10s));
  expect_complete(collector.seqs(), 0, q.next_id);
  EXPECT_EQ(collector.states().size(), 1u);  // the UInt16 scalar's raw value, mapped or passed on
}

// ---- Edge -> Mosquitto -> `oee serve --mqtt` (server ingest into the store) ----

namespace {

// What a shell command prints.
std::string command_output(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// GET http://127.0.0.1:port/path as JSON (curl keeps the test free of an HTTP client).
// The API needs a token: the server under test gets this one as OEE_ADMIN_TOKEN.
const char* const kServerAdminToken = "edge-integration-test-admin-token";

nlohmann::json http_get_json(int port, const std::string& path) {
  // A generous limit: a sanitizer build answering a KPI query over hours of data on a busy machine.
  return nlohmann::json::parse(command_output("curl -s --max-time 60 -H 'Authorization: Bearer " + std::string(kServerAdminToken) +
                                              "' 'http://127.0.0.1:" + std::to_string(port) + path + "'"),
                               nullptr, false);
}

// `oee serve` with MQTT ingest is in this build (the server lands in steps).
bool serve_has_mqtt() {
  return command_output(std::string(OEE_BINARY) + " serve --help 2>&1").find("--mqtt") != std::string::npos;
}

class Server {
 public:
  explicit Server(const std::string& broker_url) : Server(std::vector<std::string>{broker_url}) {}
  // `extra`: more `oee serve` arguments (e.g. --mqtt-ca-file FILE).
  // `reconnect_ms`: the server's MQTT reconnect wait (min = max), 200 ms .. 1 s unless given.
  explicit Server(std::vector<std::string> brokers, std::vector<std::string> extra = {}, int reconnect_ms = 0)
      : port_(oee::testing::free_loopback_port()), brokers_(std::move(brokers)), extra_(std::move(extra)),
        reconnect_ms_(reconnect_ms) {}
  void start() {
    ::setenv("OEE_ADMIN_TOKEN", kServerAdminToken, 1);  // the child inherits it
    std::vector<std::string> argv = {OEE_BINARY, "serve", "--plant", plant_,
                                     "--mqtt-reconnect-min-ms", std::to_string(reconnect_ms_ ? reconnect_ms_ : 200),
                                     "--mqtt-reconnect-max-ms", std::to_string(reconnect_ms_ ? reconnect_ms_ : 1000),
                                     "--listen", "127.0.0.1:" + std::to_string(port_),
                                     "--data-dir", dir_.path + "/data"};
    for (const auto& b : brokers_) argv.insert(argv.end(), {"--mqtt", b});
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    process_.start(argv, dir_.path + "/serve.log");
    // A restart over a large store on a busy machine may take a while to listen.
    ASSERT_TRUE(oee::testing::wait_for_port(port_, 60000)) << log();
  }
  void kill() { process_.kill(); }
  void signal(int s) const { ::kill(process_.pid(), s); }
  int stop() {
    ::kill(process_.pid(), SIGTERM);
    return process_.wait(30000);
  }
  void set_plant(const std::string& path) { plant_ = path; }  // before start()
  int port() const { return port_; }
  // The edge's row of GET /api/v1/sources (null when absent).
  nlohmann::json source(const std::string& src) const {
    const auto list = http_get_json(port_, "/api/v1/sources");
    if (list.is_array())
      for (const auto& s : list)
        if (s.value("src", "") == src) return s;
    return nullptr;
  }
  // Every row of GET /api/v1/sources with this src (one per incarnation).
  std::vector<nlohmann::json> incarnations(const std::string& src) const {
    std::vector<nlohmann::json> rows;
    const auto list = http_get_json(port_, "/api/v1/sources");
    if (list.is_array())
      for (const auto& s : list)
        if (s.value("src", "") == src) rows.push_back(s);
    return rows;
  }
  std::int64_t stored(const std::string& src) const {
    const auto s = source(src);
    return s.is_object() ? s.value("events", std::int64_t{0}) : 0;
  }
  nlohmann::json dead_letters() const { return http_get_json(port_, "/api/v1/dead-letters?limit=1000"); }
  std::string log() const {
    std::ifstream f(dir_.path + "/serve.log");
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

 private:
  TempDir dir_;
  int port_;
  std::vector<std::string> brokers_;
  std::vector<std::string> extra_;
  int reconnect_ms_ = 0;
  std::string plant_ = std::string(OEE_SOURCE_DIR) + "/examples/demo-plant.yaml";
  ChildProcess process_;
};

// A source row of GET /api/v1/sources holding every seq in [0, next_id) once.
void expect_stored_once(const nlohmann::json& row, std::uint64_t next_id) {
  ASSERT_TRUE(row.is_object());
  EXPECT_EQ(row["events"].get<std::int64_t>(), static_cast<std::int64_t>(next_id)) << row.dump();  // none twice
  EXPECT_EQ(row["seq_min"].get<std::int64_t>(), 0);
  EXPECT_EQ(row["seq_max"].get<std::int64_t>(), static_cast<std::int64_t>(next_id) - 1);
  EXPECT_TRUE(row["gaps"].empty()) << row.dump();
}

// Stops the edge, then waits (up to 30 s) until the server holds as many of its events as it
// queued: the edge's source row and the queue's next id.
std::pair<nlohmann::json, std::uint64_t> stop_edge_and_collect(Edge& edge, const Server& server) {
  EXPECT_EQ(edge.stop(), 0) << edge.log();
  const std::uint64_t next_id = edge.queue_stats().next_id;
  nlohmann::json row;
  EXPECT_TRUE(eventually([&] {
    row = server.source(kEdgeId);
    return row.is_object() && row["events"].get<std::int64_t>() >= static_cast<std::int64_t>(next_id);
  }, 30s)) << row.dump() << server.log();
  return {row, next_id};
}

}  // namespace

TEST(ServerIngest, ServerSigkilledMidStreamLosesAndDoublesNothing) {
  if (!serve_has_mqtt()) GTEST_SKIP() << "oee serve has no --mqtt in this build";
  MosquittoProcess broker;
  broker.start();
  Server server(broker.url());
  server.start();
  Edge edge({broker.url()}, kSimulator, 1ull << 30, "");
  edge.start();
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) >= 3000; }, 30s)) << server.log() << edge.log();
  server.kill();  // mid-stream: messages in flight are not acknowledged, the broker keeps them
  std::this_thread::sleep_for(1500ms);  // the subject: the server stays down while the edge publishes on
  server.start();
  // The restarted server ingests again (what the broker kept for it, then live events).
  const std::int64_t after_restart = server.stored(kEdgeId);
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) > after_restart + 2000; }, 30s)) << server.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const auto q = edge.queue_stats();
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) >= static_cast<std::int64_t>(q.next_id); }, 60s))
      << server.stored(kEdgeId) << " of " << q.next_id << "\n" << server.log();
  expect_stored_once(server.source(kEdgeId), q.next_id);
  ASSERT_EQ(server.stop(), 0);
}

TEST(ServerIngest, PoisonMessagesGoToDeadLettersAndValidOnesAroundThemAreStored) {
  if (!serve_has_mqtt()) GTEST_SKIP() << "oee serve has no --mqtt in this build";
  MosquittoProcess broker;
  broker.start();
  Server server(broker.url());
  server.start();
  // Subscribed once it says so (SUBSCRIBE sent; see transport/tests/mosquitto_process.h).
  ASSERT_TRUE(eventually([&] { return server.log().find("mqtt subscriber: connected") != std::string::npos; }, 10s))
      << server.log();
  oee::transport::MqttOptions o;
  o.brokers = {broker.url()};
  o.client_id = "poison-publisher";
  oee::transport::MqttClient pub(o, {});
  pub.start();
  ASSERT_TRUE(eventually([&] { return pub.connected(); }, 5s));
  const std::string topic = "oee/v1/berlin/bottling/pet1/filler/events";
  auto valid = [](int seq) {
    return "[{\"src\":\"third-party\",\"seq\":" + std::to_string(seq) + ",\"ts\":\"2026-11-26T10:00:0" + std::to_string(seq) +
           "Z\",\"type\":\"count\",\"good\":1}]";
  };
  const std::vector<std::pair<std::string, std::string>> poison = {
      {topic, "{not json"},
      {topic, R"([{"ts":"2026-11-26T10:00:00Z","type":"count","good":"many"}])"},
      {topic, R"([{"ts":"yesterday","type":"state","state":"running"}])"},
      {"oee/v1/berlin/bottling/pet1/nosuchmachine/events", R"([{"ts":"2026-11-26T10:00:00Z","type":"state","state":"running"}])"},
      {"oee/v1/not/an/events/topic", "[]"},
      {topic, "[" + std::string(17 << 20, ' ') + "]"},
      {topic, R"([{"ts":"2026-11-26T10:00:00Z","type":"state","state":"exploded"}])"},
  };
  int seq = 0;
  for (const auto& [t, p] : poison) {
    ASSERT_TRUE(pub.publish(topic, valid(seq++)));
    ASSERT_TRUE(pub.publish(t, p));
  }
  ASSERT_TRUE(pub.publish(topic, valid(seq++)));
  ASSERT_TRUE(eventually([&] { return server.stored("third-party") == seq; }, 20s)) << server.log();
  ASSERT_TRUE(eventually([&] { return server.dead_letters().value("total", 0) >= 7; }, 10s)) << server.dead_letters().dump();
  const auto letters = server.dead_letters();
  std::string reasons;
  for (const auto& d : letters["items"]) {
    reasons += d.value("reason", "") + "\n";
    EXPECT_LE(d.value("payload", "").size(), 70u * 1024);  // bounded
    EXPECT_FALSE(d.value("topic", "").empty());
  }
  for (const char* expected : {"topic is not", "exceeds the limit", "nosuchmachine", "ts", "good"})
    EXPECT_NE(reasons.find(expected), std::string::npos) << expected << " in\n" << reasons;
  ASSERT_EQ(server.stop(), 0);
}

TEST(ServerIngest, EdgeAndServerFailOverToTheSecondBroker) {
  if (!serve_has_mqtt()) GTEST_SKIP() << "oee serve has no --mqtt in this build";
  MosquittoProcess first, second;
  first.start();
  second.start();
  Server server(std::vector<std::string>{first.url(), second.url()});
  server.start();
  Edge edge({first.url(), second.url()}, kSimulator, 1ull << 30, "  resend_after_ms: 2000\n");
  edge.start();
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) >= 2000; }, 30s)) << server.log() << edge.log();
  first.kill();
  const std::int64_t at_kill = server.stored(kEdgeId);
  // Both reconnect to the second broker and events flow again (how fast: bench/bench_mqtt_failover.cpp).
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) > at_kill + 2000; }, 30s)) << server.log() << edge.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const auto q = edge.queue_stats();
  EXPECT_EQ(q.depth_records, 0u);
  // What the killed broker had acknowledged but not delivered died with it (no replication); the
  // edge kept it until the server's commit reports showed it missing and sent it again: no gap,
  // nothing twice.
  ASSERT_TRUE(eventually([&] {
    const auto row = server.source(kEdgeId);
    return row.is_object() && row["events"].get<std::int64_t>() == static_cast<std::int64_t>(q.next_id);
  }, 30s)) << server.source(kEdgeId).dump() << "\n" << edge.log();
  expect_stored_once(server.source(kEdgeId), q.next_id);
  ASSERT_EQ(server.stop(), 0);
}

// The waits the edge's resend lines give ("... acknowledged N ms ago or more ..."), in order.
std::vector<long> resend_waits_ms(const std::string& log) {
  std::vector<long> waits;
  const std::string mark = "which the broker acknowledged ";
  for (std::size_t p = 0; (p = log.find(mark, p)) != std::string::npos; p += mark.size())
    waits.push_back(std::stol(log.substr(p + mark.size())));
  return waits;
}

// A server that only lags (it reports nothing committed while the broker acknowledges on): each
// resend doubles the wait before the next, up to 8 x resend_after_ms, where a fixed wait would
// resend the whole backlog every 300 ms into a server already behind. Once a report shows the
// server caught up, the wait is resend_after_ms again. The reports come from the test itself.
TEST(EdgeResend, AServerThatOnlyLagsGetsResendsEverLessOftenAndTheWaitIsWholeOnceCaughtUp) {
  MosquittoProcess broker;
  broker.start();
  Edge edge({broker.url()}, kSimulator, 1ull << 30, "  resend_after_ms: 300\n");
  edge.start();
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(edge.queue_dir() + "/incarnation"); }, 10s)) << edge.log();
  std::ifstream in(edge.queue_dir() + "/incarnation");
  std::string inc;
  std::getline(in, inc);
  oee::transport::MqttOptions o;
  o.brokers = {broker.url()};
  o.client_id = "lagging-server";
  oee::transport::MqttClient reports(o, {});
  reports.start();
  ASSERT_TRUE(eventually([&] { return reports.connected(); }, 5s));
  const std::string topic = oee::codec::commit_report_topic(kEdgeId);
  auto report = [&](std::int64_t seq_max) {
    const auto r = oee::codec::make_commit_report(kEdgeId, inc, seq_max < 0 ? -1 : 0, seq_max, {});
    return reports.publish(topic, oee::codec::commit_report_json(r));
  };
  // Nothing committed, every 100 ms, until five resends: 300, 600, 1200, 2400, 2400 ms.
  ASSERT_TRUE(eventually([&] { return resend_waits_ms(edge.log()).size() >= 5 || !report(-1); }, 30s)) << edge.log();
  const std::vector<long> expected = {300, 600, 1200, 2400, 2400};
  const std::vector<long> waits = resend_waits_ms(edge.log());
  EXPECT_EQ(std::vector<long>(waits.begin(), waits.begin() + 5), expected) << edge.log();
  // Caught up (everything committed), then lagging again: the next resend waits 300 ms.
  ASSERT_TRUE(report(std::int64_t{1} << 40));
  ASSERT_TRUE(eventually([&] { return resend_waits_ms(edge.log()).size() >= 6 || !report(-1); }, 30s)) << edge.log();
  EXPECT_EQ(resend_waits_ms(edge.log())[5], 300) << edge.log();
}

// TLS on both legs: the edge (libmosquitto) and the server (its acknowledging subscriber) reach a
// Mosquitto TLS listener by host name with a CA the test made; the plain listener is not used.
// The issue's broker restart: the broker SIGKILLed and started again empty (its persistence file
// gone, as after a crash without a recent save or a failover to a fresh broker). The edge
// reconnects first; the empty broker acknowledges its backlog and drops it, for the server's
// session is gone. The server's commit reports show the hole and the edge sends it again.
TEST(ServerIngest, BrokerRestartedEmptyLosesNothingAcknowledged) {
  if (!serve_has_mqtt()) GTEST_SKIP() << "oee serve has no --mqtt in this build";
  MosquittoProcess broker;
  broker.start();
  Server server(std::vector<std::string>{broker.url()}, {}, 6000);  // reconnects 5-7 s after a loss
  server.start();
  Edge edge({broker.url()}, kSimulator, 1ull << 30, "  resend_after_ms: 2000\n");
  edge.start();
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) >= 3000; }, 30s)) << server.log() << edge.log();
  broker.kill();
  std::filesystem::remove(broker.dir() + "/mosquitto.db");
  std::this_thread::sleep_for(2s);  // the subject: the broker stays down 2 s; the edge queues meanwhile
  broker.start();
  // The edge (200 ms .. 1 s backoff) is back seconds before the server: what it sends meanwhile,
  // the broker acknowledges to no one. Then the server is back and live events reach it.
  const std::int64_t before = server.stored(kEdgeId);
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) > before + 2000; }, 30s)) << server.log() << edge.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const auto q = edge.queue_stats();
  EXPECT_EQ(q.depth_records, 0u);
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) == static_cast<std::int64_t>(q.next_id); }, 30s))
      << server.source(kEdgeId).dump() << "\n" << edge.log();
  expect_stored_once(server.source(kEdgeId), q.next_id);
  const std::string log = edge.log();
  EXPECT_NE(log.find("sending again from seq"), std::string::npos) << "the broker lost nothing: the test proved nothing\n" << log;
  ASSERT_EQ(server.stop(), 0);
}

// Two servers sharing the ingest (one MQTT shared subscription, one PostgreSQL database): each
// publishes commit reports read from the shared store, so an edge gets whole answers from either;
// after the broker restarted empty the edge sends again what it lost, and nothing is stored twice.
TEST(ServerIngest, TwoServersOnOneDatabaseBrokerRestartedEmptyLoseNothing) {
  if (!serve_has_mqtt()) GTEST_SKIP() << "oee serve has no --mqtt in this build";
  const std::string db = oee::storage::testing::shared_postgres().create_database();
  MosquittoProcess broker;
  broker.start();
  auto server_args = [&](const std::string& id) {
    return std::vector<std::string>{"--storage", db, "--mqtt-client-id", id, "--mqtt-topic", "$share/servers/oee/v1/#"};
  };
  Server a(std::vector<std::string>{broker.url()}, server_args("oee-server-a"), 6000);
  Server b(std::vector<std::string>{broker.url()}, server_args("oee-server-b"), 6000);
  a.start();
  b.start();
  Edge edge({broker.url()}, kSimulator, 1ull << 30, "  resend_after_ms: 2000\n");
  edge.start();
  ASSERT_TRUE(eventually([&] { return a.stored(kEdgeId) >= 3000; }, 30s)) << a.log() << b.log() << edge.log();
  broker.kill();
  std::filesystem::remove(broker.dir() + "/mosquitto.db");
  std::this_thread::sleep_for(2s);  // the subject: the broker stays down 2 s; the edge queues meanwhile
  broker.start();
  const std::int64_t before = b.stored(kEdgeId);
  ASSERT_TRUE(eventually([&] { return b.stored(kEdgeId) > before + 2000; }, 30s)) << a.log() << b.log() << edge.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const auto q = edge.queue_stats();
  EXPECT_EQ(q.depth_records, 0u);
  ASSERT_TRUE(eventually([&] { return a.stored(kEdgeId) == static_cast<std::int64_t>(q.next_id); }, 30s))
      << a.source(kEdgeId).dump() << "\n" << edge.log();
  expect_stored_once(b.source(kEdgeId), q.next_id);
  EXPECT_NE(edge.log().find("sending again from seq"), std::string::npos) << "the broker lost nothing: the test proved nothing";
  ASSERT_EQ(a.stop(), 0);
  ASSERT_EQ(b.stop(), 0);
}

// An edge whose disk was replaced (its data directory wiped) starts its sequence at 0 again, under
// a new incarnation: the server stores its events beside the old incarnation's, none taken for a
// duplicate.
TEST(ServerIngest, EdgeWithAWipedDiskIsANewIncarnationNothingDropped) {
  if (!serve_has_mqtt()) GTEST_SKIP() << "oee serve has no --mqtt in this build";
  MosquittoProcess broker;
  broker.start();
  Server server(broker.url());
  server.start();
  Edge edge({broker.url()}, kSimulator, 1ull << 30, "");
  std::uint64_t accepted[2];
  for (int run = 0; run < 2; ++run) {
    edge.start();
    ASSERT_TRUE(eventually([&] {
      std::int64_t sum = 0;
      for (const auto& r : server.incarnations(kEdgeId)) sum += r.value("events", std::int64_t{0});
      return sum >= 2000 * (run + 1);
    }, 30s)) << server.log() << edge.log();
    ASSERT_EQ(edge.stop(), 0) << edge.log();
    const auto q = edge.queue_stats();
    EXPECT_EQ(q.depth_records, 0u);
    accepted[run] = q.next_id;
    std::filesystem::remove_all(edge.queue_dir());  // the disk is replaced
  }
  std::vector<nlohmann::json> rows;
  ASSERT_TRUE(eventually([&] {
    rows = server.incarnations(kEdgeId);
    std::int64_t sum = 0;
    for (const auto& r : rows) sum += r.value("events", std::int64_t{0});
    return rows.size() == 2 && sum == static_cast<std::int64_t>(accepted[0] + accepted[1]);
  }, 30s)) << nlohmann::json(rows).dump();
  EXPECT_NE(rows[0]["incarnation"], rows[1]["incarnation"]);
  for (const auto& r : rows) {
    EXPECT_FALSE(r["incarnation"].get<std::string>().empty());
    EXPECT_EQ(r["seq_min"].get<std::int64_t>(), 0);
    EXPECT_TRUE(r["gaps"].empty()) << r.dump();
  }
  ASSERT_EQ(server.stop(), 0);
}

TEST(ServerIngest, TlsFromTheEdgeThroughTheBrokerToTheServer) {
  if (!serve_has_mqtt()) GTEST_SKIP() << "oee serve has no --mqtt in this build";
  TempDir pki;
  const auto certs = oee::testing::make_test_certificates(pki.path);
  const int tls_port = oee::testing::free_loopback_port();
  MosquittoProcess broker(oee::testing::tls_listener_config(tls_port, certs, true));
  broker.start();
  ASSERT_TRUE(oee::testing::wait_for_port(tls_port, 5000));
  const std::string url = "mqtts://localhost:" + std::to_string(tls_port);
  Server server(std::vector<std::string>{url}, {"--mqtt-ca-file", certs.ca_file, "--mqtt-cert-file", certs.client_cert_file,
                                                "--mqtt-key-file", certs.client_key_file});
  server.start();
  Edge edge({url}, kSimulator, 1ull << 30,
            "  tls: {ca_file: " + certs.ca_file + ", cert_file: " + certs.client_cert_file + ", key_file: " + certs.client_key_file + "}\n");
  // (commit reports need the server's own TLS client: end to end over TLS too)
  edge.start();
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) >= 2000; }, 30s)) << server.log() << edge.log();
  const auto [row, next_id] = stop_edge_and_collect(edge, server);
  EXPECT_EQ(row["events"].get<std::int64_t>(), static_cast<std::int64_t>(next_id));
  EXPECT_TRUE(row["gaps"].empty()) << row.dump();
  ASSERT_EQ(server.stop(), 0);
  // A CA file that is not one: a clear refusal at start (exit 2), not a server that never connects.
  ChildProcess refused;
  refused.start({OEE_BINARY, "serve", "--plant", std::string(OEE_SOURCE_DIR) + "/examples/demo-plant.yaml", "--mqtt", url,
                 "--mqtt-ca-file", certs.server_key_file, "--listen", "127.0.0.1:0", "--data-dir", pki.path + "/refused"},
                pki.path + "/refused.log");
  EXPECT_EQ(refused.wait(20000), 2);
  std::ifstream log(pki.path + "/refused.log");
  EXPECT_NE(std::string(std::istreambuf_iterator<char>(log), {}).find("TLS CA file"), std::string::npos);
}

// Client certificates renewed while events flow: the files are replaced and both the edge and the
// server get SIGHUP (no restart). The broker (require_certificate, use_identity_as_username) then
// names the new certificate for the edge and for both of the server's clients, and every event
// the edge took is stored once.
TEST(ServerIngest, ClientCertificatesRenewedOnSighupLoseNothing) {
  if (!serve_has_mqtt()) GTEST_SKIP() << "oee serve has no --mqtt in this build";
  TempDir pki;
  const auto certs = oee::testing::make_test_certificates(pki.path);
  const std::string cert = pki.path + "/in-use.pem", key = pki.path + "/in-use.key";
  std::filesystem::copy_file(certs.client_cert_file, cert);
  std::filesystem::copy_file(certs.client_key_file, key);
  const int tls_port = oee::testing::free_loopback_port();
  MosquittoProcess broker(oee::testing::tls_listener_config(tls_port, certs, true) + "use_identity_as_username true\n");
  broker.start();
  ASSERT_TRUE(oee::testing::wait_for_port(tls_port, 5000));
  const std::string url = "mqtts://localhost:" + std::to_string(tls_port);
  Server server(std::vector<std::string>{url}, {"--mqtt-ca-file", certs.ca_file, "--mqtt-cert-file", cert, "--mqtt-key-file", key});
  server.start();
  Edge edge({url}, kSimulator, 1ull << 30, "  tls: {ca_file: " + certs.ca_file + ", cert_file: " + cert + ", key_file: " + key + "}\n");
  edge.start();
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) >= 500; }, 30s)) << server.log() << edge.log();
  const std::size_t clients = oee::testing::clients_connected_as(broker, "oee-test-client").size();
  ASSERT_GE(clients, 3u);  // the edge, the server's ingest and its commit reporter

  oee::testing::renew_client_certificate(pki.path, "oee-renewed-client", cert, key);
  server.signal(SIGHUP);
  edge.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return oee::testing::clients_connected_as(broker, "oee-renewed-client").size() == clients; }, 20s))
      << server.log() << edge.log();
  const std::int64_t at_renewal = server.stored(kEdgeId);
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) >= at_renewal + 500; }, 30s)) << server.log() << edge.log();
  const auto [row, next_id] = stop_edge_and_collect(edge, server);
  expect_stored_once(row, next_id);
  ASSERT_EQ(server.stop(), 0);
}

// Sample tags (`sample:NAME`): edge -> MQTT -> server storage -> the tag history route, beside
// the states and counters of the same Modbus device.
TEST(ServerIngest, ModbusSampleTagsReachTheTagHistory) {
  if (!serve_has_mqtt()) GTEST_SKIP() << "oee serve has no --mqtt in this build";
  MosquittoProcess broker;
  broker.start();
  Server server(broker.url());
  server.start();
  ModbusDevice device;
  ASSERT_TRUE(device.ready());
  const std::string machine = "berlin/bottling/pet1/filler";
  Edge edge({broker.url()},
            device.source("      - {register: holding:0, format: uint16, machine: " + machine + ", signal: state}\n"
                          "      - {register: input:0, format: float32, machine: " + machine + ", signal: \"sample:temperature\"}\n"
                          "      - {register: coil:0, machine: " + machine + ", signal: \"sample:running\"}\n"),
            1ull << 30, "");
  edge.start();
  const oee::TimeMs now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string window = "&from=" + oee::format_rfc3339(now_ms - oee::kMsPerHour) + "&to=" +
                             oee::format_rfc3339(now_ms + oee::kMsPerHour) + "&bucket_s=7200";
  auto history = [&](const std::string& tag) {
    const auto j = http_get_json(server.port(), "/api/v1/tags?machine=" + machine + "&tag=" + tag + window);
    return j.is_object() && j["buckets"].is_array() && j["buckets"].size() == 1 ? j["buckets"][0] : nlohmann::json::object();
  };
  ASSERT_TRUE(eventually([&] { return history("sample.temperature").value("samples", 0) >= 8; }, 30s))
      << http_get_json(server.port(), "/api/v1/tags?machine=" + machine + "&tag=sample.temperature" + window).dump() << edge.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const auto q = edge.queue_stats();
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) >= static_cast<std::int64_t>(q.next_id); }, 20s));
  EXPECT_TRUE(server.source(kEdgeId)["gaps"].empty());
  const auto temperature = history("sample.temperature");
  EXPECT_EQ(temperature["min"].get<double>(), 20.0);  // the device's ramp: 20.0 .. 22.5 in 0.5 steps
  EXPECT_EQ(temperature["max"].get<double>(), 22.5);
  EXPECT_GT(temperature["avg"].get<double>(), 20.0);
  EXPECT_LT(temperature["avg"].get<double>(), 22.5);
  const auto running = history("sample.running");
  EXPECT_EQ(running["min"].get<double>(), 0.0);
  EXPECT_EQ(running["max"].get<double>(), 1.0);
  EXPECT_GE(running["samples"].get<int>(), 2);
  EXPECT_TRUE(history("sample.nosuchtag").empty());  // a name with no samples: no bucket
  EXPECT_TRUE(http_get_json(server.port(), "/api/v1/tags?machine=" + machine + "&tag=sample." + window).contains("error"));
  ASSERT_EQ(server.stop(), 0);
}

// ---- Issue 16's runs from the edge: the PLC's order id register drives the runs. ----

namespace {

// Writes holding registers of the pymodbus device, as the PLC program would (libmodbus).
void write_holding(int port, int address, const std::vector<std::uint16_t>& values) {
  modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
  ASSERT_NE(ctx, nullptr);
  ASSERT_EQ(modbus_connect(ctx), 0) << modbus_strerror(errno);
  const int written = modbus_write_registers(ctx, address, static_cast<int>(values.size()), values.data());
  modbus_close(ctx);
  modbus_free(ctx);
  ASSERT_EQ(written, static_cast<int>(values.size())) << modbus_strerror(errno);
}

// The order registers: order id (uint32, holding 8..9), planned quantity (10), product (11).
void write_order(int port, std::uint32_t order, std::uint16_t quantity, std::uint16_t product) {
  write_holding(port, 8, {static_cast<std::uint16_t>(order >> 16), static_cast<std::uint16_t>(order & 0xFFFF), quantity, product});
}

// The run named `run` in a GET /api/v1/runs answer (an empty object when absent).
nlohmann::json run_named(const nlohmann::json& runs, const std::string& run) {
  if (runs.is_object() && runs.contains("runs") && runs["runs"].is_array())
    for (const auto& r : runs["runs"])
      if (r.value("run", "") == run) return r;
  return nlohmann::json::object();
}

oee::TimeMs instant_ms(const nlohmann::json& v) { return oee::parse_timestamp(v.get<std::string>()).value(); }

}  // namespace

// The edge reads the order id, quantity and product registers with the state and the counter; the
// test changes the order as the PLC program would (4711, then 4712, then none while the edge is
// stopped). /api/v1/runs lists
// the runs the register drove, with the product and quantity written with each order, one ending
// where the next starts, and each run's KPIs by run are the machine's KPIs over that run's span.
TEST(ServerIngest, ModbusOrderRegisterDrivesTheRunsAndTheirKpis) {
  if (!serve_has_mqtt()) GTEST_SKIP() << "oee serve has no --mqtt in this build";
  MosquittoProcess broker;
  broker.start();
  Server server(broker.url());
  server.start();
  ModbusDevice device;
  ASSERT_TRUE(device.ready());
  write_order(device.port, 0, 0, 0);  // no order before the edge starts
  const std::string machine = "berlin/bottling/pet1/filler";
  const std::string m = ", machine: " + machine;
  Edge edge({broker.url()},
            device.source("      - {register: holding:0" + m + ", signal: state}\n"
                          "      - {register: holding:1, format: uint32" + m + ", signal: \"counter:total\"}\n"
                          "      - {register: holding:8, format: uint32" + m + ", signal: run}\n"
                          "      - {register: holding:10" + m + ", signal: run_quantity}\n"
                          "      - {register: holding:11" + m + ", signal: product}\n"),
            1ull << 30, "");
  edge.start();
  const oee::TimeMs t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string window = "&from=" + std::to_string(t0 - oee::kMsPerHour) + "&to=" + std::to_string(t0 + oee::kMsPerHour);
  auto runs = [&] { return http_get_json(server.port(), "/api/v1/runs?machine=" + machine + window); };
  // Each order runs until it has made 30 good parts (the device counts 3 every 100 ms while running).
  auto run_made = [&](const std::string& run, int parts) {
    return eventually([&] { return run_named(runs(), run).value("good_count", 0) >= parts; }, 30s);
  };
  ASSERT_TRUE(eventually([&] { return edge.running(); }, 20s)) << edge.log();
  write_order(device.port, 4711, 500, 3);
  ASSERT_TRUE(run_made("4711", 30)) << runs().dump() << edge.log() << server.log();
  write_order(device.port, 4712, 200, 5);
  ASSERT_TRUE(run_made("4712", 30)) << runs().dump() << edge.log();
  // The PLC clears the order while the edge is down: the restarted edge ends the run it had started
  // (its open orders outlive the restart, data_dir/runs).
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  write_order(device.port, 0, 0, 0);
  edge.start();
  ASSERT_TRUE(eventually([&] {
    const auto r = run_named(runs(), "4712");
    return r.contains("end") && !r["end"].is_null();
  }, 30s)) << runs().dump();
  const auto [row, next_id] = stop_edge_and_collect(edge, server);
  expect_stored_once(row, next_id);
  EXPECT_EQ(server.dead_letters().value("total", -1), 0) << server.dead_letters().dump();  // no run start refused

  const auto list = runs();
  ASSERT_EQ(list["runs"].size(), 2u) << list.dump();
  const auto first = run_named(list, "4711"), second = run_named(list, "4712");
  ASSERT_FALSE(first.empty() || second.empty()) << list.dump();
  EXPECT_EQ(first["product"], "3");  // written with the order, read in the same poll
  EXPECT_EQ(first["quantity"], 500);
  EXPECT_EQ(second["product"], "5");
  EXPECT_EQ(second["quantity"], 200);
  EXPECT_EQ(first["end"], second["start"]) << "the new order ends the old one at the same poll";
  EXPECT_FALSE(second["end"].is_null());
  EXPECT_GE(first["good_count"].get<int>(), 30);
  EXPECT_EQ(first["remaining"].get<int>(), 500 - first["good_count"].get<int>());

  // KPIs by run: each run's figures are the machine's over its span.
  const auto by_run = http_get_json(server.port(), "/api/v1/kpis?node=" + machine + "&by=run" + window);
  ASSERT_TRUE(by_run.is_array() && by_run.size() == 2u) << by_run.dump();
  for (const auto& [k, report] : {std::pair{by_run[0], first}, std::pair{by_run[1], second}}) {
    EXPECT_EQ(k["run"], report["run"]);
    EXPECT_EQ(k["good_count"], report["good_count"]) << k.dump();
    EXPECT_EQ(k["from"], report["start"]);
    EXPECT_EQ(k["to"], report["end"]);
    const auto span = http_get_json(server.port(), "/api/v1/kpis?node=" + machine + "&from=" +
                                                       std::to_string(instant_ms(report["start"])) + "&to=" +
                                                       std::to_string(instant_ms(report["end"])));
    for (const char* f : {"availability", "performance", "quality", "oee", "run_time_s", "total_count"})
      EXPECT_EQ(k[f], span[f]) << f << ": " << k.dump() << " vs " << span.dump();
  }
  ASSERT_EQ(server.stop(), 0);
}

// ---- Issue 15's PackML acceptance: a node-opcua server exposes a PackML unit (opcua/tests/peer/
// server.js, OeeTest/Line1/Packer) whose PackTags change over a scripted run; the edge reads it with
// the PackTags preset (found by browse names), the plant maps its StateCurrent with `states:
// packml`, and `oee serve`'s KPIs are those computed by hand from the values the peer served. ----

TEST(ServerIngest, PackmlUnitMappedByThePresetsGivesTheHandComputedKpis) {
  if (!serve_has_mqtt()) GTEST_SKIP() << "oee serve has no --mqtt in this build";
  if (::access("/usr/bin/node", X_OK) != 0) GTEST_SKIP() << "no node.js for the OPC UA test server";
  TempDir dir;
  const std::string machine = "p1/a1/l1/packer";
  std::ofstream(dir.path + "/plant.yaml")
      << "timezone: UTC\nsites: [{id: p1, areas: [{id: a1, lines: [{id: l1, machines: "
         "[{id: packer, ideal_cycle_time_s: 1.0, states: packml}]}]}]}]\n";
  // The run's simulated start: two hours ago on the minute (every shift hour is planned: no shifts).
  const oee::TimeMs now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
  const oee::TimeMs t0 = now_ms / 60000 * 60000 - 2 * oee::kMsPerHour;
  const int port = oee::testing::free_loopback_port();
  ChildProcess peer;
  const std::string launcher = "NODE_PATH=" + std::string(OEE_SOURCE_DIR) + "/node_modules exec /usr/bin/node " +
                               OEE_SOURCE_DIR + "/opcua/tests/peer/server.js --port " + std::to_string(port) +
                               " --counters 1 --packml-start-ms " + std::to_string(t0);
  peer.start({"/bin/sh", "-c", launcher}, dir.path + "/opcua.log");
  ASSERT_TRUE(oee::testing::wait_for_port(port, 60000));
  const std::string url = "opc.tcp://127.0.0.1:" + std::to_string(port);

  MosquittoProcess broker;
  broker.start();
  Server server(broker.url());
  server.set_plant(dir.path + "/plant.yaml");
  server.start();
  Edge edge({broker.url()}, "  - type: opcua\n    endpoint: " + url + "\n    sampling_ms: 0\n    tags:\n"
                            "      - {preset: packml, node: \"ns=1;s=Packer\", machine: " + machine + "}\n", 1ull << 30, "");
  edge.set_plant(dir.path + "/plant.yaml");
  edge.start();
  ASSERT_TRUE(eventually([&] { return edge.log().find("subscribed") != std::string::npos; }, 30s)) << edge.log();
  EXPECT_EQ(edge.log().find("has no"), std::string::npos) << "every PackTag of the preset was found: " << edge.log();
  // Play the run (server.js kPackmlScript), then wait for its last values at the server.
  ASSERT_EQ(std::system((std::string(OEE_BINARY) + " opcua write " + url + " --node 'ns=1;s=Packer.Script.Go' --value true >/dev/null").c_str()), 0);
  const std::string kpis_path = "/api/v1/kpis?node=" + machine + "&from=" + oee::format_rfc3339(t0) +
                                "&to=" + oee::format_rfc3339(t0 + 2400 * 1000);
  nlohmann::json k;
  ASSERT_TRUE(eventually([&] {
    k = http_get_json(server.port(), kpis_path);
    return k.is_object() && k.value("total_count", 0) == 1400 && k.value("planned_downtime_s", 0.0) == 600.0;
  }, 30s)) << k.dump() << edge.log() << server.log();
  // By hand, over [t0, t0 + 40 min): Execute 0-10 min, Held 10-12 (stopped, reason 42), Execute
  // 12-20, Suspended 20-21 (starved), Execute 21-30, Complete 30-40 (planned stop). Planned time
  // 1,800 s, run time 1,620 s; AccCounts processed 0 -> 1,400, defective 0 -> 30; ideal cycle 1 s.
  EXPECT_EQ(k["planned_production_time_s"].get<double>(), 1800.0) << k.dump();
  EXPECT_EQ(k["run_time_s"].get<double>(), 1620.0);
  EXPECT_EQ(k["downtime_s"].get<double>(), 180.0);
  EXPECT_EQ(k["losses"]["breakdowns"].get<double>(), 120.0);
  EXPECT_EQ(k["losses"]["starved"].get<double>(), 60.0);
  EXPECT_EQ(k["good_count"].get<std::int64_t>(), 1370);
  EXPECT_EQ(k["reject_count"].get<std::int64_t>(), 30);
  EXPECT_NEAR(k["availability"].get<double>(), 1620.0 / 1800.0, 1e-9);
  EXPECT_NEAR(k["performance"].get<double>(), 1400.0 / 1620.0, 1e-9);
  EXPECT_NEAR(k["quality"].get<double>(), 1370.0 / 1400.0, 1e-9);
  EXPECT_NEAR(k["oee"].get<double>(), 1370.0 / 1800.0, 1e-9);
  // The stop reason (Admin.StopReason.ID) named the Held stop.
  const auto stops = http_get_json(server.port(), "/api/v1/stops?node=" + machine + "&from=" + oee::format_rfc3339(t0) +
                                                      "&to=" + oee::format_rfc3339(t0 + 1800 * 1000));
  bool held_has_reason = false;
  for (const auto& s : stops["items"])
    held_has_reason |= s.value("state", "") == "stopped" && s.value("duration_s", 0.0) == 120.0 && s.value("reason", "") == "42";
  EXPECT_TRUE(held_has_reason) << stops.dump();
  // The speeds are samples: MachSpeed 60, CurMachSpeed 60 / 0 / 55.
  const auto speed = http_get_json(server.port(), "/api/v1/tags?machine=" + machine + "&tag=sample.CurMachSpeed&from=" +
                                                      oee::format_rfc3339(t0) + "&to=" + oee::format_rfc3339(t0 + 2400 * 1000) +
                                                      "&bucket_s=2400");
  ASSERT_EQ(speed["buckets"].size(), 1u) << speed.dump();
  EXPECT_EQ(speed["buckets"][0]["max"].get<double>(), 60.0);
  EXPECT_EQ(speed["buckets"][0]["min"].get<double>(), 0.0);
  EXPECT_TRUE(server.dead_letters().value("items", nlohmann::json::array()).empty()) << server.dead_letters().dump();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  ASSERT_EQ(server.stop(), 0);
}

// ---- Acceptance of issue 4, as written: the broker stopped for 60 s while the edge produces
// >= 1K events/s, then restarted: every event is stored exactly once, and the KPIs equal those of
// an undisturbed run over the same simulated data (`oee simulate` + `oee replay` offline). ----

namespace {

// Every "online" status the edge published (oee/v1/_edge/<id>/status), as the test sees it through
// the broker. A persistent session (the broker keeps it across its restart) so that the statuses
// published while this watcher reconnects are queued for it, not lost: the edge's first status after
// a reconnect, published before the backfill starts, is the one that shows the outage's backlog.
class StatusWatcher {
 public:
  explicit StatusWatcher(const std::string& url) : StatusWatcher(std::vector<std::string>{url}) {}
  explicit StatusWatcher(std::vector<std::string> brokers) {
    oee::transport::MqttOptions o;
    o.brokers = std::move(brokers);
    o.client_id = "it-status-watcher";
    o.clean_session = false;
    o.reconnect_min = 200ms;
    o.reconnect_max = 1000ms;
    o.subscriptions = {"oee/v1/_edge/+/status"};
    oee::transport::MqttHandlers h;
    h.on_message = [this](std::string_view, std::string_view payload) {
      auto j = nlohmann::json::parse(payload, nullptr, false);
      if (!j.is_object() || j.value("state", "") != "online" || !j.contains("ts")) return;
      const auto ts = oee::parse_timestamp(j["ts"].get<std::string>());
      if (!ts) return;
      std::lock_guard l(m_);
      all_.emplace_back(*ts, std::move(j));
    };
    client_ = std::make_unique<oee::transport::MqttClient>(o, h);
    client_->start();
  }
  nlohmann::json last() const {
    std::lock_guard l(m_);
    return all_.empty() ? nlohmann::json() : all_.back().second;
  }
  std::uint64_t received() const {
    std::lock_guard l(m_);
    return all_.size();
  }
  // The statuses the edge stamped at or after `since_ms` (a retained copy of an older one, which the
  // broker hands out again on every subscription, is left out), oldest first.
  std::vector<nlohmann::json> since(oee::TimeMs since_ms) const {
    std::lock_guard l(m_);
    std::vector<std::pair<oee::TimeMs, nlohmann::json>> picked;
    for (const auto& s : all_)
      if (s.first >= since_ms) picked.push_back(s);
    std::stable_sort(picked.begin(), picked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<nlohmann::json> out;
    for (auto& p : picked) out.push_back(std::move(p.second));
    return out;
  }

 private:
  mutable std::mutex m_;
  std::vector<std::pair<oee::TimeMs, nlohmann::json>> all_;
  std::unique_ptr<oee::transport::MqttClient> client_;
};

// Runs a shell command; its output, and whether it exited 0.
std::string run_checked(const std::string& cmd, bool& ok) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) {
    ok = false;
    return out;
  }
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ok = ::pclose(p) == 0;
  return out;
}

// An event as a comparable text: its JSON without the identity the edge adds (src, seq, inc) and
// the backlog mark, so that an event of the edge's queue matches the same event simulated offline.
std::string event_content(nlohmann::json e) {
  for (const char* key : {"src", "seq", "inc", "historical"}) e.erase(key);
  return e.dump();
}

// The content of a queue record (`<machine>\t<event JSON>`, docs/edge.md).
std::string queued_event_content(const std::string& payload) {
  const auto tab = payload.find('\t');
  auto e = nlohmann::json::parse(payload.substr(tab + 1));
  e["machine"] = payload.substr(0, tab);
  return event_content(std::move(e));
}

// Drops from a JSONL event file one line per event of `left_out` (queue records). Returns the
// contents of those it did not find.
std::vector<std::string> leave_out_events(const std::string& file, const std::vector<std::string>& left_out) {
  std::map<std::string, int> wanted;
  for (const auto& r : left_out) ++wanted[queued_event_content(r)];
  std::ifstream in(file);
  std::ofstream out(file + ".kept");
  for (std::string line; std::getline(in, line);) {
    const auto it = wanted.find(event_content(nlohmann::json::parse(line)));
    if (it != wanted.end() && it->second > 0)
      --it->second;
    else
      out << line << '\n';
  }
  out.close();
  std::filesystem::rename(file + ".kept", file);
  std::vector<std::string> not_found;
  for (const auto& [content, n] : wanted) not_found.insert(not_found.end(), static_cast<std::size_t>(n), content);
  return not_found;
}

// The KPIs the server gives for [start, window_end) — the plant and each of its 12 machines — equal
// those of the same plant, seed and start simulated offline and replayed (`oee simulate` + `oee
// replay`, as of known_until, which the stored data must reach), without the events `lost` (queue
// records the server never got: an edge's wiped disk).
void expect_kpis_of_the_undisturbed_run(const Server& server, int seed, oee::TimeMs start, oee::TimeMs window_end,
                                        oee::TimeMs known_until, std::uint64_t stored, const char* label,
                                        const std::vector<std::string>& lost = {}) {
  TempDir work;
  const std::string plant = std::string(OEE_SOURCE_DIR) + "/examples/demo-plant.yaml";
  const std::string events = work.path + "/undisturbed.jsonl";
  const std::string from = oee::format_rfc3339(start), to = oee::format_rfc3339(window_end);
  bool ok = false;
  const std::string simulated = run_checked(std::string(OEE_BINARY) + " simulate --plant " + plant + " --seed " +
                                                std::to_string(seed) + " --from " + from + " --to " +
                                                oee::format_rfc3339(known_until) + " --out " + events, ok);
  ASSERT_TRUE(ok) << simulated;
  if (!lost.empty()) {
    // Each lost event is one of the undisturbed run's, but for heartbeats (which an offline
    // simulation does not make) and events after known_until (which it does not reach).
    const auto not_found = leave_out_events(events, lost);
    for (const auto& content : not_found) {
      const auto e = nlohmann::json::parse(content);
      EXPECT_TRUE(e.value("type", "") == "heartbeat" || *oee::parse_timestamp(e.value("ts", "")) >= known_until) << content;
    }
    std::printf("%s: the undisturbed run without the %zu events lost (%zu of them heartbeats or later)\n", label,
                lost.size(), not_found.size());
  }
  std::set<std::string> machines;
  {
    std::ifstream in(events);
    for (std::string line; std::getline(in, line);) machines.insert(nlohmann::json::parse(line)["machine"].get<std::string>());
  }
  ASSERT_EQ(machines.size(), 12u);
  std::vector<std::string> nodes = {""};
  nodes.insert(nodes.end(), machines.begin(), machines.end());
  for (const auto& node : nodes) {
    const std::string node_arg = node.empty() ? "" : " --node " + node;
    const std::string offline = run_checked(std::string(OEE_BINARY) + " replay --plant " + plant + " --events " + events +
                                                " --from " + from + " --to " + to + " --as-of " +
                                                oee::format_rfc3339(known_until) + node_arg, ok);
    ASSERT_TRUE(ok) << offline;
    const auto online = http_get_json(server.port(), "/api/v1/kpis?from=" + from + "&to=" + to + (node.empty() ? "" : "&node=" + node));
    const auto expected = nlohmann::json::parse(offline, nullptr, false);
    ASSERT_TRUE(online.is_object()) << node;
    ASSERT_TRUE(expected.is_object()) << offline;
    EXPECT_GT(expected.value("total_count", 0), 0) << node;
    EXPECT_EQ(online, expected) << "node '" << node << "'";
    if (node.empty() && online == expected)
      std::printf("%s: %llu events stored once each; plant [%s, %s): OEE %s, %s parts, same as the undisturbed run\n", label,
                  static_cast<unsigned long long>(stored), from.c_str(), to.c_str(), online.value("oee", nlohmann::json()).dump().c_str(),
                  online.value("total_count", nlohmann::json()).dump().c_str());
  }
}

}  // namespace

TEST(EdgeAcceptance, BrokerDownSixtySecondsEveryEventStoredOnceKpisEqualAnUndisturbedRun) {
  if (!serve_has_mqtt()) GTEST_SKIP() << "oee serve has no --mqtt in this build";
  constexpr auto kOutage = 60s;
  constexpr int kSpeed = 600;  // 12 simulated machines at 600x real time: about 2,000 events/s
  // The simulated plant starts a day ago at a whole hour: at 600x its clock stays in the past (no
  // event from the server's future) and covers the 9 hours compared below within the outage.
  const oee::TimeMs now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
  const oee::TimeMs start = oee::floor_to(now_ms - 24 * oee::kMsPerHour, oee::kMsPerHour);
  const oee::TimeMs window_end = start + 8 * oee::kMsPerHour;  // compared: [start, window_end)
  const oee::TimeMs known_until = window_end + oee::kMsPerHour;  // the data must reach past it

  MosquittoProcess broker;
  broker.start();
  Server server(broker.url());
  server.start();
  StatusWatcher status(broker.url());
  Edge edge({broker.url()}, "  - {type: simulator, seed: 7, speed: " + std::to_string(kSpeed) + ", start: " +
                                std::to_string(start) + "}\n", 1ull << 30, "");
  edge.start();
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) >= 2000 && status.received() > 0; }, 30s))
      << server.log() << edge.log();

  const auto before = status.last();  // at most one status interval (500 ms) old
  const oee::TimeMs stopped_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch()).count();
  broker.stop();
  std::this_thread::sleep_for(kOutage);  // the subject: the issue's 60 s outage
  broker.start();
  // The edge's first status after the restart, published before its backfill, tells how much it
  // accepted while the broker was away and that all of it waited in its queue.
  ASSERT_TRUE(eventually([&] { return !status.since(stopped_ms).empty(); }, 30s)) << edge.log();
  const auto after = status.since(stopped_ms).front();
  const double outage_s =
      static_cast<double>(*oee::parse_timestamp(after["ts"].get<std::string>()) - *oee::parse_timestamp(before["ts"].get<std::string>())) / 1000.0;
  const double produced = after["next_seq"].get<double>() - before["next_seq"].get<double>();
  std::printf("acceptance: %.0f events accepted in %.1f s across the outage: %.0f events/s; %.0f queued at reconnect\n",
              produced, outage_s, produced / outage_s, after["queue_depth"].get<double>());
  EXPECT_GE(outage_s, 60.0);
  // The rate (the issue's >= 1K events/s) is printed, not asserted: rates belong in bench/, whose
  // edge pipeline rows measure the edge far above it. At any rate, the outage's events waited in
  // the edge's queue, less at most what was acknowledged between `before` and the stop (one status
  // interval, 500 ms; 1 s allowed).
  ASSERT_GT(produced, 0.0);
  EXPECT_GE(after["queue_depth"].get<double>(), produced - produced / outage_s * 1.0)
      << "the outage's events waited in the edge's queue";

  // Backfill while the edge keeps acquiring, until its queue is back to live depth; then stop it.
  auto newest = [&] {
    const auto s = status.since(stopped_ms);
    return s.empty() ? nlohmann::json::object() : s.back();
  };
  ASSERT_TRUE(eventually([&] { return newest().value("queue_depth", 1e9) < 5000; }, 180s)) << newest().dump();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const auto q = edge.queue_stats();
  EXPECT_EQ(q.depth_records, 0u);
  nlohmann::json row;
  ASSERT_TRUE(eventually([&] {
    row = server.source(kEdgeId);
    return row.is_object() && row["events"].get<std::int64_t>() >= static_cast<std::int64_t>(q.next_id);
  }, 120s)) << row.dump() << " of " << q.next_id << "\n" << server.log();

  // Exactly once: every seq the edge accepted is stored, none twice, no gap.
  EXPECT_EQ(row["events"].get<std::int64_t>(), static_cast<std::int64_t>(q.next_id));
  EXPECT_EQ(row["seq_min"].get<std::int64_t>(), 0);
  EXPECT_EQ(row["seq_max"].get<std::int64_t>(), static_cast<std::int64_t>(q.next_id) - 1);
  EXPECT_TRUE(row["gaps"].empty()) << row.dump();
  const auto letters = server.dead_letters();
  EXPECT_EQ(letters.is_object() ? letters.value("total", -1) : -1, 0) << letters.dump();
  // The stored data covers the hour after the window: no unknown time there.
  const auto tail = http_get_json(server.port(), "/api/v1/kpis?from=" + oee::format_rfc3339(window_end) +
                                                     "&to=" + oee::format_rfc3339(known_until));
  ASSERT_TRUE(tail.is_object()) << tail.dump();
  ASSERT_EQ(tail.value("unknown_time_s", -1.0), 0.0) << tail.dump();

  expect_kpis_of_the_undisturbed_run(server, 7, start, window_end, known_until, q.next_id, "acceptance");
  ASSERT_EQ(server.stop(), 0);
}

// ---- The chaos run: a schedule drawn from a seed SIGKILLs and restarts the edge, the server and
// the broker (which comes back empty, its persistence file gone) while the edge's simulated plant
// streams through them; once it wipes the edge's disk, once it fills the small filesystem the edge's
// queue lives on while the broker is down. At the end every event the edge accepted is stored
// exactly once but for those the wipe took (counted from the wiped queue), nothing was evicted, and
// the KPIs equal those of an undisturbed run of the same plant without the events the wipe took.
// The longer version (more faults, minutes) is bench/chaos_run.sh. OEE_CHAOS_SEED picks another
// schedule. ----

namespace {

struct Fault {
  enum Kind { edge, server, broker, wipe, fill } kind;
  std::chrono::milliseconds at, down;
};

const char* fault_name(Fault::Kind k) {
  switch (k) {
    case Fault::edge: return "edge";
    case Fault::server: return "server";
    case Fault::broker: return "broker (empty)";
    case Fault::wipe: return "edge and wipe its disk";
    case Fault::fill: return "broker (empty), fill the edge's filesystem";
  }
  return "?";
}

std::vector<Fault> chaos_schedule(std::uint64_t seed, int faults, std::chrono::milliseconds span) {
  std::mt19937_64 rng(seed);
  const auto draw = [&](Fault::Kind kind) {
    const auto at = std::chrono::milliseconds(2000 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(span.count())));
    return Fault{kind, at, std::chrono::milliseconds(300 + static_cast<std::int64_t>(rng() % 2700))};
  };
  std::vector<Fault> out;
  for (int i = 0; i < faults; ++i) out.push_back(draw(static_cast<Fault::Kind>(rng() % 3)));
  for (int kind = 0; kind < 3; ++kind)  // each kind at least once, whatever the draw
    if (std::none_of(out.begin(), out.end(), [&](const Fault& f) { return f.kind == kind; })) out[static_cast<std::size_t>(kind)].kind = static_cast<Fault::Kind>(kind);
  out.push_back(draw(Fault::wipe));  // once each, at a seeded point
  out.push_back(draw(Fault::fill));
  std::sort(out.begin(), out.end(), [](const Fault& a, const Fault& b) { return a.at < b.at; });
  return out;
}

// A tmpfs of `bytes` mounted at `path` while this lives: a small filesystem to fill.
class SmallFilesystem {
 public:
  SmallFilesystem(std::string path, std::uint64_t bytes) : path_(std::move(path)) {
    std::filesystem::create_directories(path_);
    if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, ("size=" + std::to_string(bytes)).c_str()) == 0)
      mounted_ = true;
    else
      error_ = "mount -t tmpfs at " + path_ + ": " + std::strerror(errno) +
               " (the chaos run puts the edge's queue on a small filesystem and fills it: run it as root)";
  }
  ~SmallFilesystem() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;
  const std::string& error() const { return error_; }
  // Writes a ballast file until the filesystem refuses (ENOSPC); its size.
  std::uint64_t fill() const {
    const int fd = ::open(ballast().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return 0;
    const std::string block(1 << 20, 'x');
    std::uint64_t written = 0;
    for (std::size_t chunk : {std::size_t{1} << 20, std::size_t{4096}, std::size_t{1}}) {
      for (ssize_t n; (n = ::write(fd, block.data(), chunk)) > 0;) written += static_cast<std::uint64_t>(n);
    }
    ::close(fd);
    return written;
  }
  void free_space() const { std::filesystem::remove(ballast()); }

 private:
  std::string ballast() const { return path_ + "/ballast"; }
  std::string path_, error_;
  bool mounted_ = false;
};

// What a wiped edge's queue held, read after the SIGKILL and before the wipe.
struct WipedQueue {
  std::string incarnation;
  oee::edge::DurableQueueStats stats;
  std::map<std::uint64_t, std::string> unacknowledged;  // id -> record: not reported committed
};

WipedQueue read_wiped_queue(const std::string& queue_dir) {
  WipedQueue w;
  std::ifstream(queue_dir + "/incarnation") >> w.incarnation;
  oee::edge::DurableQueueOptions o;
  o.dir = queue_dir;
  oee::edge::DurableQueue queue(o);
  w.stats = queue.stats();
  std::vector<oee::edge::QueueRecord> records;
  for (std::uint64_t from = w.stats.first_unacked; from < w.stats.next_id && queue.read(from, 100000, 1u << 30, records) > 0;
       from = records.back().id + 1)
    for (const auto& r : records) w.unacknowledged.emplace(r.id, r.payload);
  return w;
}

// The seqs of [0, next_id) a source row of GET /api/v1/sources lacks.
std::vector<std::uint64_t> missing_seqs(const nlohmann::json& row, std::uint64_t next_id) {
  std::vector<std::uint64_t> missing;
  const auto add = [&](std::int64_t first, std::int64_t last) {
    for (auto s = first; s <= last; ++s) missing.push_back(static_cast<std::uint64_t>(s));
  };
  if (row["seq_min"].get<std::int64_t>() > 0) add(0, row["seq_min"].get<std::int64_t>() - 1);
  for (const auto& g : row["gaps"]) add(g[0].get<std::int64_t>(), g[1].get<std::int64_t>());
  add(row["seq_max"].get<std::int64_t>() + 1, static_cast<std::int64_t>(next_id) - 1);
  return missing;
}

// The highest "(N lost so far)" the edge logged: events a full disk refused.
std::uint64_t refused_by_the_disk(const std::string& log) {
  std::uint64_t most = 0;
  for (std::size_t p = 0; (p = log.find(" lost so far)", p)) != std::string::npos; ++p) {
    const auto open = log.rfind('(', p);
    most = std::max<std::uint64_t>(most, std::strtoull(log.c_str() + open + 1, nullptr, 10));
  }
  return most;
}

std::string chaos_simulator(oee::TimeMs start, std::uint64_t skip) {
  return "  - {type: simulator, seed: 7, speed: 600, start: " + std::to_string(start) + ", skip: " + std::to_string(skip) + "}\n";
}

}  // namespace

TEST(EdgeChaos, SeededKillsOfEdgeServerAndBrokerLoseNothingAndKpisEqualAnUndisturbedRun) {
  if (!serve_has_mqtt()) GTEST_SKIP() << "oee serve has no --mqtt in this build";
  const char* seed_text = std::getenv("OEE_CHAOS_SEED");
  const std::uint64_t seed = seed_text ? std::strtoull(seed_text, nullptr, 10) : 20261204;
  const int faults = std::getenv("OEE_CHAOS_FAULTS") ? std::atoi(std::getenv("OEE_CHAOS_FAULTS")) : 6;
  constexpr int kSpeed = 600;
  const oee::TimeMs now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
  const int hours = std::max(6, faults);  // the plant must outrun the schedule
  // Far enough in the past that the simulated plant never runs into the server's future.
  const oee::TimeMs start = oee::floor_to(now_ms - (hours + 24) * oee::kMsPerHour, oee::kMsPerHour);
  const oee::TimeMs window_end = start + hours * oee::kMsPerHour, known_until = window_end + oee::kMsPerHour;

  // The edge's data on a 32 MiB filesystem, its queue capped at 8 MiB: only the fill makes it full.
  TempDir disk;
  SmallFilesystem small(disk.path, 32u << 20);
  ASSERT_EQ(small.error(), "");
  MosquittoProcess broker;
  broker.start();
  Server server(broker.url());
  server.start();
  Edge edge({broker.url()}, chaos_simulator(start, 0), 8u << 20, "  resend_after_ms: 2000\n");
  edge.set_data_dir(disk.path + "/data");
  edge.start();
  const auto schedule = chaos_schedule(seed, faults, std::chrono::milliseconds(hours * 3600 * 1000 / kSpeed - 8000));
  std::optional<WipedQueue> wiped;
  std::uint64_t refused = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const Fault& f : schedule) {
    std::this_thread::sleep_until(t0 + f.at);
    std::printf("chaos seed %llu: at %.1f s SIGKILL %s, down %.1f s\n", static_cast<unsigned long long>(seed), f.at.count() / 1000.0,
                fault_name(f.kind), f.down.count() / 1000.0);
    switch (f.kind) {
      case Fault::edge: edge.kill(); break;
      case Fault::server: server.kill(); break;
      case Fault::broker:
        broker.kill();
        std::filesystem::remove(broker.dir() + "/mosquitto.db");
        break;
      case Fault::wipe:
        // A new disk: the edge comes back as a new incarnation whose simulator goes on after the
        // events the old disk accepted (what of them the server never got is lost, counted below).
        edge.kill();
        wiped = read_wiped_queue(edge.queue_dir());
        std::filesystem::remove_all(edge.queue_dir());
        edge.set_sources(chaos_simulator(start, wiped->stats.next_id));
        break;
      case Fault::fill: {
        // A running edge's queue must meet the full disk: one still starting (slow under load) would
        // find no room for its incarnation file and exit, which is another case (an edge that cannot start).
        ASSERT_TRUE(eventually([&] { return edge.running(); }, 30s)) << edge.log();
        broker.kill();  // nothing leaves the queue: it grows into the full disk
        std::filesystem::remove(broker.dir() + "/mosquitto.db");
        const auto ballast = small.fill();
        // The first append the stopped queue refuses is logged as lost: the disk is full.
        ASSERT_TRUE(eventually([&] { return refused_by_the_disk(edge.log()) > 0; }, 30s)) << "ballast " << ballast << " bytes\n"
                                                                                       << edge.log();
        EXPECT_NE(edge.log().find("No space left on device"), std::string::npos) << edge.log();
        refused += refused_by_the_disk(edge.log());
        // Space again; a restart reopens the queue (docs/edge.md): the simulator makes the refused
        // events again, after the queue's last.
        small.free_space();
        edge.kill();
        edge.start();
        break;
      }
    }
    std::this_thread::sleep_for(f.down);  // the subject: the fault's downtime, from the seed
    switch (f.kind) {
      case Fault::edge: case Fault::wipe: edge.start(); break;
      case Fault::server: server.start(); break;
      case Fault::broker: case Fault::fill: broker.start(); break;
    }
  }
  ASSERT_TRUE(wiped.has_value());
  // The simulated plant is past the compared window and the hour after it: parts were made after
  // known_until (the simulator emits in time order, so everything before is generated). Then a
  // clean stop drains the queue. Each edge restart sets the plant back by its downtime.
  ASSERT_TRUE(eventually([&] {
    const auto after = http_get_json(server.port(), "/api/v1/kpis?from=" + oee::format_rfc3339(known_until) + "&to=" +
                                                        oee::format_rfc3339(known_until + oee::kMsPerHour));
    return after.is_object() && after.value("total_count", 0) > 0;
  }, std::chrono::seconds(180 + 3 * faults))) << edge.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  SCOPED_TRACE("edge log:\n" + edge.log());
  const auto q = edge.queue_stats();
  EXPECT_EQ(q.evicted_records + wiped->stats.evicted_records, 0u);
  EXPECT_EQ(q.depth_records, 0u) << "the clean stop drains the queue into the server";
  std::string incarnation;
  std::ifstream(edge.queue_dir() + "/incarnation") >> incarnation;
  const auto row_of = [&](const std::string& inc) {
    for (const auto& r : server.incarnations(kEdgeId))
      if (r.value("incarnation", "") == inc) return r;
    return nlohmann::json();
  };
  ASSERT_TRUE(eventually([&] {
    const auto r = row_of(incarnation);
    return r.is_object() && r.value("events", std::int64_t{0}) >= static_cast<std::int64_t>(q.next_id);
  }, 60s)) << row_of(incarnation).dump() << " of " << q.next_id << "\n" << edge.log();
  ASSERT_EQ(server.incarnations(kEdgeId).size(), 2u) << "restarts are not new incarnations, the wipe is";
  expect_stored_once(row_of(incarnation), q.next_id);

  // The wiped incarnation: every seq it accepted is stored once, but for some it had not yet seen
  // committed; those are the loss of the wipe.
  const auto old_row = row_of(wiped->incarnation);
  ASSERT_TRUE(old_row.is_object()) << wiped->incarnation;
  const auto missing = missing_seqs(old_row, wiped->stats.next_id);
  std::vector<std::string> lost_to_wipe;
  for (const auto seq : missing) {
    ASSERT_EQ(wiped->unacknowledged.count(seq), 1u) << "seq " << seq << " was reported committed, then lost";
    lost_to_wipe.push_back(wiped->unacknowledged.at(seq));
  }
  EXPECT_EQ(old_row["events"].get<std::uint64_t>() + missing.size(), wiped->stats.next_id) << "none twice";

  // The figures bench/chaos_run.sh prints as rows: acknowledged = queued durably by the edge.
  const std::int64_t acknowledged = static_cast<std::int64_t>(wiped->stats.next_id + q.next_id);
  const std::int64_t stored = old_row["events"].get<std::int64_t>() + row_of(incarnation)["events"].get<std::int64_t>();
  const auto evicted = static_cast<std::int64_t>(q.evicted_records + wiped->stats.evicted_records);
  const auto wipe_lost = static_cast<std::int64_t>(missing.size());
  const std::int64_t lost = acknowledged - stored - evicted - wipe_lost;
  for (const auto& [what, value] : {std::pair{"acknowledged by the edge", acknowledged}, std::pair{"stored", stored},
                                    std::pair{"evicted (reported)", evicted},
                                    std::pair{"refused by the full disk (made again after the restart)", static_cast<std::int64_t>(refused)},
                                    std::pair{"lost to the wipe (not yet committed)", wipe_lost}, std::pair{"lost", lost}})
    std::printf("BENCH\tchaos run, %d faults, seed %llu: events %s\t%lld\tevents\t-\t-\t%s\t%s\n", faults,
                static_cast<unsigned long long>(seed), what, static_cast<long long>(value),
                std::string_view(what) == "lost" ? "lower" : "higher", std::string_view(what) == "lost" ? "0" : "-");
  EXPECT_EQ(lost, 0);
  EXPECT_GT(refused, 0u) << "the full disk refused events";
  expect_kpis_of_the_undisturbed_run(server, 7, start, window_end, known_until, static_cast<std::uint64_t>(stored), "chaos",
                                     lost_to_wipe);
  ASSERT_EQ(server.stop(), 0);
}

// ---- A 3-node broker cluster: NATS Server with JetStream and its MQTT listener (docs/operations.md
// "A clustered broker"), sessions and QoS 1 messages replicated to all three nodes. The edge and the
// server are given the three nodes and start on the first. How fast delivery resumes is printed
// here and measured in bench/bench_broker_cluster_failover.cpp. ----

namespace {

// The edge's simulated plant from a whole hour a day ago at 600x: the KPI window [start,
// window_end) and the hour after it, which settles it, stream through in about 12 s.
struct ClusterRun {
  oee::TimeMs start, window_end, known_until;
};

ClusterRun cluster_run() {
  const oee::TimeMs now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
  const oee::TimeMs start = oee::floor_to(now_ms - 24 * oee::kMsPerHour, oee::kMsPerHour);
  return {start, start + oee::kMsPerHour, start + 2 * oee::kMsPerHour};
}

std::string cluster_simulator(const ClusterRun& r) {
  return "  - {type: simulator, seed: 7, speed: 600, start: " + std::to_string(r.start) + "}\n";
}

oee::TimeMs wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The stored data reaches past the window: no unknown time and no silence in the hour after it.
bool settled(const Server& server, const ClusterRun& r) {
  const auto tail = http_get_json(server.port(), "/api/v1/kpis?from=" + oee::format_rfc3339(r.window_end) +
                                                     "&to=" + oee::format_rfc3339(r.known_until));
  return tail.is_object() && tail.value("unknown_time_s", -1.0) == 0.0 && tail.value("no_data_s", -1.0) == 0.0;
}

// The server ingests from another node than `lost` and stored more than `before`: delivery resumed.
bool resumed_elsewhere(const Server& server, const std::string& lost, std::int64_t before) {
  const std::string log = server.log();
  const auto at = log.rfind("mqtt subscriber: connected to ");
  return at != std::string::npos && log.compare(at + 30, lost.size(), lost) != 0 && server.stored(kEdgeId) > before;
}

// "ts depth, ts depth, …" of edge statuses, for a failure message.
std::string status_depths(const std::vector<nlohmann::json>& statuses) {
  std::string out;
  for (const auto& s : statuses)
    out += (out.empty() ? "" : ", ") + s.value("ts", std::string("?")) + " " + std::to_string(s.value("queue_depth", -1LL));
  return out;
}

// The edge's log lines saying it sent events again because the server missed what the broker had
// acknowledged.
std::vector<std::string> edge_resends(const std::string& log) {
  std::vector<std::string> lines;
  for (std::size_t p = 0; (p = log.find("the server misses seq", p)) != std::string::npos; ++p) {
    const auto begin = log.rfind('\n', p) + 1, end = log.find('\n', p);
    lines.push_back(log.substr(begin, end - begin));
  }
  return lines;
}

// Stops the edge once the data settled the window; then every event it accepted is stored exactly
// once, nothing was dead-lettered, and the KPIs equal an offline replay of the same plant.
std::string tail_of(const std::string& text, std::size_t n) { return text.size() > n ? text.substr(text.size() - n) : text; }

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = 0; (p = text.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

// `broker_state` tells a failure message what the cluster's nodes show.
void expect_everything_once_and_kpis(Edge& edge, const Server& server, const ClusterRun& r, const char* label,
                                     const std::function<std::string()>& broker_state) {
  ASSERT_TRUE(eventually([&] { return settled(server, r); }, 120s)) << server.log() << edge.log();
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const auto q = edge.queue_stats();
  // Not asserted: records leave the queue on the server's commit reports, which may still be on
  // their way when the edge's bounded drain ends; what counts is what the server stored.
  std::printf("%s: %llu of %llu events not yet reported committed when the edge stopped\n", label,
              static_cast<unsigned long long>(q.depth_records), static_cast<unsigned long long>(q.next_id));
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) >= static_cast<std::int64_t>(q.next_id); }, 120s))
      << server.stored(kEdgeId) << " of " << q.next_id << "\n" << server.log() << edge.log() << broker_state();
  expect_stored_once(server.source(kEdgeId), q.next_id);
  const auto letters = server.dead_letters();
  EXPECT_EQ(letters.is_object() ? letters.value("total", -1) : -1, 0) << letters.dump();
  const auto resends = edge_resends(edge.log());
  std::printf("%s: the edge sent events again %zu time(s) because the server missed what the cluster had acknowledged\n",
              label, resends.size());
  for (const auto& line : resends) std::printf("  %s\n", line.c_str());
  expect_kpis_of_the_undisturbed_run(server, 7, r.start, r.window_end, r.known_until, q.next_id, label);
}

}  // namespace

// The cluster, and a server and an edge given its three nodes (the edge's plant as cluster_run()).
class BrokerCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!serve_has_mqtt()) GTEST_SKIP() << "oee serve has no --mqtt in this build";
    if (!oee::testing::nats_server_available()) GTEST_SKIP() << "no nats-server (scripts/setup.sh installs it)";
    cluster.start();
    server.start();
  }
  // What each node's JetStream and MQTT connections show, for a failure message: a stalled
  // delivery (docs/mqtt.md) shows there as the consumer's leader, pending and delivered counts.
  std::string nats_state() const {
    std::string state;
    for (int i = 0; i < oee::testing::NatsCluster::kNodes; ++i)
      state += "\nnode " + std::to_string(i) + " /jsz: " + cluster.monitoring(i, "/jsz?consumers=true") +
               "\nnode " + std::to_string(i) + " /connz: " + cluster.monitoring(i, "/connz?subs=true") +
               "\nnode " + std::to_string(i) + " log (end): " + tail_of(cluster.log(i), 4000);
    return state;
  }
  oee::testing::NatsCluster cluster;
  const ClusterRun run = cluster_run();
  // With the remedy for a stalled subscription (docs/mqtt.md): the edge's traffic never pauses 20 s.
  Server server{cluster.mqtt_urls(), {"--mqtt-silence-reconnect-s", "20"}};
  Edge edge{cluster.mqtt_urls(), cluster_simulator(run), 1ull << 30, ""};
};

TEST_F(BrokerCluster, NodeOfTheEdgeAndServerKilledNothingLostKpisEqualAnOfflineReplay) {
  edge.start();
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) >= 2000; }, 60s)) << server.log() << edge.log();
  const std::string first = cluster.mqtt_url(0);
  const auto on_first = [&](const std::string& log, const std::string& line) { return log.find(line + first) != std::string::npos; };
  ASSERT_TRUE(eventually([&] { return on_first(server.log(), "mqtt subscriber: connected to "); }, 10s)) << server.log();
  ASSERT_TRUE(eventually([&] { return on_first(edge.log(), "mqtt: connected to "); }, 10s)) << edge.log();

  const auto killed = std::chrono::steady_clock::now();
  cluster.kill_node(0);  // mid-stream, under both the edge and the server
  const std::int64_t at_kill = server.stored(kEdgeId);
  ASSERT_TRUE(eventually([&] { return resumed_elsewhere(server, first, at_kill); }, 120s))
      << server.log() << edge.log() << nats_state();
  std::printf("broker cluster: node 1 of 3 SIGKILLed under the edge and the server; delivery resumed %.1f s later\n",
              seconds_since(killed));
  expect_everything_once_and_kpis(edge, server, run, "broker cluster, one node lost", [&] { return nats_state(); });
  ASSERT_EQ(server.stop(), 0);
}

TEST_F(BrokerCluster, TwoOfThreeNodesLostTheEdgeBuffersOnDiskThenEverythingOnce) {
  StatusWatcher status(cluster.mqtt_urls());
  edge.start();
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) >= 2000 && status.received() > 0; }, 60s))
      << server.log() << edge.log();
  const double depth_before = status.last().value("queue_depth", 0.0);

  const oee::TimeMs lost_ms = wall_now_ms();
  cluster.kill_node(0);
  cluster.kill_node(1);  // the last node has no quorum: it cannot store a QoS 1 message
  std::this_thread::sleep_for(5s);  // the subject: the edge acquires on while the cluster has no quorum
  const std::int64_t during = server.stored(kEdgeId);
  const auto restored = std::chrono::steady_clock::now();
  const oee::TimeMs restored_ms = wall_now_ms();
  cluster.start_node(1);
  ASSERT_TRUE(cluster.wait_healthy(60s)) << cluster.log(1) << cluster.log(2);
  ASSERT_TRUE(eventually([&] { return server.stored(kEdgeId) > during; }, 120s))
      << server.log() << edge.log() << nats_state();
  std::printf("broker cluster: 2 of 3 nodes lost for 5 s; delivery resumed %.1f s after the node restarted\n",
              seconds_since(restored));
  // The statuses the edge stamped since the loss (delivered once quorum returned) show its disk
  // queue grown by the outage's events (about 2,000 a second). Not only the first to arrive: that
  // may be one stamped in the instant after the loss, before the backlog grew (stored by the node
  // while it still had a leader), with the statuses showing the backlog still on their way.
  double depth_most = 0;
  const bool grew = eventually([&] {
    for (const auto& s : status.since(lost_ms)) depth_most = std::max(depth_most, s.value("queue_depth", 0.0));
    return depth_most > depth_before + 2000;
  }, 60s);
  const auto since_loss = status.since(lost_ms);
  std::printf("broker cluster: the edge's queue depth %.0f before the loss, up to %.0f after it (the first status since "
              "the loss: %s)\n", depth_before, depth_most, since_loss.empty() ? "none" : status_depths({since_loss.front()}).c_str());
  EXPECT_TRUE(grew) << "statuses since the loss (ts queue_depth): " << status_depths(status.since(lost_ms)) << "\n" << edge.log();
  // The edge stays up until the server holds, without a gap, every event it had accepted when a
  // status after the restart was stamped: what a reset session dropped (docs/mqtt.md, "A stalled
  // subscription") comes again only from a running edge, on the server's commit reports.
  std::int64_t accepted = 0;
  ASSERT_TRUE(eventually([&] {
    const auto after = status.since(restored_ms);
    if (after.empty()) return false;
    accepted = after.back().value("next_seq", std::int64_t{0});
    const auto row = server.source(kEdgeId);
    return row.is_object() && row.value("seq_min", std::int64_t{-1}) == 0 && row.contains("gaps") && row["gaps"].empty() &&
           row.value("seq_max", std::int64_t{-1}) + 1 >= accepted;
  }, 180s)) << server.source(kEdgeId).dump() << " of " << accepted << "\n" << server.log() << edge.log() << nats_state();
  std::printf("broker cluster: every one of the edge's first %lld events stored, the edge still running (%.1f s after the restart); "
              "the server's session reset %zu time(s)\n",
              static_cast<long long>(accepted), seconds_since(restored), count_of(server.log(), "(clean session)"));
  expect_everything_once_and_kpis(edge, server, run, "broker cluster, two nodes lost", [&] { return nats_state(); });
  ASSERT_EQ(server.stop(), 0);
}
