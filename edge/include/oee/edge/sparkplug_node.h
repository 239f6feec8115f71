#pragma once
// The edge as a Sparkplug B 3.0 edge node (mqtt.format: sparkplug, docs/sparkplug.md): the
// publisher's MessageFormat. Each connection is a session: its will is an NDEATH with a new bdSeq
// (0-255); once the primary host (when one is configured) says STATE online on this connection,
// the session opens with an NBIRTH (seq 0, bdSeq, Node Control/Rebirth) and a DBIRTH per machine
// (device) with its metrics' last values, then the queue's records go out as DDATA, the backlog
// with is_historical. seq runs 0-255 and wraps. A Rebirth command (NCMD) births again; the host's
// STATE offline ends the session: NDEATH, and a new connection that waits for it again.
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "oee/edge/queue_publisher.h"
#include "oee/edge/sparkplug_metrics.h"

namespace oee::edge {

struct SparkplugNodeOptions {
  std::string group;
  std::string node;
  std::string primary_host;  // empty: birth as soon as connected
};

class SparkplugNode : public MessageFormat {
 public:
  SparkplugNode(SparkplugNodeOptions options, SparkplugCatalog catalog);

  std::string topic(std::string_view type) const;  // spBv1.0/<group>/<type>/<node>
  std::string state_topic() const;                 // spBv1.0/STATE/<primary host>
  // The will of the next connection attempt (called by the MQTT client): NDEATH with the next
  // bdSeq once the last one was used by a connection (attempts that never connected keep it).
  std::string next_will();
  void on_connected() { bd_seq_used_ = true; }  // from the client's on_connection
  // NDEATH of the current session, for a clean stop.
  std::string death_payload() const;
  // From the network thread: a node command (NCMD), the primary host's STATE.
  void on_command(std::string_view payload);
  void on_state(std::string_view payload, std::uint64_t generation);
  std::uint64_t births() const { return births_.load(); }

  void on_connection(std::uint64_t generation) override;
  Session session(std::uint64_t generation, std::vector<OutMessage>& out) override;
  void build(std::string_view machine, std::span<const QueueRecord* const> records, std::uint64_t live_from,
             std::vector<OutMessage>& out) override;

 private:
  std::uint64_t next_seq();
  void append_births(std::vector<OutMessage>& out);
  std::string death_payload(std::uint64_t bd_seq) const;

  SparkplugNodeOptions options_;
  // Publisher thread only: the metrics of each machine and their last values.
  SparkplugCatalog catalog_;
  std::map<std::string, std::map<std::string, SparkplugMetric>, std::less<>> last_;
  std::uint64_t seq_ = 0;
  bool born_ = false;   // this connection's births are out
  bool ended_ = false;  // the host went offline: this connection carries nothing more
  std::atomic<std::uint64_t> bd_seq_{0};  // this connection's
  std::atomic<bool> bd_seq_used_{false};
  bool first_will_ = true;  // the MQTT client's thread only
  std::atomic<bool> rebirth_requested_{false};
  // The connection generation on which the host last said online (0: offline), and the STATE
  // timestamp it said it with (older STATE messages are stale).
  std::atomic<std::uint64_t> online_generation_{0};
  std::atomic<std::int64_t> state_timestamp_{-1};
  std::atomic<std::uint64_t> births_{0};
};

}  // namespace oee::edge
