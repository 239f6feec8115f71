#pragma once
// The Client's state, shared by the connection/session code (client.cpp), the attribute services
// (attribute_services.cpp) and the subscription machinery (subscriptions.cpp).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "oee/opcua/client.h"
#include "secure_channel.h"
#include "service_messages.h"
#include "tcp_connection.h"

namespace oee::opcua {

struct Client::Impl {
  using Clock = std::chrono::steady_clock;
  // Completion of one request: the status of the transport (Good, or why no response came) and
  // the response body when there is one.
  using Completion = std::function<void(StatusCode transport_status, std::vector<uint8_t>* body)>;

  struct MonitoredItemState {
    MonitoredItemRequest request;
    uint32_t server_id = 0;
  };
  // Shared by the notifier (publish responses), the supervisor (keep-alive, recovery) and user
  // calls: the fields they race on are atomic; items and settings change under subscription_ops_mutex.
  struct SubscriptionState {
    uint32_t id = 0;                        // ours, stable
    std::atomic<uint32_t> server_id{0};     // changes when the subscription is recreated
    SubscriptionSettings settings;
    std::atomic<double> revised_interval_ms{0};
    std::atomic<uint32_t> revised_keep_alive_count{0};
    DataChangeHandler handler;
    std::map<uint32_t, MonitoredItemState> items;   // by client handle
    std::atomic<uint32_t> last_sequence_number{0};  // 0: none seen yet
    std::atomic<Clock::rep> last_publish_at{Clock::now().time_since_epoch().count()};
    std::atomic<int64_t> last_publish_ticks{0};     // DateTime of the last data message
    std::atomic<bool> keep_alive_reported{false};
    std::atomic<bool> needs_recreate{false};        // the server let it expire (StatusChange BadTimeout)

    void touch() { last_publish_at = Clock::now().time_since_epoch().count(); }
    Clock::duration since_last_publish() const {
      return Clock::now() - Clock::time_point(Clock::duration(last_publish_at.load()));
    }
  };

  explicit Impl(ClientConfig c);

  // --- connection (client.cpp)
  void open_channel();
  // None, or the secured policy of the endpoint discovered and chosen for this connection.
  std::unique_ptr<SecurityPolicy> make_channel_security(const TransportLimits& ours);
  void close_channel(StatusCode reason);
  void connection_lost(uint64_t generation, StatusCode status, const std::string& why);
  void reader_loop(std::shared_ptr<SecureChannel> channel, uint64_t generation);
  void supervisor_loop();
  void recover();
  void emit(ClientEvent event);

  // --- requests
  std::vector<uint8_t> encode_request(uint32_t type_id, uint32_t request_handle,
                                      const std::function<void(BinaryWriter&)>& fields, uint32_t timeout_hint_ms);
  // Sends and returns the request id (0 when not sent); completion runs on the reader thread, or
  // at once when sending fails.
  uint32_t send_async(uint32_t type_id, const std::function<void(BinaryWriter&)>& fields, uint32_t timeout_hint_ms,
                  Completion completion);
  // Sends, waits and returns the response body; throws Error on transport failure or timeout.
  std::vector<uint8_t> call(uint32_t type_id, const std::function<void(BinaryWriter&)>& fields);
  void fail_all_pending(StatusCode status);

  // --- session (client.cpp)
  std::shared_ptr<SecureChannel> current_channel();
  void create_session();
  void check_server_session(const SecurityPolicy& security, const std::string& certificate, const std::string& nonce,
                            const std::string& signature, const std::string& client_nonce);
  void activate_session();
  void close_session();
  void read_operation_limits();
  std::vector<EndpointDescription> get_endpoints();

  // --- subscriptions (subscriptions.cpp)
  void create_subscription_on_server(SubscriptionState& sub);
  std::vector<MonitoredItemResult> create_items_on_server(SubscriptionState& sub, const std::vector<uint32_t>& handles);
  void restore_subscriptions(DateTime lost_at);
  // Creates the subscription and all its items anew and reports the loss since `since`.
  void recreate_subscription(SubscriptionState& sub, DateTime since, StatusCode why);
  // After the session survived an outage its subscriptions may not have (their lifetime is
  // shorter): probe each with Republish and recreate the ones the server no longer knows, and
  // those a StatusChangeNotification declared expired.
  void recreate_expired_subscriptions(DateTime since, bool probe);
  void fill_publish_pipeline();
  void send_publish();
  void on_publish_completed(StatusCode transport_status, std::vector<uint8_t>* body);
  void notifier_loop();
  void process_publish_response(std::vector<uint8_t>& body);
  void deliver_notification(SubscriptionState& sub, BinaryReader& r, uint32_t sequence_number);
  bool republish(SubscriptionState& sub, uint32_t sequence_number);
  void check_keep_alive();
  void note_oversized(const SubscriptionState& sub, std::span<const DataChange> changes);
  void report_overflows(const SubscriptionState& sub, uint32_t sequence_number, std::span<const DataChange> changes);
  void drop_oversized_items();
  void delete_items(uint32_t subscription, std::span<const uint32_t> client_handles);
  // Before a reconnect: the first try's wait (0: at once) after noting a quick relapse.
  uint32_t first_reconnect_delay_ms();

