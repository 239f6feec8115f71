// Several `oee serve` on one PostgreSQL database, each ingesting its share of the plant from one
// Mosquitto broker (docs/operations.md): real processes, real peers. The demo plant's simulated
// events are published to the broker on the contract's topics; then the plant's and a line's KPIs
// from EITHER server equal an offline `oee replay` of the same events, every event is stored once,
// and both servers show the same live state for every machine, also those the other one ingests.
// Two ways to share: disjoint topic filters (one line / two lines), and one MQTT shared
// subscription ($share/servers/oee/v1/#) of three servers fed by an `oee edge`, one of them
// SIGKILLed mid-stream and not restarted.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "../../storage/tests/postgres_test_cluster.h"
#include "demo_crash_scenario.h"
#include "mqtt_publishing.h"
#include "oee/codec/event_json.h"
#include "oee_command.h"
#include "simulator_edge.h"

namespace {

using namespace std::chrono_literals;
using oee::testing::Broker;
using oee::testing::eventually;
using oee::testing::Publisher;

const std::string kAdminToken = "serve-several-servers-test-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";

// One `oee serve` of the deployment, with its own data directory and client id.
struct Server {
  std::vector<std::string> argv;
  std::filesystem::path log;
  std::unique_ptr<oee::testing::ChildProcess> process;
  std::uint16_t port = 0;
  int starts = 0;

  void start() {
    process = std::make_unique<oee::testing::ChildProcess>(argv, log.string() + "." + std::to_string(starts++));
    ASSERT_TRUE(process->wait_for_output("listening on", 60s)) << process->output();
    ASSERT_TRUE(process->wait_for_output("mqtt subscriber: connected", 30s)) << process->output();
    ASSERT_TRUE(process->wait_for_output("listening on", 30s)) << process->output();  // printed after the subscriber may connect
    port = oee::testing::listening_port(process->output());
    ASSERT_NE(port, 0);
  }
};

Server make_server(const std::string& name, const std::filesystem::path& dir, const std::string& storage, const std::string& broker,
                   const std::vector<std::string>& topics) {
  Server s;
  std::filesystem::create_directories(dir / name);
  s.argv = {OEE_BINARY, "serve", "--plant", OEE_DEMO_PLANT_FILE, "--data-dir", (dir / name).string(), "--listen", "127.0.0.1:0",
            "--storage", storage, "--mqtt", broker, "--mqtt-client-id", "oee-server-" + name, "--mqtt-reconnect-min-ms", "200",
            "--live-refresh-ms", "200"};
  for (const auto& t : topics) s.argv.insert(s.argv.end(), {"--mqtt-topic", t});
  s.log = dir / (name + ".log");
  return s;
}

// Events this server process newly stored (its ingest counter since it started).
std::int64_t inserted_here(std::uint16_t port) {
  const std::string metrics = oee::testing::http_get(port, "/metrics", kAuth).body;
  const std::string name = "\noee_ingest_inserted_total ";
  const std::size_t at = metrics.find(name);
  return at == std::string::npos ? -1 : std::stoll(metrics.substr(at + name.size()));
}

// machine path -> "state|since|reason" from the plant tree of a server.
std::map<std::string, std::string> live_states(std::uint16_t port) {
  std::map<std::string, std::string> out;
  const auto j = nlohmann::json::parse(oee::testing::http_get(port, "/api/v1/plant", kAuth).body);
  for (const auto& site : j["sites"])
    for (const auto& area : site["areas"])
      for (const auto& line : area["lines"])
        for (const auto& m : line["machines"])
          out[m["path"]] = m["state"].get<std::string>() + "|" + m.value("since", "") + "|" + m.value("reason", "");
  return out;
}

// One migrated PostgreSQL database, a directory and a broker for the servers of a test.
struct Deployment {
  oee::storage::testing::PostgresCluster cluster;
  std::string url = cluster.create_database();
  std::filesystem::path dir;
  Broker broker;

