// Alerts end to end: two `oee serve` on one PostgreSQL database, both ingesting from one Mosquitto
// broker and evaluating every 500 ms (--alert-interval-ms), their webhooks POSTed to a real HTTP
// server on loopback. A machine's silence (no_data), its shift OEE (oee_below_target) and an
// edge's status reports over MQTT (edge_queue_growing) fire, resolve and are acknowledged, each
// change notified once between the two servers; a restarted server keeps the firing and
// acknowledged alerts and fires none of them again. A server started with a plant file that lost a
// rule and a machine resolves their alerts (rule_removed, node_removed), listed and notified.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "../../server/tests/hook_receiver.h"
#include "../../storage/tests/postgres_test_cluster.h"
#include "demo_crash_scenario.h"
#include "mqtt_publishing.h"

namespace {

using namespace std::chrono_literals;
using oee::testing::eventually;

const std::string kAdminToken = "serve-alerts-test-token";
const std::string kAuth = "Authorization: Bearer " + kAdminToken + "\r\n";
const std::string kMachine = "s1/a1/l1/press";

std::string plant_yaml(int hook_port) {
  return R"(timezone: UTC
shifts: [{name: all-day, start: "00:00", end: "00:00"}]
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [{id: press, ideal_cycle_time_s: 1.0}]}]}]}]
alerts:
  rules:
    - {name: silent, kind: no_data, node: s1/a1/l1/press, for_s: 60}
    - {name: slow, kind: oee_below_target, node: s1/a1/l1/press, target: 0.99, after_shift_start_s: 0}
    - {name: backlog, kind: edge_queue_growing, edge: e1, for_s: 2}
  webhooks: [{url: "http://127.0.0.1:)" + std::to_string(hook_port) + R"(/hook", secret: s3cret}]
)";
}

oee::TimeMs wall_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Server {
  std::vector<std::string> argv;
  std::string log;
  std::unique_ptr<oee::testing::ChildProcess> process;
  std::uint16_t port = 0;
  int starts = 0;
  void start() {
    process = std::make_unique<oee::testing::ChildProcess>(argv, log + "." + std::to_string(starts++));
    ASSERT_TRUE(process->wait_for_output("listening on", 60s)) << process->output();
    ASSERT_TRUE(process->wait_for_output("mqtt subscriber: connected", 30s)) << process->output();
    ASSERT_TRUE(process->wait_for_output("listening on", 30s)) << process->output();  // printed after the subscriber may connect
    port = oee::testing::listening_port(process->output());
    ASSERT_NE(port, 0);
  }
  // "id state[ acknowledged]" of each listed alert, by id and fired time.
  std::map<std::string, std::string> alerts() const {
    std::map<std::string, std::string> out;
    const auto j = nlohmann::json::parse(oee::testing::http_get(port, "/api/v1/alerts", kAuth).body, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& a : j)
      out[a["id"].get<std::string>() + "@" + a["fired_at"].get<std::string>()] =
          a["state"].get<std::string>() + (a["acknowledged_by"].is_null() ? "" : " acknowledged");
    return out;
  }
  // How many listed alerts of `id` are in `state`.
  int count(const std::string& id, const std::string& state) const {
    int n = 0;
    for (const auto& [key, value] : alerts())
      if (key.starts_with(id + "@") && value.starts_with(state)) ++n;
    return n;
  }
};

// The webhook deliveries: how many of each "event id" (e.g. "fired slow/s1/a1/l1/press").
std::map<std::string, int> deliveries(oee::testing::HookReceiver& hooks) {
  std::map<std::string, int> out;
  for (const auto& r : hooks.requests()) {
    const auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_object()) ++out[j["event"].get<std::string>() + " " + j["alert"]["id"].get<std::string>()];
  }
  return out;
}

std::string event(const std::string& body) { return R"({"machine":")" + kMachine + R"(",)" + body + "}"; }

// An edge reporting a growing queue every 300 ms (its status interval) until `done`.
void report_growing_queue(oee::testing::Publisher& edge, int& depth, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    depth += 10;
    const std::string status = R"({"edge":"e1","state":"online","ts":")" + oee::format_rfc3339(wall_now()) +
                               R"(","queue_depth":)" + std::to_string(depth) + "}";
    edge.publish({{"oee/v1/_edge/e1/status", status}}, 0, 1);
    std::this_thread::sleep_for(300ms);  // paces the reports: the edge's status interval
  }
}

}  // namespace