  // --- values that break the channel instead of arriving as BadResponseTooLarge (oversize_bisect.cpp)
  // Called by connection_lost before the pending requests fail: counts a too-large failure while a
  // Publish was outstanding, and is the observation of a bisection step.
  void note_channel_failure(uint64_t generation, StatusCode status);
  // Supervisor thread, after a reconnect (reconnected) or on its tick: starts the bisection after
  // repeated failures, narrows it on what the last step showed, drops the item once it is alone.
  void advance_oversize_bisect(bool reconnected, bool session_survived);
  void set_monitoring_mode(const std::map<uint32_t, std::vector<uint32_t>>& handles, bool reporting);
  bool start_oversize_bisect();  // false when there is no item to suspect
  bool narrow_oversize_bisect(bool reconnected);
  void end_oversize_bisect();    // every item held back reports again
  void apply_bisect_step();
  std::chrono::milliseconds observation_window();
  void drop_bisected_item();

  ClientConfig config;
  EndpointAddress address;
  ClientEventHandler event_handler;
  std::mutex event_mutex;

  // Connection: the channel is replaced on recovery; generation tells stale readers apart.
  std::mutex channel_mutex;
  std::shared_ptr<SecureChannel> channel;
  std::thread reader;
  std::atomic<uint64_t> generation{0};
  std::atomic<bool> channel_up{false};
  std::atomic<bool> lost{false};
  std::atomic<bool> stopping{false};
  DateTime lost_at;
  StatusCode lost_status;
  // Recovery's backoff, kept across recoveries (supervisor thread only).
  Clock::time_point recovered_at{};
  uint32_t backoff_ms = 0;
  uint32_t relapses = 0;  // losses in a row, each soon after a reconnect

  std::mutex pending_mutex;
  std::map<uint32_t, Completion> pending;  // by request id

  // Session
  std::mutex session_mutex;
  NodeId session_id;
  NodeId authentication_token;
  std::string server_nonce;
  std::string server_certificate;
  std::vector<EndpointDescription> session_endpoints;
  EndpointDescription secured_endpoint;  // the endpoint of the current secured channel
  double revised_session_timeout_ms = 0;
  std::atomic<bool> has_session{false};
  OperationLimits limits;
  std::atomic<Clock::rep> last_activity{0};  // Clock ticks of the last request sent

  // Subscriptions. subscription_ops_mutex serialises changes to subscriptions and items (user
  // calls, recovery); subscriptions_mutex guards the map itself for the notifier.
  std::mutex subscription_ops_mutex;
  std::mutex subscriptions_mutex;
  std::map<uint32_t, std::shared_ptr<SubscriptionState>> subscriptions;
  uint32_t next_subscription_id = 1;
  uint32_t next_client_handle = 1;
  std::atomic<int> publish_in_flight{0};
  std::atomic<int> publish_target{3};
  // Items whose values the channel cannot carry (BadResponseTooLarge…), for the supervisor to drop:
  // (subscription, client handle, status).
  std::mutex oversized_mutex;
  std::vector<std::tuple<uint32_t, uint32_t, StatusCode>> oversized;
  // Bisection of a subscription's items with SetMonitoringMode, to find the one whose values break
  // the channel (open62541 answers an oversized notification with ERR BadResponseTooLarge and a
  // close, so no item is named). `suspects` holds the guilty one; the first `tested` of them report,
  // the rest only sample (Sampling). A failure on a channel opened after the modes were set
  // (generation above modes_generation) puts the guilty among the tested; a clean observation
  // window, among the others.
  // Supervisor thread only, but for the atomics connection_lost sets from the reader or notifier.
  struct OversizeBisect {
    std::atomic<uint32_t> losses{0};           // too-large failures with a Publish outstanding, not yet acted on
    std::atomic<uint32_t> last_held_ms{0};  // how long the channel lasted before the latest one
    std::atomic<bool> active{false};
    std::vector<std::pair<uint32_t, uint32_t>> suspects;  // (subscription, client handle)
    size_t tested = 0;
    std::vector<std::pair<uint32_t, uint32_t>> sampling;  // what we set to Sampling on the server
    std::atomic<uint64_t> modes_generation{0};
    std::atomic<bool> failed_while_tested{false};
    std::atomic<bool> observing{false};  // false from a loss until the next reconnect
    Clock::time_point observing_since{};
    // The action decided and not yet done: a lost channel cuts it short, the next reconnect redoes it.
    enum class Action { none, step, drop, end, reenable } next = Action::none;
  } bisect;
  std::atomic<Clock::rep> channel_opened_at{0};

  std::mutex acks_mutex;
  std::vector<std::pair<uint32_t, uint32_t>> acks;  // (server subscription id, sequence number)

  // Decoding buffers of the notifier thread, reused from one notification to the next.
  std::vector<DataValue> notification_values;
  std::vector<DataChange> notification_changes;

  std::mutex notifier_mutex;
  std::condition_variable notifier_cv;
  std::deque<std::vector<uint8_t>> publish_responses;
  std::thread notifier;

  std::mutex supervisor_mutex;
  std::condition_variable supervisor_cv;
  std::thread supervisor;

  // Statistics of channels already closed, plus counters of the client itself.
  std::atomic<uint64_t> closed_chunks_sent{0}, closed_chunks_received{0};
  std::atomic<uint64_t> messages_sent{0}, messages_received{0}, token_renewals{0}, reconnects{0};
  std::atomic<uint64_t> publish_responses_count{0}, republished{0};
  std::atomic<uint64_t> max_chunks_sent{0}, max_chunks_received{0};
};

}  // namespace oee::opcua