  explicit Deployment(const std::string& prefix)
      : dir(fresh_dir(std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid())))), broker(dir) {
    oee::testing::run_oee("db migrate --storage '" + url + "'");
    ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  }
  ~Deployment() { std::filesystem::remove_all(dir); }

  static std::filesystem::path fresh_dir(const std::filesystem::path& d) {
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d;
  }
};

// Every server shows the same live state, every machine known: each server's own machines from its
// ingest, the others' from the shared store.
void expect_same_live_state(const std::vector<const Server*>& servers) {
  std::vector<std::map<std::string, std::string>> states(servers.size());
  EXPECT_TRUE(eventually([&] {
    for (std::size_t i = 0; i < servers.size(); ++i) states[i] = live_states(servers[i]->port);
    return std::all_of(states.begin(), states.end(), [&](const auto& s) { return s == states[0]; });
  }, 10s));
  for (const auto& s : states) EXPECT_EQ(s, states[0]);
  EXPECT_EQ(states[0].size(), 12u);
  for (const auto& [machine, state] : states[0]) EXPECT_FALSE(state.starts_with("unknown")) << machine << " " << state;
}

// Publishes the plant's events to the broker that two servers ingest from, and checks the
// deployment: every event stored once, KPIs of either server equal an offline replay, the same
// live state on both.
void run_deployment(const std::vector<std::string>& topics_a, const std::vector<std::string>& topics_b) {
  Deployment deployment("oee-several-servers-");
  const std::string& url = deployment.url;
  const auto& dir = deployment.dir;
  Broker& broker = deployment.broker;

  const oee::testing::DemoHours demo = oee::testing::three_demo_hours(dir);
  const oee::TimeMs start = demo.start, window_end = demo.window_end;
  const std::size_t events = demo.events;
  const auto& messages = demo.messages;
  ASSERT_GT(events, 1000u);

  Server a = make_server("a", dir, url, broker.url(), topics_a), b = make_server("b", dir, url, broker.url(), topics_b);
  a.start();
  b.start();
  // Subscribed: Server::start waits for "mqtt subscriber: connected", printed once SUBSCRIBE was
  // sent, and the publisher's CONNECT/CONNACK round trip comes after it (see transport/tests/mosquitto_process.h).
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  Publisher publisher(broker.url(), "several-servers-test-publisher");
  publisher.publish(messages, 0, messages.size());
  ASSERT_TRUE(eventually([&] { return oee::testing::stored_events(a.port, kAuth) >= static_cast<std::int64_t>(events); }, 300s))
      << oee::testing::stored_events(a.port, kAuth) << " of " << events << "\n" << a.process->output() << b.process->output();
  std::this_thread::sleep_for(500ms);  // the subject: nothing more arrives late (an absence, not a state to poll)
  EXPECT_EQ(oee::testing::stored_events(a.port, kAuth), static_cast<std::int64_t>(events));
  EXPECT_EQ(oee::testing::stored_events(b.port, kAuth), static_cast<std::int64_t>(events));
  EXPECT_TRUE(oee::testing::http_get(a.port, "/api/v1/dead-letters", kAuth).body.starts_with("{\"total\":0,"));
  // Each server took only its filters' share.
  EXPECT_GT(inserted_here(a.port), 0);
  EXPECT_LT(inserted_here(a.port), static_cast<std::int64_t>(events));
  EXPECT_GT(inserted_here(b.port), 0);
  EXPECT_EQ(inserted_here(a.port) + inserted_here(b.port), static_cast<std::int64_t>(events));

  // Each server answers for the whole plant: the plant, a line and a machine equal the replay.
  for (const Server* s : {&a, &b}) {
    SCOPED_TRACE(s->log.string());
    oee::testing::expect_kpis_equal_offline_replay(s->port, kAuth, dir, start, window_end);
  }
  expect_same_live_state({&a, &b});
  EXPECT_EQ(a.process->kill(SIGTERM), 0);
  EXPECT_EQ(b.process->kill(SIGTERM), 0);
}

