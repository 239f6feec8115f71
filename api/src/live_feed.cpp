#include "oee/api/live_feed.h"

#include <nlohmann/json.hpp>

#include "live_subprotocols.h"
#include "query_params.h"
#include "oee/codec/kpi_json.h"
#include "oee/server/alert_json.h"

namespace oee::api {

using server::HttpRequest;
using server::HttpResponse;
using namespace detail;

namespace {
// A message to send: one JSON object, its "type" first, then what `write` writes.
template <class Write>
std::shared_ptr<const std::string> message(std::string_view type, const Write& write) {
  std::string out;
  JsonWriter json(out);
  json.begin_object().string_field("type", type);
  write(json);
  json.end_object();
  return std::make_shared<const std::string>(std::move(out));
}

// The array `key` ("nodes" or "kpis") of a subscribe message into `out`: at most `max` paths, each
// a node of the plant; false with the reason in `error` otherwise.
bool node_list(const nlohmann::json& j, const char* key, const PlantModel& plant, std::size_t max,
               std::vector<std::string>& out, std::string& error) {
  const auto list = j.find(key);
  if (list == j.end() || !list->is_array() || list->size() > max) {
    error = "'" + std::string(key) + "' must be an array of at most " + std::to_string(max) + " node paths";
    return false;
  }
  for (const auto& n : *list) {
    if (!n.is_string() || !plant.has_node(n.get<std::string>())) {
      error = "'" + (n.is_string() ? n.get<std::string>().substr(0, 200) : n.dump().substr(0, 200)) + "' is not a node of the plant";
      return false;
    }
    out.push_back(n.get<std::string>());
  }
  return true;
}
}  // namespace

LiveFeed::LiveFeed(server::PlantService& service, LiveFeedOptions options)
    : service_(service), options_(options), ticker_(options.kpi_interval_ms, [this] {
        // Sessions that ended with the passing of time close their connections here.
        if (access_) access_->accounts().end_expired_sessions();
        publish_kpis();
      }) {
  service_.add_ingest_listener([this](const std::vector<Event>& events) { on_events(events); });
  service_.add_live_state_listener([this](const std::vector<std::string>& machines) { publish_states(machines); });
}

LiveFeed::~LiveFeed() {
  stop();
  if (access_) access_->accounts().remove_token_end_listener(token_listener_);
}

void LiveFeed::start() { ticker_.start(); }

void LiveFeed::stop() {
  ticker_.stop();
  std::map<std::uint64_t, Client> clients;
  {
    std::lock_guard lock(mutex_);
    clients.swap(clients_);
  }
  for (auto& [id, c] : clients) c.connection->close();
}

std::size_t LiveFeed::clients() const {
  std::lock_guard lock(mutex_);
  return clients_.size();
}

bool LiveFeed::covers(const std::vector<std::string>& subscriptions, std::string_view node) {
  for (const std::string& s : subscriptions)
    if (s.empty() || node == s || (node.size() > s.size() && node.starts_with(s) && node[s.size()] == '/')) return true;
  return false;
}

void LiveFeed::close_clients_of(const std::vector<std::string>& token_ids) {
  std::vector<std::shared_ptr<server::WebSocketConnection>> ended;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, c] : clients_)
      if (std::find(token_ids.begin(), token_ids.end(), c.token_id) != token_ids.end()) ended.push_back(c.connection);
  }
  static const auto closing = std::make_shared<const std::string>(R"({"type":"closing","reason":"token_ended"})");
  for (const auto& c : ended) {
    c->send(closing);
    c->close();
  }
}

