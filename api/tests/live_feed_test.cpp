// WebSocket /api/v1/live against the real server: authentication, subscription, snapshot, state
// changes as they are ingested, rolling KPIs, bad input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../server/tests/websocket_client.h"
#include "api_fixture.h"
#include "live_messages.h"

namespace oee::api {

TEST_F(Api, LiveNeedsAToken) {
  testing::WebSocketClient anonymous(http_->port(), "/api/v1/live");
  EXPECT_EQ(anonymous.status, 401);
  testing::WebSocketClient wrong(http_->port(), "/api/v1/live?access_token=oee_nope");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(request("GET", "/api/v1/live", "", viewer_token_).status, 426);
}

namespace {
// Unpadded base64url, as a browser's btoa() with the URL-safe alphabet gives it.
std::string base64url(const std::string& bytes) {
  static const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned bits = 0;
  int held = 0;
  for (const unsigned char c : bytes) {
    bits = (bits << 8) | c;
    held += 8;
    while (held >= 6) out += digits[(bits >> (held -= 6)) & 63];
  }
  if (held > 0) out += digits[(bits << (6 - held)) & 63];
  return out;
}
}  // namespace

// The browser's way without a token in the URL: Sec-WebSocket-Protocol offers `oee.live.v1` and
// `bearer.<base64url>`; the answer names `oee.live.v1` (a browser drops a connection without it),
// never the token. A wrong, undecodable or absent bearer offer is refused before the upgrade.
TEST_F(Api, LiveTokenInTheSubprotocolHeader) {
  const std::string offer = base64url(viewer_token_);
  testing::WebSocketClient ws(http_->port(), "/api/v1/live", "Sec-WebSocket-Protocol: oee.live.v1, bearer." + offer + "\r\n");
  ASSERT_EQ(ws.status, 101) << ws.handshake;
  EXPECT_NE((ws.handshake + "\r\n").find("\r\nSec-WebSocket-Protocol: oee.live.v1\r\n"), std::string::npos) << ws.handshake;
  EXPECT_EQ(ws.handshake.find("bearer"), std::string::npos) << ws.handshake;
  EXPECT_EQ(next_of(ws, "hello")["role"], "viewer");
  // A login's session token; and any bytes at all (OEE_ADMIN_TOKEN is the operator's choice) pass encoded.
  accounts_->create_user("olga", "operator-password", auth::Role::operator_);
  const std::string session = accounts_->login("olga", "operator-password", "127.0.0.1").session.token;
  testing::WebSocketClient operator_(http_->port(), "/api/v1/live", "Sec-WebSocket-Protocol: oee.live.v1, bearer." + base64url(session) + "\r\n");
  ASSERT_EQ(operator_.status, 101) << operator_.handshake;
  EXPECT_EQ(next_of(operator_, "hello")["user"], "olga");
  accounts_->set_environment_admin_token("admin: token/with+odd chars");
  testing::WebSocketClient admin(http_->port(), "/api/v1/live", "Sec-WebSocket-Protocol: oee.live.v1, bearer." + base64url("admin: token/with+odd chars") + "\r\n");
  ASSERT_EQ(admin.status, 101) << admin.handshake;
  EXPECT_EQ(next_of(admin, "hello")["role"], "admin");
  testing::WebSocketClient wrong(http_->port(), "/api/v1/live", "Sec-WebSocket-Protocol: oee.live.v1, bearer." + base64url("oee_nope") + "\r\n");
  EXPECT_EQ(wrong.status, 401);
  testing::WebSocketClient garbled(http_->port(), "/api/v1/live", "Sec-WebSocket-Protocol: oee.live.v1, bearer.not*base64\r\n");
  EXPECT_EQ(garbled.status, 401);
  testing::WebSocketClient none(http_->port(), "/api/v1/live", "Sec-WebSocket-Protocol: oee.live.v1\r\n");
  EXPECT_EQ(none.status, 401);
}

TEST_F(Api, LiveStateChangesAndKpis) {
  ingest_vorne_shift();
  testing::WebSocketClient ws(http_->port(), "/api/v1/live", "Authorization: Bearer " + viewer_token_ + "\r\n");
  ASSERT_EQ(ws.status, 101) << ws.handshake;
  EXPECT_EQ(ws.handshake.find("permessage-deflate"), std::string::npos);
  EXPECT_EQ(next_of(ws, "hello")["role"], "viewer");
  ws.send_text(R"({"type":"subscribe","nodes":["s9"]})");
  EXPECT_NE(next_of(ws, "error")["message"].get<std::string>().find("'s9' is not a node"), std::string::npos);
  ws.send_text("not json");
  EXPECT_FALSE(next_of(ws, "error").empty());
  ws.send_text(R"({"type":"subscribe","nodes":["s1/a1/l1/press"]})");
  EXPECT_EQ(next_of(ws, "subscribed")["nodes"][0], "s1/a1/l1/press");
  auto state = next_of(ws, "state");
  EXPECT_EQ(state["machine"], "s1/a1/l1/press");
  EXPECT_EQ(state["state"], "running");
  auto kpi = next_of(ws, "kpi");
  EXPECT_EQ(kpi["node"], "s1/a1/l1/press");
  EXPECT_TRUE(kpi["kpi"].contains("oee"));
  // A state change reaches the client as it is ingested.
  Event e;
  std::string error;
  ASSERT_TRUE(codec::parse_event(R"({"ts":"2026-11-10T13:59:30-06:00","machine":"s1/a1/l1/press","type":"state","state":"2","reason":"jam","src":"plc","seq":10})", e, error));
  service_->ingest({e}, "test");
  state = next_of(ws, "state");
  EXPECT_EQ(state["state"], "stopped") << state.dump();
  EXPECT_EQ(state["reason"], "jam");
  EXPECT_EQ(state["since"], "2026-11-10T13:59:30-06:00");
  // Rolling KPIs keep coming (every 100 ms in this fixture).
  EXPECT_FALSE(next_of(ws, "kpi").empty());
  // The deprecated browser way, kept for older clients: the token as a query parameter.
  testing::WebSocketClient browser(http_->port(), "/api/v1/live?access_token=" + viewer_token_);
  EXPECT_EQ(browser.status, 101);
  EXPECT_EQ(live_->clients(), 2u);
}

// "kpis" narrows the figures to the nodes named (a dashboard's tiles on screen) while the states of
// every machine under "nodes" still come; a new "kpis" list with the same nodes sends no second
// states snapshot.
TEST_F(Api, LiveKpisOnlyOfTheNodesNamed) {
  ingest_vorne_shift();
  testing::WebSocketClient ws(http_->port(), "/api/v1/live?access_token=" + viewer_token_);
  ASSERT_EQ(ws.status, 101);
  ws.send_text(R"({"type":"subscribe","nodes":[""],"kpis":["s9"]})");
  EXPECT_NE(next_of(ws, "error")["message"].get<std::string>().find("'s9' is not a node"), std::string::npos);
  ws.send_text(R"({"type":"subscribe","nodes":[""],"kpis":"s1"})");
  EXPECT_NE(next_of(ws, "error")["message"].get<std::string>().find("'kpis' must be an array"), std::string::npos);
  ws.send_text(R"({"type":"subscribe","nodes":[""],"kpis":["s1/a1/l1/press"]})");
  EXPECT_EQ(next_of(ws, "subscribed")["kpis"], nlohmann::json::array({"s1/a1/l1/press"}));
  EXPECT_EQ(next_of(ws, "state")["machine"].get<std::string>().rfind("s1/", 0), 0u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(next_of(ws, "kpi")["node"], "s1/a1/l1/press");  // the snapshot's, then ticks
  ws.send_text(R"({"type":"subscribe","nodes":[""],"kpis":["s1/a1/l1"]})");
  for (int i = 0; i < 100; ++i) {  // up to the answer: ticks of the old list may still come
    const auto m = nlohmann::json::parse(ws.receive().value_or("{}"));
    if (m["type"] == "subscribed") break;
  }
  int states = 0;  // before the new list's first figures: the snapshot would send every machine's
  nlohmann::json after;
  for (int i = 0; i < 100 && after["type"] != "kpi"; ++i) {
    after = nlohmann::json::parse(ws.receive().value_or("{}"));
    states += after["type"] == "state" || after["type"] == "states";
  }
  EXPECT_EQ(states, 0);
  EXPECT_EQ(after["node"], "s1/a1/l1");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(next_of(ws, "kpi")["node"], "s1/a1/l1");
}

// idle (no_data_after_s: 60) falls silent with the passing of time: the tick sends its state with
// no_data true; a heartbeat makes it speak again.
TEST_F(Api, LiveStateSaysNoDataWhenAMachineFallsSilent) {
  Event e;
  std::string error;
  ASSERT_TRUE(codec::parse_event(R"({"ts":"2026-11-10T13:59:30-06:00","machine":"s1/a1/l1/idle","type":"state","state":"running","src":"e","seq":1})", e, error));
  service_->ingest({e}, "test");
  testing::WebSocketClient ws(http_->port(), "/api/v1/live", "Authorization: Bearer " + viewer_token_ + "\r\n");
  ASSERT_EQ(ws.status, 101) << ws.handshake;
  ws.send_text(R"({"type":"subscribe","nodes":["s1/a1/l1/idle"]})");
  auto state = next_of(ws, "state");
  EXPECT_EQ(state["state"], "running");
  EXPECT_EQ(state["no_data"], false);
  now_ = at("2026-11-10T14:05:00-06:00");  // 5.5 min after its last event
  state = next_of(ws, "state");
  EXPECT_EQ(state["machine"], "s1/a1/l1/idle");
  EXPECT_EQ(state["no_data"], true) << state.dump();
  ASSERT_TRUE(codec::parse_event(R"({"ts":"2026-11-10T14:04:59-06:00","machine":"s1/a1/l1/idle","type":"heartbeat","src":"e","seq":2})", e, error));
  service_->ingest({e}, "test");
  state = next_of(ws, "state");
  EXPECT_EQ(state["no_data"], false) << state.dump();
  EXPECT_EQ(state["state"], "running");
}

// A machine another server ingests into the shared database: its state change reaches the store
// without passing through this server's ingest, and reaches this server's clients when the live
// state is refreshed from the store.
TEST_F(Api, LiveStateOfAMachineIngestedElsewhereComesFromTheStore) {
  ingest_vorne_shift();
  testing::WebSocketClient ws(http_->port(), "/api/v1/live", "Authorization: Bearer " + viewer_token_ + "\r\n");
  ASSERT_EQ(ws.status, 101) << ws.handshake;
  ws.send_text(R"({"type":"subscribe","nodes":["s1/a1/l1/press"]})");
  EXPECT_EQ(next_of(ws, "state")["state"], "running");
  Event e;
  std::string error;
  ASSERT_TRUE(codec::parse_event(R"({"ts":"2026-11-10T13:59:30-06:00","machine":"s1/a1/l1/press","type":"state","state":"2","reason":"jam","src":"other-server","seq":1})", e, error));
  service_->with_store([&](storage::EventStore& store) { return store.append(std::span(&e, 1), e.ts); });
  EXPECT_EQ(service_->live_state("s1/a1/l1/press").state, State::running);  // not ingested here
  const std::vector<const MachineSpec*> machines{service_->plant().find_machine("s1/a1/l1/press")};
  service_->refresh_live_states(machines);
  EXPECT_EQ(service_->live_state("s1/a1/l1/press").state, State::stopped);
  const auto state = next_of(ws, "state");
  EXPECT_EQ(state["state"], "stopped") << state.dump();
  EXPECT_EQ(state["reason"], "jam");
  EXPECT_EQ(state["since"], "2026-11-10T13:59:30-06:00");
  EXPECT_EQ(request("GET", "/api/v1/plant", "", viewer_token_).body.find("\"state\":\"running\""), std::string::npos);
}

// A client that never reads does not hold up one that does; its queue stays bounded (updates of
// the same machine replace each other) or it is dropped.
TEST_F(Api, LiveSlowClientDoesNotSlowOthers) {
  ingest_vorne_shift();
  testing::WebSocketClient slow(http_->port(), "/api/v1/live?access_token=" + viewer_token_);
  testing::WebSocketClient fast(http_->port(), "/api/v1/live?access_token=" + viewer_token_);
  ASSERT_EQ(slow.status, 101);
  slow.send_text(R"({"type":"subscribe","nodes":[""]})");
  fast.send_text(R"({"type":"subscribe","nodes":[""]})");
  ASSERT_FALSE(next_of(fast, "subscribed").empty());
  for (int i = 0; i < 200; ++i) {
    Event e;
    e.ts = at("2026-11-10T13:59:31-06:00") + i;
    e.machine = "s1/a1/l1/press";
    e.type = EventType::state;
    e.state = i % 2 ? "1" : "2";
    e.reason = "r" + std::to_string(i);
    e.src = "plc";
    e.seq = 100 + i;
    service_->ingest({e}, "test");
  }
  // The fast client sees the last state.
  std::string last;
  for (int i = 0; i < 5000; ++i) {
    const auto m = fast.receive(2000);
    if (!m) break;
    if (m->find("\"reason\":\"r199\"") != std::string::npos) {
      last = *m;
      break;
    }
  }
  EXPECT_NE(last, "");
  const std::string metrics = request("GET", "/metrics", "", viewer_token_).body;
  EXPECT_NE(metrics.find("oee_websocket_queue_bytes"), std::string::npos);
}

}  // namespace oee::api