// The `next_seq` of an edge's retained status reports (every status_interval_ms), in arrival order.
class EdgeStatusWatcher {
 public:
  EdgeStatusWatcher(const std::string& broker, const std::string& edge_id) {
    oee::transport::MqttOptions o;
    o.brokers = {broker};
    o.client_id = "status-watcher";
    o.subscriptions = {"oee/v1/_edge/" + edge_id + "/status"};
    oee::transport::MqttHandlers h;
    h.on_message = [this](std::string_view, std::string_view payload) {
      const auto j = nlohmann::json::parse(payload, nullptr, false);
      if (!j.is_object() || !j.contains("next_seq")) return;
      std::lock_guard lock(mutex_);
      next_seqs_.push_back(j.value("next_seq", std::int64_t{-1}));
    };
    client_ = std::make_unique<oee::transport::MqttClient>(o, h);
    client_->start();
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return next_seqs_.size();
  }
  // Once two reports received after the first `from` agree: the queue stopped growing. -1 before.
  std::int64_t steady_since(std::size_t from) const {
    std::lock_guard lock(mutex_);
    const auto n = next_seqs_.size();
    return n >= from + 2 && next_seqs_[n - 1] == next_seqs_[n - 2] ? next_seqs_[n - 1] : -1;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::int64_t> next_seqs_;
  std::unique_ptr<oee::transport::MqttClient> client_;
};

// How server c of the three leaves: killed (its connection closes at once), or its host frozen
// (SIGSTOP: the TCP peer neither answers nor closes, as after a power loss) until the broker's
// keepalive check drops it, 1.5 x --mqtt-keepalive-s.
enum class Loss { killed, frozen };

// Three servers share `$share/servers/oee/v1/#`; an `oee edge` simulates the demo plant from a fixed
// start (the stream of `oee simulate --seed 1` from there) at 1200x real time. Server c is lost
// once it stored part of its share and never comes back: Mosquitto must stop giving it turns (its
// session is clean in shared mode) and what it had received but not acknowledged comes again from
// the edge (no commit report covered it). Every event the edge accepted is stored exactly once, the
// KPIs of a equal an offline replay and b's equal a's, and a, b serve the whole plant.
void run_shared_subscription(Loss loss, const std::string& keepalive_s = "30") {
  Deployment deployment("oee-three-servers-");
  const std::string& url = deployment.url;
  const auto& dir = deployment.dir;
  Broker& broker = deployment.broker;
  const std::vector<std::string> shared = {"$share/servers/oee/v1/#"};
  Server a = make_server("a", dir, url, broker.url(), shared), b = make_server("b", dir, url, broker.url(), shared),
         c = make_server("c", dir, url, broker.url(), shared);
  for (Server* s : {&a, &b, &c}) {
    s->argv.insert(s->argv.end(), {"--mqtt-keepalive-s", keepalive_s});
    s->start();
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
  }
  // Six hours back: the KPI window is the first hour, the second settles it, and the stream ends 20
  // minutes later (a finite stream: servers slower than the edge, as sanitizer builds are, catch up).
  const oee::TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const oee::TimeMs start = oee::floor_to(now - 6 * oee::kMsPerHour, oee::kMsPerMinute), window_end = start + oee::kMsPerHour;
  const oee::TimeMs settled = window_end + oee::kMsPerHour;
  oee::testing::SimulatorEdge edge(dir / "edge", broker.url(), start, 1200, settled + 20 * oee::kMsPerMinute);
  EdgeStatusWatcher status(broker.url(), oee::testing::SimulatorEdge::kId);
  edge.start();
  ASSERT_TRUE(eventually([&] { return inserted_here(c.port) > 0; }, 60s)) << c.process->output() << edge.log();
  const std::int64_t stored_at_kill = oee::testing::stored_events(a.port, kAuth);
  if (loss == Loss::killed) {
    EXPECT_EQ(c.process->kill(SIGKILL), -SIGKILL);
  } else {
    // The keepalive asked for is the one the broker applies ("... as oee-server-c (p2, c1, k10).").
    const std::string log = broker.log();
    const std::size_t at = log.find(" as oee-server-c (");
    ASSERT_NE(at, std::string::npos) << log;
    EXPECT_NE(log.substr(at, log.find('\n', at) - at).find(", k" + keepalive_s + ")"), std::string::npos) << log;
    c.process->signal(SIGSTOP);
    // Dropped for its silence (1.5 x the keepalive it asked for), within the 30 s a rebalance may
    // take; with the default keepalive this would come only after 45 s.
    EXPECT_TRUE(broker.logged("Client oee-server-c has exceeded timeout, disconnecting", 30s)) << broker.log();
  }
  // The stream ends; the edge, still up (it sends again what the servers miss), reports how many
  // events its queue took. Once they are all stored, it drains and stops.
  ASSERT_TRUE(eventually([&] { return edge.ended(); }, 120s)) << edge.log();
  const std::size_t reports_at_end = status.count();
  std::int64_t total = -1;
  ASSERT_TRUE(eventually([&] { return (total = status.steady_since(reports_at_end)) >= 0; }, 30s)) << edge.log();
  ASSERT_TRUE(eventually([&] { return oee::testing::stored_events(a.port, kAuth) >= total; }, 300s))
      << oee::testing::stored_events(a.port, kAuth) << " of " << total << "\n" << edge.log() << a.process->output() << b.process->output();
  EXPECT_TRUE(oee::testing::kpis_known(a.port, kAuth, settled, settled + 10 * oee::kMsPerMinute));
  ASSERT_EQ(edge.stop(), 0) << edge.log();
  const std::int64_t accepted = static_cast<std::int64_t>(edge.accepted());
  EXPECT_EQ(accepted, total);
  ASSERT_GT(accepted, 2 * stored_at_kill) << "c died late in the stream: the test proved little";
  for (const Server* s : {&a, &b}) {
    SCOPED_TRACE(s->log.string());
    const auto source = oee::testing::source_row(s->port, kAuth, oee::testing::SimulatorEdge::kId);
    EXPECT_EQ(source.value("events", std::int64_t{-1}), accepted) << source.dump();
    EXPECT_EQ(source.value("seq_min", std::int64_t{-1}), 0) << source.dump();
    EXPECT_EQ(source.value("gaps", nlohmann::json()), nlohmann::json::array()) << source.dump();
    EXPECT_GT(inserted_here(s->port), 0);
    EXPECT_TRUE(oee::testing::http_get(s->port, "/api/v1/dead-letters", kAuth).body.starts_with("{\"total\":0,"));
  }
  // a's KPIs equal an offline replay; b answers the same as a (one replay is enough for both).
  oee::testing::expect_kpis_equal_offline_replay(a.port, kAuth, dir, start, window_end);
  const std::string window = "/api/v1/kpis?from=" + oee::format_rfc3339(start) + "&to=" + oee::format_rfc3339(window_end);
  for (const std::string node : {"", "&node=berlin/bottling/pet1", "&node=berlin/bottling/glass2/filler"})
    EXPECT_EQ(oee::testing::http_get(b.port, window + node, kAuth).body, oee::testing::http_get(a.port, window + node, kAuth).body) << node;
  expect_same_live_state({&a, &b});
  if (loss == Loss::frozen) {
    EXPECT_EQ(c.process->kill(SIGKILL), -SIGKILL);  // still frozen: ended by the signal
  }
  EXPECT_EQ(a.process->kill(SIGTERM), 0);
  EXPECT_EQ(b.process->kill(SIGTERM), 0);
}

}  // namespace