void LiveFeed::add_route(server::Router& router, const Access& access) {
  access_ = &access;
  token_listener_ = access.accounts().add_token_end_listener([this](const std::vector<std::string>& ids) { close_clients_of(ids); });
  router.add_websocket("/api/v1/live", [this, &access](const HttpRequest& r, std::shared_ptr<server::WebSocketConnection> c) {
    server::WebSocketAcceptance out;
    auth::Principal who;
    if (auto refused = access.refuse_websocket(r, auth::Role::display, who)) {
      out.refusal = std::move(*refused);
      return out;
    }
    if (!c) return out;  // a plain GET: the server answers 426
    std::uint64_t id = 0;
    {
      std::lock_guard lock(mutex_);
      id = next_id_++;
      clients_[id] = Client{c, {}, {}, who.token_id};
    }
    // A token that ended since the check above (before this client could be found by it) is refused now.
    if (!access.websocket_principal(r)) {
      std::lock_guard lock(mutex_);
      clients_.erase(id);
      out.refusal = HttpResponse::error(401, "unauthenticated", "the token ended");
      return out;
    }
    if (const auto protocols = r.header("sec-websocket-protocol"); protocols && offers_subprotocol(*protocols, kLiveSubprotocol))
      out.protocol = kLiveSubprotocol;
    out.handlers.on_message = [this, id](std::string_view text) { on_message(id, text); };
    out.handlers.on_close = [this, id] {
      std::lock_guard lock(mutex_);
      clients_.erase(id);
    };
    // The server's clock, so a dashboard counts its timers on it, not on the browser's.
    c->send(message("hello", [&](JsonWriter& json) {
      json.string_field("user", who.user).string_field("role", auth::role_name(who.role));
      json.string_field("now", time_text(service_, service_.now())).number_field("clock_rate", service_.clock_rate());
    }));
    return out;
  });
}

void LiveFeed::on_message(std::uint64_t id, std::string_view text) {
  std::shared_ptr<server::WebSocketConnection> c;
  {
    std::lock_guard lock(mutex_);
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    c = it->second.connection;
  }
  auto error = [&](const std::string& text) {
    c->send(message("error", [&](JsonWriter& json) { json.string_field("message", text); }));
  };
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("type") || j["type"] != "subscribe")
    return error("send {\"type\":\"subscribe\",\"nodes\":[PATH, …]} (\"\" is the whole plant)");
  std::vector<std::string> subscriptions, kpis;
  std::string text_error;
  const auto list = [&](const char* key, std::vector<std::string>& out) {
    return node_list(j, key, service_.plant(), options_.subscriptions_max, out, text_error);
  };
  if (!list("nodes", subscriptions)) return error(text_error);
  // Optional: the nodes whose KPIs it wants, when not every node whose states it follows.
  if (!j.contains("kpis")) kpis = subscriptions;
  else if (!list("kpis", kpis)) return error(text_error);
  bool same_nodes = false;
  {
    std::lock_guard lock(mutex_);
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    same_nodes = it->second.subscribed && j.contains("kpis") && it->second.nodes == subscriptions;
    it->second.nodes = subscriptions;
    it->second.kpis = kpis;
    it->second.subscribed = true;
  }
  c->send(message("subscribed", [&](JsonWriter& json) {
    json.key("nodes").begin_array();
    for (const std::string& node : subscriptions) json.string(node);
    json.end_array().key("kpis").begin_array();
    for (const std::string& node : kpis) json.string(node);
    json.end_array();
  }));
  // A snapshot: every covered machine's state (unless only its "kpis" changed: a dashboard
  // scrolling through a thousand tiles), then the KPIs.
  if (!same_nodes)
    for (const MachineSpec* m : service_.plant().machines())
      if (covers(subscriptions, m->path)) c->send(state_message(m->path), "state:" + m->path);
  for (const std::string& node : kpis) c->send(kpi_message(node), "kpi:" + node);
}

std::shared_ptr<const std::string> LiveFeed::state_message(const std::string& machine) const {
  const server::MachineLiveState live = service_.live_state(machine);
  const MachineSpec* spec = service_.plant().find_machine(machine);
  return message("state", [&](JsonWriter& json) {
    json.string_field("machine", machine).string_field("state", state_name(live.state));
    json.bool_field("no_data", spec && server::is_silent(*spec, live, service_.now())).string_field("reason", live.reason);
    if (live.since) json.string_field("since", time_text(service_, live.since));
    if (!live.product.empty()) json.string_field("product", live.product);
    json.string_field("sent", format_rfc3339(server::system_clock_ms()));
  });
}

