#pragma once
// Drains the durable queue to MQTT in order: reads durable records, batches them per machine into
// one message each (a JSON array on oee/v1/<machine path>/events) and publishes with QoS 1.
// Records leave the queue when the server reports them committed (commit reports on
// oee/v1/_edge/<id>/committed, codec/commit_report.h), or, with `commit_ack` off, when the broker
// has acknowledged (PUBACK) every message holding them. A report that shows records missing which
// the broker acknowledged long enough ago (a broker that lost them) makes it send again from the
// first missing one. On a new connection it starts again at the oldest unacknowledged record (the
// server deduplicates the redelivered ones by src+inc+seq); records queued before that connection
// are sent with "historical": true. It also publishes the edge status (retained). A MessageFormat
// (SparkplugNode) replaces the JSON messages, and the session around them, with its own.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <map>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "oee/edge/durable_queue.h"
#include "oee/transport/mqtt_client.h"

namespace oee::edge {

struct PublisherOptions {
  std::string edge_id;
  std::string incarnation;  // the queue's (queue_incarnation.h): `inc` of every published event
  // Keep records until the server reports them committed, not only until the broker acknowledged.
  bool commit_ack = true;
  // How long records the broker acknowledged may be missing from the server's reports before they
  // are sent again; doubled after each resend up to kMaxResendBackoff times (resend_wait_ms()).
  int resend_after_ms = 10000;
  int max_events_per_message = 1000;
  int max_inflight_messages = 64;
  int status_interval_ms = 5000;
  bool publish_status = true;  // the retained JSON status (not in Sparkplug mode: its will is NDEATH)
};

struct PublisherStats {
  std::uint64_t messages_published = 0;
  std::uint64_t events_published = 0;  // including redeliveries
  std::uint64_t historical_events_published = 0;
  std::uint64_t messages_acknowledged = 0;
  std::uint64_t commit_reports = 0;     // reports of our incarnation taken
  std::uint64_t resends = 0;            // times the publisher went back to records a report showed missing
  std::uint64_t resent_from_seq = 0;    // where the last resend started
  std::int64_t resend_wait_ms = 0;      // how long a record may be missing now before the next resend
};

// A resend of records a server only had not reached yet (it lags: a backlog, a slow commit) adds
// their load to a server already behind, and the next stall comes sooner: so each resend doubles
// the wait before the next, up to this many times resend_after_ms, and the wait halves again after
// a spell of four waits without one, or comes back whole once the server caught up.
constexpr int kMaxResendBackoff = 8;

// A queued event record: "<machine path>\t<event JSON without machine, src and seq>".
std::string make_queue_record(std::string_view machine, std::string_view event_json);
// The JSON published for a record: src, seq, inc (when not empty) and historical spliced in front.
void append_published_event(std::string& out, std::string_view record_json, std::string_view src,
                             std::uint64_t seq, std::string_view inc, bool historical);
std::string status_topic(std::string_view edge_id);
std::string events_topic(std::string_view machine_path);

// A message to publish, with the queued events it carries.
struct OutMessage {
  std::string topic, payload;
  std::size_t events = 0, historical = 0;
};

// How records become messages, and what a session needs around them. Without one the publisher
// speaks the JSON contract; SparkplugNode (sparkplug_node.h) speaks Sparkplug B.
class MessageFormat {
 public:
  // wait: send nothing yet; ready: send data; end: publish what `session` gave, then reconnect.
  enum class Session { wait, ready, end };
  virtual ~MessageFormat() = default;
  virtual void on_connection(std::uint64_t generation) = 0;  // the session starts over
  // Messages due before any data (births) are appended to `out`.
  virtual Session session(std::uint64_t generation, std::vector<OutMessage>& out) = 0;
  // The messages of one machine's records (in queue order); records below `live_from` are backlog.
  virtual void build(std::string_view machine, std::span<const QueueRecord* const> records, std::uint64_t live_from,
                     std::vector<OutMessage>& out) = 0;
};

class QueuePublisher {
 public:
  QueuePublisher(DurableQueue& queue, PublisherOptions options);
  ~QueuePublisher();
  // The client's handlers must forward on_published to this publisher.
  void set_client(transport::MqttClient* client) { client_ = client; }
  // Before start(); the format must outlive the publisher.
  void set_format(MessageFormat* format) { format_ = format; }
  // The broker acknowledged message `message_id` of connection `generation`.
  void on_published(int message_id, std::uint64_t generation);
  // A commit report arrived (the client's on_message for commit_report_topic(edge id)).
  void on_commit_report(std::string_view payload);
  void start();
  void stop();
  PublisherStats stats() const;
  // Before a clean shutdown (the will only covers a lost connection).
  void publish_offline_status();
  // The status JSON (also published): {"edge", "state", "ts", "queue_depth", "oldest_unsent_age_ms", …}.
  std::string status_json(std::string_view state) const;

 private:
  struct Window {
    std::uint64_t end_id = 0;  // records below are in this window or before
    int pending = 0;           // messages not yet acknowledged
    bool complete = false;     // every message of the window is published
  };
  void run();
  void reset_for_generation(std::uint64_t generation);
  bool publish_batch();
  void build_json(std::string_view machine, std::span<const QueueRecord* const> records, std::uint64_t live_from,
                  std::vector<OutMessage>& out) const;
  // The format's session messages; false while data must wait.
  bool run_session(std::uint64_t generation);
  // A message outside the queue's windows (status, births): acknowledged, never waited for.
  bool publish_untracked(const std::string& topic, const std::string& payload, bool retain);
  void publish_status();
  void advance_acks_locked();
  // After a commit report: how far the server has committed, and whether to send again.
  void take_commit_end_locked(std::uint64_t committed_end);
  void relax_resend_wait_locked(std::int64_t now_ms);
  // Registers a message just published (without our lock held, so that the network thread's
  // PUBACK callback can never wait on us while it holds libmosquitto's locks).
  void register_published_locked(std::uint64_t generation, int message_id, std::uint64_t window_index);

  DurableQueue& queue_;
  PublisherOptions options_;
  transport::MqttClient* client_ = nullptr;
  MessageFormat* format_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable acked_cv_;
  std::deque<Window> windows_;
  std::uint64_t window_base_ = 0;  // index of windows_.front() in the generation's sequence
  // (connection generation, message id) -> window index (kStatusMessage for status messages).
  std::map<std::pair<std::uint64_t, int>, std::uint64_t> inflight_;
  // PUBACKs that came before their message was registered.
  std::set<std::pair<std::uint64_t, int>> early_acks_;
  static constexpr std::uint64_t kStatusMessage = UINT64_MAX;
  int inflight_count_ = 0;
  std::uint64_t generation_ = 0;
  std::uint64_t next_read_ = 0;
  std::uint64_t live_from_ = 0;  // records below were queued before this connection: historical
  // Records below were acknowledged by the broker at least once (commit_ack: they stay queued until
  // the server reports them).
  std::uint64_t broker_acked_end_ = 0;
  // The first record a commit report showed missing though the broker had acknowledged it, and
  // since when (steady clock ms); UINT64_MAX: none.
  std::uint64_t missing_from_ = UINT64_MAX;
  std::int64_t missing_since_ms_ = 0;
  std::int64_t resend_wait_ms_ = 0;   // see kMaxResendBackoff; resend_after_ms at first
  std::int64_t last_resend_ms_ = 0;   // steady clock ms of the last resend, or of the last halving
  bool resend_requested_ = false;
  PublisherStats stats_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace oee::edge
