#pragma once
// WebSocket /api/v1/live: a client subscribes to nodes and gets the state changes of every machine
// under them as they are ingested, and the rolling KPIs of the current shift of each subscribed
// node, or of the nodes it names in "kpis" (every `kpi_interval_ms`): a dashboard of a
// thousand machines asks for the figures of the tiles on its screen only. Machines another server ingests into the shared database change
// state here when their live state is refreshed from it (oee/server/live_state_refresh.h).
// Messages are built once and shared by all clients; per client, a newer update of the same
// machine or node replaces one still waiting, and a client too far behind is dropped by the
// server, so a slow client never slows the others. A client's connection closes as soon as the
// token it connected with ends (logout, revocation, a role change, or a session's idle timeout or
// lifetime, which each tick checks), after a {"type":"closing","reason":"token_ended"} message.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "oee/api/access.h"
#include "oee/core/alert.h"
#include "oee/server/http.h"
#include "oee/server/periodic_task.h"
#include "oee/server/plant_service.h"

namespace oee::api {

struct LiveFeedOptions {
  DurationMs kpi_interval_ms = 1000;
  std::size_t subscriptions_max = 256;  // nodes per client
};

class LiveFeed {
 public:
  LiveFeed(server::PlantService& service, LiveFeedOptions options = {});
  ~LiveFeed();
  // Registers GET /api/v1/live (viewer role; token in the Authorization header or ?access_token=).
  // Once only; `access` must outlive this.
  void add_route(server::Router& router, const Access& access);
  void start();
  void stop();
  std::size_t clients() const;
  // Sends an alert change, {"type":"alert","event":…,"alert":{…}}, to every client: alerts are
  // few and concern the whole plant's staff.
  void publish_alert(const AlertChange& change);

 private:
  struct Client {
    std::shared_ptr<server::WebSocketConnection> connection;
    std::vector<std::string> nodes;  // subscriptions ("" = the whole plant)
    std::vector<std::string> kpis;   // the nodes whose KPIs it gets (default: nodes)
    std::string token_id;            // of the token it connected with
    bool subscribed = false;         // has sent a subscribe (its states' snapshot went out)
  };
  void close_clients_of(const std::vector<std::string>& token_ids);
  void on_message(std::uint64_t id, std::string_view text);
  void on_events(const std::vector<Event>& events);
  // Sends the current state of these machines to the clients subscribed to them.
  void publish_states(const std::vector<std::string>& machines);
  void publish_kpis();
  void publish_silences();
  std::shared_ptr<const std::string> state_message(const std::string& machine) const;
  std::shared_ptr<const std::string> kpi_message(const std::string& node);
  static bool covers(const std::vector<std::string>& subscriptions, std::string_view node);

  server::PlantService& service_;
  LiveFeedOptions options_;
  const Access* access_ = nullptr;  // set by add_route
  int token_listener_ = 0;
  mutable std::mutex mutex_;
  std::map<std::uint64_t, Client> clients_;
  std::uint64_t next_id_ = 1;
  std::map<std::string, bool> silent_;  // the no_data flag last sent, by machine (under mutex_)
  // The KPI tick; a failed round (storage briefly unavailable) is left to the next. Last: stopped
  // before the members it uses go.
  server::PeriodicTask ticker_;
};

}  // namespace oee::api