TEST(SeveralServers, DisjointTopicFiltersEachServeThePlantFiguresOfOne) {
  run_deployment({"oee/v1/berlin/bottling/pet1/#"}, {"oee/v1/berlin/bottling/glass2/#", "oee/v1/berlin/bottling/can3/#"});
}

TEST(SeveralServers, SharedSubscriptionOneOfThreeKilledForGoodTheOthersTakeItsShare) {
  run_shared_subscription(Loss::killed);
}

// The host of server c freezes (SIGSTOP) instead: with --mqtt-keepalive-s 10 the broker drops it 15 s
// later (with the default 30 s, 45 s), the edge sends again what c held, and a and b store it all,
// once each.
TEST(SeveralServers, SharedSubscriptionOneOfThreeFrozenTheBrokerDropsItAfterItsKeepalive) {
  run_shared_subscription(Loss::frozen, "10");
}

// A server with a shared filter and an ordinary one: the ordinary filter keeps its persistent session
// (a clean session covers a whole connection, so the shared filter gets a connection of its own,
// client id + "-share"). An event published on the ordinary filter while the server is down waits
// in the broker and is stored once the server is back; with one clean connection it was dropped.
TEST(SeveralServers, SharedAndOrdinaryFiltersTheOrdinaryOnesKeepTheirPersistentSession) {
  const auto dir = Deployment::fresh_dir(std::filesystem::temp_directory_path() / ("oee-mixed-filters-" + std::to_string(::getpid())));
  Broker broker(dir);
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  const std::vector<std::string> argv = {OEE_BINARY, "serve", "--plant", OEE_DEMO_PLANT_FILE, "--data-dir", dir.string(),
                                         "--listen", "127.0.0.1:0", "--mqtt", broker.url(), "--mqtt-client-id", "mixed",
                                         "--mqtt-topic", "$share/g/oee/v1/berlin/bottling/pet1/#",
                                         "--mqtt-topic", "oee/v1/berlin/bottling/glass2/#"};
  auto server = std::make_unique<oee::testing::ChildProcess>(argv, (dir / "serve.log.0").string());
  ASSERT_TRUE(broker.subscribed("mixed", "oee/v1/berlin/bottling/glass2/#", 30s)) << server->output();
  ASSERT_TRUE(broker.subscribed("mixed-share", "$share/g/oee/v1/berlin/bottling/pet1/#", 30s)) << server->output();
  const std::string log = broker.log();
  EXPECT_NE(log.find(" as mixed (p2, c0,"), std::string::npos) << log;  // persistent
  EXPECT_NE(log.find(" as mixed-share (p2, c1,"), std::string::npos) << log;  // clean
  EXPECT_EQ(server->kill(SIGTERM), 0);

  oee::Event e;
  e.ts = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count() -
         oee::kMsPerMinute;
  e.machine = "berlin/bottling/glass2/filler";
  e.type = oee::EventType::state;
  e.state = "running";
  e.src = "mixed-filters-edge";
  e.seq = 0;
  Publisher publisher(broker.url(), "mixed-filters-publisher");
  publisher.publish({{"oee/v1/berlin/bottling/glass2/filler/events", "[" + oee::codec::event_to_json(e) + "]"}}, 0, 1);

  server = std::make_unique<oee::testing::ChildProcess>(argv, (dir / "serve.log.1").string());
  ASSERT_TRUE(server->wait_for_output("listening on", 20s)) << server->output();
  const std::uint16_t port = oee::testing::listening_port(server->output());
  ASSERT_TRUE(eventually([&] { return oee::testing::stored_events(port, kAuth) >= 1; }, 30s)) << server->output() << broker.log();
  EXPECT_EQ(oee::testing::stored_events(port, kAuth), 1);
  EXPECT_EQ(server->kill(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

TEST(SeveralServers, BadKeepalivesAreRefused) {
  for (const std::string bad : {"1", "0", "3601", "soon"}) {
    std::string out;
    EXPECT_NE(oee::testing::run_oee("serve --plant " + std::string(OEE_DEMO_PLANT_FILE) +
                                        " --mqtt mqtt://127.0.0.1:1 --mqtt-keepalive-s " + bad, out), 0) << bad;
    EXPECT_NE(out.find("--mqtt-keepalive-s"), std::string::npos) << out;
  }
}

TEST(SeveralServers, BadTopicFiltersAreRefused) {
  for (const std::string bad : {"'oee/v1/#/x'", "'other/#'", "'$share/g'", "'$share//oee/v1/#'", "'oee/v1/a+'", "''"}) {
    const auto out = oee::testing::run_oee("serve --plant " + std::string(OEE_DEMO_PLANT_FILE) +
                                               " --mqtt mqtt://127.0.0.1:1 --mqtt-topic " + bad, 2);
    EXPECT_NE(out.find("--mqtt-topic"), std::string::npos) << out;
  }
}
