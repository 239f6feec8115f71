#pragma once
// OPC UA client for the binary protocol over opc.tcp (SecurityPolicy None, or a secured policy in
// mode Sign or SignAndEncrypt): secure channel, session (anonymous, user name or X.509 user), Browse, Read, Write, subscriptions with a Publish pipeline,
// and recovery after a lost connection or server restart that reports every gap it leaves.
//
// Threading: the calls below are blocking and thread-safe. Each connection runs a reader thread
// that dispatches responses, a notification thread that delivers data changes in order, and a
// supervisor thread that renews the channel token, keeps the session alive and reconnects.
// Handlers run on the notification thread; they must not call back into the Client.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oee/opcua/security_policy.h"
#include "oee/opcua/types.h"

namespace oee::opcua {

enum class UserTokenType : uint32_t { anonymous = 0, user_name = 1, certificate = 2, issued_token = 3 };

struct UserTokenPolicy {
  std::string policy_id;
  UserTokenType token_type = UserTokenType::anonymous;
  std::string issued_token_type;
  std::string issuer_endpoint_url;
  std::string security_policy_uri;
};

struct ApplicationDescription {
  std::string application_uri;
  std::string product_uri;
  LocalizedText application_name;
  uint32_t application_type = 0;
  std::string gateway_server_uri;
  std::string discovery_profile_uri;
  std::vector<std::string> discovery_urls;
};

struct EndpointDescription {
  std::string endpoint_url;
  ApplicationDescription server;
  std::string server_certificate;  // DER
  MessageSecurityMode security_mode = MessageSecurityMode::invalid;
  std::string security_policy_uri;
  std::vector<UserTokenPolicy> user_identity_tokens;
  std::string transport_profile_uri;
  uint8_t security_level = 0;
};

enum class NodeClass : uint32_t {
  unspecified = 0, object = 1, variable = 2, method = 4, object_type = 8, variable_type = 16,
  reference_type = 32, data_type = 64, view = 128,
};
const char* node_class_name(NodeClass node_class);

enum class AttributeId : uint32_t {
  node_id = 1, node_class = 2, browse_name = 3, display_name = 4, description = 5,
  value = 13, data_type = 14, value_rank = 15, access_level = 17,
};

struct ReferenceDescription {
  NodeId reference_type_id;
  bool is_forward = true;
  ExpandedNodeId node_id;
  QualifiedName browse_name;
  LocalizedText display_name;
  NodeClass node_class = NodeClass::unspecified;
  ExpandedNodeId type_definition;
};

enum class BrowseDirection : uint32_t { forward = 0, inverse = 1, both = 2 };

struct BrowseDescription {
  NodeId node_id;
  BrowseDirection direction = BrowseDirection::forward;
  NodeId reference_type_id = NodeId(0, 33);  // HierarchicalReferences
  bool include_subtypes = true;
  uint32_t node_class_mask = 0;  // all
  uint32_t result_mask = 63;     // all fields
};

struct BrowseResult {
  StatusCode status;
  std::vector<ReferenceDescription> references;  // all of them: BrowseNext is followed
};

struct ReadValueId {
  NodeId node_id;
  AttributeId attribute_id = AttributeId::value;
  std::string index_range;
};

struct WriteValue {
  NodeId node_id;
  AttributeId attribute_id = AttributeId::value;
  std::string index_range;
  DataValue value;  // value only: most servers refuse timestamps on write
};

enum class DeadbandType : uint32_t { none = 0, absolute = 1, percent = 2 };
enum class DataChangeTrigger : uint32_t { status = 0, status_value = 1, status_value_timestamp = 2 };

struct DataChangeFilter {
  DataChangeTrigger trigger = DataChangeTrigger::status_value;
  DeadbandType deadband_type = DeadbandType::none;
  double deadband_value = 0;
};

struct MonitoredItemRequest {
  NodeId node_id;
  AttributeId attribute_id = AttributeId::value;
  double sampling_interval_ms = 0;  // 0: as fast as the server can (exception-based on most)
  uint32_t queue_size = 10;
  bool discard_oldest = true;
  bool has_filter = false;
  DataChangeFilter filter;
};

struct MonitoredItemResult {
  StatusCode status;
  uint32_t client_handle = 0;  // what the data change handler reports for this item
  uint32_t monitored_item_id = 0;
  double revised_sampling_interval_ms = 0;
  uint32_t revised_queue_size = 0;
};

struct SubscriptionSettings {
  double publishing_interval_ms = 1000;
  uint32_t lifetime_count = 60;
  uint32_t max_keep_alive_count = 10;
  uint32_t max_notifications_per_publish = 0;  // no limit
  uint8_t priority = 0;
};

struct DataChange {
  uint32_t client_handle;
  const DataValue* value;
};

// Data changes of one NotificationMessage, in order; sequence_number lets a consumer check.
using DataChangeHandler =
    std::function<void(uint32_t subscription, uint32_t sequence_number, std::span<const DataChange> changes)>;

struct ClientEvent {
  enum class Kind {
    connection_lost,          // status says why; recovery starts
    reconnected,              // channel and session usable again (detail says how)
    session_recreated,        // the old session was gone: a new one was created
    subscription_transferred, // subscriptions moved to the new session, no data lost on the server
    subscription_recreated,   // subscription and items created anew: data between from/to is lost
    data_gap,                 // sequence numbers first..last were not recovered (Republish failed)
    keep_alive_missed,        // no Publish response for longer than the keep-alive promised
    subscription_status,      // a StatusChangeNotification from the server
    item_dropped,             // client_handle's values are larger than the channel carries: deleted
    repeated_failure,         // lost again soon after each reconnect: the backoff keeps growing
    queue_overflow,           // the server's queue of client_handle overflowed: values before `to` were discarded
    oversize_search,          // Bad: the channel keeps closing with BadResponseTooLarge, items are bisected
                              // to find the one (item_dropped ends it); Good: no item failed alone, none dropped
  };
  Kind kind;
  uint32_t subscription = 0;
  StatusCode status;
  DateTime from;  // for gaps: when data was last known complete
  DateTime to;    // and when it was complete again
  uint32_t first_sequence_number = 0;
  uint32_t last_sequence_number = 0;
  std::string detail;
  uint32_t client_handle = 0;   // item_dropped: which item
  uint32_t retry_delay_ms = 0;  // repeated_failure: the wait before the next reconnect
};
const char* client_event_kind_name(ClientEvent::Kind kind);
using ClientEventHandler = std::function<void(const ClientEvent&)>;

struct ClientConfig {
  std::string endpoint_url;              // opc.tcp://host:port[/path]
  std::string user_name;                 // empty: anonymous
  std::string password;
  std::string application_name = "oee opcua client";
  std::string application_uri = "urn:oee:opcua:client";
  // Message security. security_policy: "None", a policy name ("Basic256Sha256"), its URI, or
  // "best": the most secure endpoint the server offers among those this client supports.
  // security_mode: Sign or SignAndEncrypt; unset takes the best the chosen policy offers.
  std::string security_policy = "None";
  std::optional<MessageSecurityMode> security_mode;
  bool allow_deprecated_policies = false;  // Basic128Rsa15, Basic256
  ApplicationCredentials credentials;      // ours; needed unless None
  // Called with the server's certificate (DER) and the chosen endpoint before a secured channel
  // opens; throws Error (e.g. BadCertificateUntrusted) to refuse the server. Unset: trust it.
  std::function<void(std::string_view server_certificate_der, const EndpointDescription&)> verify_server_certificate;
  // X.509 user identity instead of anonymous/user name (DER certificate, PEM or DER key).
  std::string user_certificate_der;
  std::string user_private_key;
  bool create_session = true;            // false: channel only (GetEndpoints)
  // UA-TCP limits we announce in Hello.
  uint32_t receive_buffer_size = 65536;
  uint32_t send_buffer_size = 65536;
  uint32_t max_message_size = 16u << 20;
  uint32_t max_chunk_count = 4096;
  uint32_t connect_timeout_ms = 5000;
  uint32_t request_timeout_ms = 15000;
  uint32_t secure_channel_lifetime_ms = 3600000;
  double session_timeout_ms = 60000;
  bool reconnect = true;                 // recover automatically after connection loss
  uint32_t reconnect_delay_min_ms = 100; // doubled per failed try up to the max
  // At most this long between tries: a server back from a restart waits at most this long for us
  // (bench_opcua_recovery, goal 5 s).
  uint32_t reconnect_delay_max_ms = 3000;
  // A reconnected connection must hold this long before the delay starts from the minimum again:
  // one lost sooner (the same failure on every reconnect) goes on with the grown delay.
  uint32_t reconnect_stable_after_ms = 10000;
  uint32_t publish_requests_in_flight = 3;
  uint32_t max_references_per_node = 1000;  // Browse asks for at most this many, then BrowseNext
};

struct OperationLimits {  // 0 = no limit announced
  uint32_t max_nodes_per_read = 0;
  uint32_t max_nodes_per_write = 0;
  uint32_t max_nodes_per_browse = 0;
  uint32_t max_monitored_items_per_call = 0;
};

struct ClientStatistics {
  uint64_t chunks_sent = 0;
  uint64_t chunks_received = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;
  uint64_t max_chunks_per_sent_message = 0;
  uint64_t max_chunks_per_received_message = 0;
  uint64_t token_renewals = 0;
  uint64_t reconnects = 0;
  uint64_t publish_responses = 0;
  uint64_t republished_messages = 0;
  uint32_t revised_token_lifetime_ms = 0;
  uint32_t negotiated_send_buffer_size = 0;
  uint32_t negotiated_receive_buffer_size = 0;
  std::string security_policy_uri;  // of the current channel
  MessageSecurityMode security_mode = MessageSecurityMode::invalid;
};

class Client {
 public:
  explicit Client(ClientConfig config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void set_event_handler(ClientEventHandler handler);
  // Opens the channel and (unless config.create_session is false) the session. Throws Error.
  void connect();
  // Deletes subscriptions, closes session and channel; never throws.
  void disconnect();

  std::vector<EndpointDescription> get_endpoints();
  std::vector<DataValue> read(std::span<const ReadValueId> nodes);
  DataValue read_value(const NodeId& node);
  std::vector<StatusCode> write(std::span<const WriteValue> nodes);
  std::vector<BrowseResult> browse(std::span<const BrowseDescription> nodes);
  OperationLimits operation_limits() const;

  // Returns the client's id for the subscription (stable across recovery, unlike the server's).
  uint32_t create_subscription(const SubscriptionSettings& settings, DataChangeHandler handler);
  void modify_subscription(uint32_t subscription, const SubscriptionSettings& settings);
  void delete_subscription(uint32_t subscription);
  // Creates items in batches within the server's MaxMonitoredItemsPerCall; results in request order.
  std::vector<MonitoredItemResult> create_monitored_items(uint32_t subscription,
                                                          std::span<const MonitoredItemRequest> items);
  void delete_monitored_items(uint32_t subscription, std::span<const uint32_t> client_handles);

  bool connected() const;
  ClientStatistics statistics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oee::opcua