std::shared_ptr<const std::string> LiveFeed::kpi_message(const std::string& node) {
  const TimeMs now = service_.now();
  ShiftOccurrence shift;
  const bool in_shift = service_.current_shift(shift, node);
  const TimeMs from = in_shift ? shift.start : now - 8 * kMsPerHour;
  const auto rows = service_.node_kpis(node, Grouping::none, from, now > from ? now : from + 1);
  return message("kpi", [&](JsonWriter& json) {
    json.string_field("node", node);
    if (in_shift) json.string_field("shift", shift.name);
    if (in_shift && !shift.crew.empty()) json.string_field("crew", shift.crew);  // the rotating crew on it
    json.string_field("from", time_text(service_, from)).string_field("to", time_text(service_, now)).key("kpi");
    codec::write_kpi_json(json, rows.front().totals,
                          {node.empty() ? "plant" : node, from, now, shift.name, service_.zone().offset_ms_at(from), {}});
  });
}

void LiveFeed::on_events(const std::vector<Event>& events) {
  // The machines whose live state (state or reason) an event may have changed, once each.
  std::vector<std::string> machines;
  for (const Event& e : events)
    if ((e.type == EventType::state || e.type == EventType::reason) &&
        std::find(machines.begin(), machines.end(), e.machine) == machines.end())
      machines.push_back(e.machine);
  publish_states(machines);
}

void LiveFeed::publish_alert(const AlertChange& change) {
  const std::string body = server::alert_change_json(change);
  auto message = std::make_shared<const std::string>("{\"type\":\"alert\"," + body.substr(1));
  std::vector<std::shared_ptr<server::WebSocketConnection>> connections;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, c] : clients_) connections.push_back(c.connection);
  }
  server::send_to_all(connections, message);
}

void LiveFeed::publish_states(const std::vector<std::string>& machines) {
  if (machines.empty()) return;
  std::vector<std::pair<std::string, std::shared_ptr<const std::string>>> messages;
  for (const std::string& m : machines) messages.emplace_back(m, state_message(m));
  // Clients that take the same changes share one message: a single change as is (coalesced per
  // machine), several as one {"type":"states"} batch, so a burst costs one write per client.
  std::map<std::vector<std::size_t>, std::vector<std::shared_ptr<server::WebSocketConnection>>> groups;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, c] : clients_) {
      std::vector<std::size_t> which;
      for (std::size_t i = 0; i < messages.size(); ++i)
        if (covers(c.nodes, messages[i].first)) which.push_back(i);
      if (!which.empty()) groups[which].push_back(c.connection);
    }
  }
  for (auto& [which, connections] : groups) {
    if (which.size() == 1) {
      server::send_to_all(connections, messages[which.front()].second, "state:" + messages[which.front()].first);
      continue;
    }
    std::string batch = "{\"type\":\"states\",\"items\":[";
    for (std::size_t i : which) batch += *messages[i].second + ',';
    batch.back() = ']';
    batch += '}';
    server::send_to_all(connections, std::make_shared<const std::string>(std::move(batch)));
  }
}

// A machine falls silent (or speaks again) with the passing of time, not with an event: each tick
// sends the state of the machines whose no_data flag changed.
void LiveFeed::publish_silences() {
  const TimeMs now = service_.now();
  std::vector<std::string> changed;
  for (const MachineSpec* m : service_.plant().machines()) {
    if (m->no_data_after_ms <= 0) continue;
    const bool silent = server::is_silent(*m, service_.live_state(m->path), now);
    std::lock_guard lock(mutex_);
    bool& was = silent_[m->path];
    if (was != silent) changed.push_back(m->path);
    was = silent;
  }
  publish_states(changed);
}

void LiveFeed::publish_kpis() {
  publish_silences();
  // Each subscribed node's figures are computed once per tick and shared by its subscribers.
  std::map<std::string, std::vector<std::shared_ptr<server::WebSocketConnection>>> by_node;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, c] : clients_)
      for (const std::string& node : c.kpis) by_node[node].push_back(c.connection);
  }
  for (auto& [node, connections] : by_node) {
    server::send_to_all(connections, kpi_message(node), "kpi:" + node);
  }
}

}  // namespace oee::api
