// Several `oee serve` on one PostgreSQL database, each ingesting its share of the plant from one
// Mosquitto broker (docs/operations.md): real processes, real peers. The demo plant's simulated
// events are published to the broker on the contract's topics; then the plant's and a line's KPIs
// from EITHER server equal an offline `oee replay` of the same events, every event is stored once,
// and both servers show the same live state for every machine, also those the other one ingests.
// Two ways to share: disjoint topic filters (one line / two lines), and one MQTT shared
// subscription ($share/servers/oee/v1/#) where one server is SIGKILLed mid-stream and restarted.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "../../storage/tests/postgres_test_cluster.h"
#include "demo_crash_scenario.h"
#include "mqtt_publishing.h"

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

// Publishes the plant's events to the broker that two servers ingest from, and checks the
// deployment: every event stored once, KPIs of either server equal an offline replay, the same
// live state on both. With `kill_midway`, server b is SIGKILLed after half the messages were
// published and restarted after the rest were.
void run_deployment(const std::vector<std::string>& topics_a, const std::vector<std::string>& topics_b, bool kill_midway) {
  oee::storage::testing::PostgresCluster cluster;
  const std::string url = cluster.create_database();
  oee::testing::run_oee("db migrate --storage '" + url + "'");
  const auto dir = std::filesystem::temp_directory_path() / ("oee-several-servers-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  Broker broker(dir);

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
  if (kill_midway) {
    // b dies as soon as it stored something of the first half, in the middle of taking its share.
    publisher.publish(messages, 0, messages.size() / 2);
    ASSERT_TRUE(eventually([&] { return inserted_here(b.port) > 0; }, 60s));
    EXPECT_EQ(b.process->kill(SIGKILL), -SIGKILL);
    publisher.publish(messages, messages.size() / 2, messages.size());
    b.start();  // same client id: the broker hands over what it kept for b's session
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
  } else {
    publisher.publish(messages, 0, messages.size());
  }
  ASSERT_TRUE(eventually([&] { return oee::testing::stored_events(a.port, kAuth) >= static_cast<std::int64_t>(events); }, 300s))
      << oee::testing::stored_events(a.port, kAuth) << " of " << events << "\n" << a.process->output() << b.process->output();
  std::this_thread::sleep_for(500ms);  // the subject: nothing more arrives late (an absence, not a state to poll)
  EXPECT_EQ(oee::testing::stored_events(a.port, kAuth), static_cast<std::int64_t>(events));
  EXPECT_EQ(oee::testing::stored_events(b.port, kAuth), static_cast<std::int64_t>(events));
  EXPECT_TRUE(oee::testing::http_get(a.port, "/api/v1/dead-letters", kAuth).body.starts_with("{\"total\":0,"));
  // Each server took only its share: a's filters or turns, and b (restarted) what waited for it.
  EXPECT_GT(inserted_here(a.port), 0);
  EXPECT_LT(inserted_here(a.port), static_cast<std::int64_t>(events));
  EXPECT_GT(inserted_here(b.port), 0);
  if (!kill_midway) {
    EXPECT_EQ(inserted_here(a.port) + inserted_here(b.port), static_cast<std::int64_t>(events));
  }

  // Each server answers for the whole plant: the plant, a line and a machine equal the replay.
  for (const Server* s : {&a, &b}) {
    SCOPED_TRACE(s->log.string());
    oee::testing::expect_kpis_equal_offline_replay(s->port, kAuth, dir, start, window_end);
  }
  // The same live state on both, every machine known: each server's own machines from its ingest,
  // the others' from the shared store.
  std::map<std::string, std::string> states_a, states_b;
  EXPECT_TRUE(eventually([&] { states_a = live_states(a.port); states_b = live_states(b.port); return states_a == states_b; }, 10s));
  EXPECT_EQ(states_a, states_b);
  EXPECT_EQ(states_a.size(), 12u);
  for (const auto& [machine, state] : states_a) EXPECT_FALSE(state.starts_with("unknown")) << machine << " " << state;
  EXPECT_EQ(a.process->kill(SIGTERM), 0);
  EXPECT_EQ(b.process->kill(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace

TEST(SeveralServers, DisjointTopicFiltersEachServeThePlantFiguresOfOne) {
  run_deployment({"oee/v1/berlin/bottling/pet1/#"}, {"oee/v1/berlin/bottling/glass2/#", "oee/v1/berlin/bottling/can3/#"}, false);
}

TEST(SeveralServers, SharedSubscriptionServerKilledMidStreamLosesAndDoublesNothing) {
  run_deployment({"$share/servers/oee/v1/#"}, {"$share/servers/oee/v1/#"}, true);
}

TEST(SeveralServers, BadTopicFiltersAreRefused) {
  for (const std::string bad : {"'oee/v1/#/x'", "'other/#'", "'$share/g'", "'$share//oee/v1/#'", "'oee/v1/a+'", "''"}) {
    const auto out = oee::testing::run_oee("serve --plant " + std::string(OEE_DEMO_PLANT_FILE) +
                                               " --mqtt mqtt://127.0.0.1:1 --mqtt-topic " + bad, 2);
    EXPECT_NE(out.find("--mqtt-topic"), std::string::npos) << out;
  }
}