TEST(ServeAlerts, TwoServersOnOneDatabaseNotifyEachChangeOnceAndKeepAlertsOverARestart) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee-serve-alerts-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  oee::storage::testing::PostgresCluster cluster;
  const std::string url = cluster.create_database();
  oee::testing::Broker broker(dir);
  oee::testing::HookReceiver hooks(0);
  std::ofstream(dir / "plant.yaml") << plant_yaml(hooks.port());
  auto make = [&](const std::string& name) {
    std::filesystem::create_directories(dir / name);
    return Server{{OEE_BINARY, "serve", "--plant", (dir / "plant.yaml").string(), "--data-dir", (dir / name).string(), "--listen",
                   "127.0.0.1:0", "--storage", url, "--mqtt", broker.url(), "--mqtt-client-id", "oee-alerts-" + name,
                   "--alert-interval-ms", "500"},
                  (dir / (name + ".log")).string(), nullptr};
  };
  Server one = make("one"), two = make("two");
  one.start();
  two.start();

  // The press ran two minutes ago and made one part since: silent for 60 s and more, OEE far below 0.99.
  oee::testing::Publisher edge(broker.url(), "serve-alerts-test-edge");
  const oee::TimeMs t0 = wall_now() - 120'000;
  edge.publish({{"oee/v1/" + kMachine + "/events", event(R"("ts":")" + oee::format_rfc3339(t0) + R"(","type":"state","state":"running")")},
                {"oee/v1/" + kMachine + "/events", event(R"("ts":")" + oee::format_rfc3339(t0 + 1000) + R"(","type":"count","good":1)")}},
               0, 2);
  int depth = 0;
  report_growing_queue(edge, depth, [&] { return one.count("backlog/e1", "firing") == 1; });
  ASSERT_TRUE(eventually([&] { return one.count("silent/" + kMachine, "firing") == 1 && one.count("slow/" + kMachine, "firing") == 1; }, 30s))
      << one.process->output();
  EXPECT_TRUE(eventually([&] { return two.alerts() == one.alerts(); }, 10s));

  // The edge stops reporting (its queue no longer grows), the press speaks again, and the OEE
  // alert is acknowledged through the other server.
  edge.publish({{"oee/v1/" + kMachine + "/events", event(R"("ts":")" + oee::format_rfc3339(wall_now()) + R"(","type":"count","good":1)")}}, 0, 1);
  ASSERT_TRUE(eventually([&] { return one.count("silent/" + kMachine, "resolved") == 1 && one.count("backlog/e1", "resolved") == 1; }, 30s));
  const auto ack = oee::testing::HttpConnection(two.port).request("POST", "/api/v1/alerts/acknowledge",
                                                                 R"({"id":"slow/)" + kMachine + R"("})", kAuth);
  EXPECT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(oee::testing::HttpConnection(one.port).request("POST", "/api/v1/alerts/acknowledge", R"({"id":"slow/)" + kMachine + R"("})", kAuth).status,
            409);

  // The first server restarts alone: the OEE alert still fires, acknowledged, and is not fired
  // again; the edge's next growth is a new alert, which shows the restarted server evaluates.
  EXPECT_EQ(two.process->kill(SIGTERM), 0);
  EXPECT_EQ(one.process->kill(SIGTERM), 0);
  one.start();
  report_growing_queue(edge, depth, [&] { return one.count("backlog/e1", "firing") == 1; });
  ASSERT_EQ(one.count("backlog/e1", "firing"), 1) << one.process->output();
  EXPECT_EQ(one.count("slow/" + kMachine, "firing acknowledged"), 1);
  EXPECT_EQ(one.count("slow/" + kMachine, "firing"), 1);

  // Every change once, from either server: three firings, two resolutions, an acknowledgement,
  // and the edge's second firing.
  ASSERT_TRUE(eventually([&] { return deliveries(hooks)["fired backlog/e1"] == 2; }, 30s));
  const std::map<std::string, int> want{{"fired silent/" + kMachine, 1}, {"fired slow/" + kMachine, 1}, {"fired backlog/e1", 2},
                                        {"resolved silent/" + kMachine, 1}, {"resolved backlog/e1", 1},
                                        {"acknowledged slow/" + kMachine, 1}};
  EXPECT_EQ(deliveries(hooks), want);
  for (const auto& r : hooks.requests())
    EXPECT_NE(r.head.find("X-Oee-Signature: sha256="), std::string::npos) << r.head;
  EXPECT_EQ(one.process->kill(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

// `oee serve` on PostgreSQL fires a silence alert of two rules for the press and one for the saw,
// then restarts with a plant file without the rule "old" and without the saw: those two alerts
// resolve at start, with their reason in /api/v1/alerts and in the webhooks' POSTs; the press's
// alert of the kept rule fires on.
TEST(ServeAlerts, AlertsOfRulesAndMachinesRemovedFromThePlantFileResolveAtStart) {
  const auto dir = std::filesystem::temp_directory_path() / ("oee-serve-alerts-removed-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "data");
  ::setenv("OEE_ADMIN_TOKEN", kAdminToken.c_str(), 1);
  oee::storage::testing::PostgresCluster cluster;
  const std::string url = cluster.create_database();
  oee::testing::Broker broker(dir);
  oee::testing::HookReceiver hooks(0);
  const std::string hook = "  webhooks: [{url: \"http://127.0.0.1:" + std::to_string(hooks.port()) + "/hook\"}]\n";
  std::ofstream(dir / "plant.yaml") << R"(timezone: UTC
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [{id: press, ideal_cycle_time_s: 1.0}, {id: saw, ideal_cycle_time_s: 1.0}]}]}]}]
alerts:
  rules:
    - {name: silent, kind: no_data, node: s1/a1/l1, for_s: 60}
    - {name: old, kind: no_data, node: s1/a1/l1/press, for_s: 60}
)" + hook;
  Server server{{OEE_BINARY, "serve", "--plant", (dir / "plant.yaml").string(), "--data-dir", (dir / "data").string(), "--listen",
                 "127.0.0.1:0", "--storage", url, "--mqtt", broker.url(), "--mqtt-client-id", "oee-alerts-removed",
                 "--alert-interval-ms", "500"},
                (dir / "serve.log").string(), nullptr};
  server.start();
  oee::testing::Publisher edge(broker.url(), "serve-alerts-removed-edge");
  const std::string two_minutes_ago = oee::format_rfc3339(wall_now() - 120'000);
  for (const char* machine : {"s1/a1/l1/press", "s1/a1/l1/saw"})
    edge.publish({{std::string("oee/v1/") + machine + "/events",
                   std::string(R"({"machine":")") + machine + R"(","ts":")" + two_minutes_ago + R"(","type":"state","state":"running"})"}},
                 0, 1);
  ASSERT_TRUE(eventually([&] {
    return server.count("silent/s1/a1/l1/press", "firing") == 1 && server.count("silent/s1/a1/l1/saw", "firing") == 1 &&
           server.count("old/s1/a1/l1/press", "firing") == 1;
  }, 30s)) << server.process->output();
  ASSERT_TRUE(eventually([&] { return hooks.requests().size() == 3; }, 30s));  // the firings POSTed before it stops
  EXPECT_EQ(server.process->kill(SIGTERM), 0);

  std::ofstream(dir / "plant.yaml") << R"(timezone: UTC
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [{id: press, ideal_cycle_time_s: 1.0}]}]}]}]
alerts:
  rules:
    - {name: silent, kind: no_data, node: s1/a1/l1, for_s: 60}
)" + hook;
  server.start();
  // id -> state and reason, as /api/v1/alerts lists them.
  auto listed = [&] {
    std::map<std::string, std::string> out;
    const auto j = nlohmann::json::parse(oee::testing::http_get(server.port, "/api/v1/alerts", kAuth).body, nullptr, false);
    for (const auto& a : j.is_array() ? j : nlohmann::json::array())
      out[a["id"].get<std::string>()] = a["state"].get<std::string>() + " " + (a["resolved_reason"].is_null() ? "-" : a["resolved_reason"].get<std::string>());
    return out;
  };
  const std::map<std::string, std::string> want{{"silent/s1/a1/l1/press", "firing -"},
                                                {"silent/s1/a1/l1/saw", "resolved node_removed"},
                                                {"old/s1/a1/l1/press", "resolved rule_removed"}};
  ASSERT_TRUE(eventually([&] { return listed() == want; }, 10s)) << nlohmann::json(listed()).dump() << server.process->output();

  // Notified like any resolution: fired three times, resolved twice, each POST with its reason.
  ASSERT_TRUE(eventually([&] { return hooks.requests().size() == 5; }, 30s)) << hooks.requests().size();
  const std::map<std::string, int> notified{{"fired silent/s1/a1/l1/press", 1}, {"fired silent/s1/a1/l1/saw", 1},
                                            {"fired old/s1/a1/l1/press", 1}, {"resolved silent/s1/a1/l1/saw", 1},
                                            {"resolved old/s1/a1/l1/press", 1}};
  EXPECT_EQ(deliveries(hooks), notified);
  for (const auto& r : hooks.requests()) {
    const auto j = nlohmann::json::parse(r.body);
    if (j["event"] != "resolved") continue;
    EXPECT_EQ(j["alert"]["resolved_reason"], j["alert"]["rule"] == "old" ? "rule_removed" : "node_removed") << r.body;
  }
  EXPECT_EQ(server.process->kill(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}
