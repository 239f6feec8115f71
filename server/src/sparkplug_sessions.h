#pragma once
// The host application's view of each Sparkplug edge node's session (specification 5.x): its
// birth (bdSeq, the aliases and datatypes of its and its devices' metrics), the seq of its
// messages (0-255, wrapping; messages out of order are held for the reorder timeout), its death,
// and the events its mapped metrics make. No I/O: what it decides goes out through the callbacks.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "oee/server/metrics.h"
#include "oee/server/sparkplug_host.h"
#include "oee/sparkplug/payload_codec.h"
#include "oee/sparkplug/topic.h"
#include "sparkplug_signals.h"

namespace oee::server {

struct SparkplugOutput {
  std::function<void(std::vector<Event> events, std::string_view origin)> ingest;  // the timer's heartbeats
  std::function<void(std::string_view origin, std::string_view payload, std::string_view reason)> dead_letter;
  std::function<void(const std::string& topic, const std::string& payload)> publish;  // Rebirth NCMD
};

class SparkplugSessions {
 public:
  SparkplugSessions(const PlantModel& plant, DurationMs reorder_timeout_ms, Metrics& metrics, SparkplugOutput out);
  // A message of an edge node (not STATE) received at `now`. Its events wait for take_events(), so
  // that the messages of a batch are stored in one commit.
  void handle(const sparkplug::Topic& topic, std::string_view topic_text, std::string_view payload, TimeMs now);
  struct Pending {
    std::vector<Event> events;
    std::string origin;  // the topic when all came from one, else "sparkplug"
  };
  // The events of the messages handled since the last call.
  Pending take_events();
  // Gaps open longer than the reorder timeout: their held messages are dead-lettered and the node is
  // asked for a Rebirth. Heartbeats for the machines of live nodes and devices.
  void tick(TimeMs now);
  SparkplugHostStats stats() const;

 private:
  struct Born {
    std::string name;
    sparkplug::DataType type{};
  };
  struct Scope {  // a node's own metrics, or a device's
    bool alive = false;
    std::map<std::uint64_t, Born> by_alias;
    std::map<std::string, sparkplug::DataType, std::less<>> by_name;
  };
  struct Held {
    sparkplug::Topic topic;
    std::string topic_text, payload;
    sparkplug::pb::Payload decoded;
  };
  struct Node {
    std::string group, name;
    bool born = false;              // NBIRTH taken, no NDEATH since
    bool awaiting_rebirth = false;  // asked for one after a gap; data refused until the NBIRTH
    bool seen = false;              // a birth or death of it came since this host started
    bool adopted = false;           // its session taken up from named data (no birth seen yet)
    std::uint64_t bd_seq = 0;
    std::uint64_t next_seq = 0;
    Scope own;
    std::map<std::string, Scope, std::less<>> devices;
    std::map<std::uint64_t, Held> held;  // by seq, while a gap is open
    TimeMs gap_since = 0;
    TimeMs rebirth_asked_at = 0;
  };

  void take_birth(Node& node, const Held& m, TimeMs now);
  void take_node_death(Node& node, const Held& m, TimeMs now);
  void take_in_order(Node& node, Held m, TimeMs now);
  void take_sequenced(Node& node, const Held& m, TimeMs now);
  void take_data(Node& node, Scope& scope, const Held& m, bool birth, TimeMs now);
  void refuse_before_birth(Node& node, const Held& m, TimeMs now, std::string_view why);
  bool adopt(Node& node, const Held& m, TimeMs now);
  void close_gap(Node& node, TimeMs now);
  void ask_rebirth(Node& node, TimeMs now);
  void die(const std::vector<const MachineSpec*>& machines, Scope& scope, TimeMs now);
  void heartbeats(const std::vector<const MachineSpec*>& machines, TimeMs now, std::vector<Event>& out);
  void dead_letter(const Held& m, const std::string& reason);
  void add_pending(std::vector<Event>& events, std::string_view origin);

  SparkplugRoutes routes_;
  DurationMs reorder_timeout_ms_;
  Metrics& metrics_;
  SparkplugOutput out_;
  mutable std::mutex mutex_;
  std::map<std::string, Node, std::less<>> nodes_;  // by "group/node"
  std::map<std::string, TimeMs, std::less<>> last_heartbeat_;  // by machine path
  SparkplugHostStats stats_;
  Pending pending_;
};

}  // namespace oee::server
