#pragma once
// Encoding ids of the service messages this client speaks, and the request/response headers
// every service shares (OPC 10000-4 7.33, 7.34).
#include <cstdint>
#include <vector>

#include "oee/opcua/binary_encoding.h"
#include "oee/opcua/client.h"

namespace oee::opcua {

// "…_Encoding_DefaultBinary" node ids (OPC 10000-6 Annex A / NodeIds.csv).
namespace type_id {
inline constexpr uint32_t anonymous_identity_token = 321;
inline constexpr uint32_t user_name_identity_token = 324;
inline constexpr uint32_t x509_identity_token = 327;
inline constexpr uint32_t service_fault = 397;
inline constexpr uint32_t get_endpoints_request = 428, get_endpoints_response = 431;
inline constexpr uint32_t open_secure_channel_request = 446, open_secure_channel_response = 449;
inline constexpr uint32_t close_secure_channel_request = 452;
inline constexpr uint32_t create_session_request = 461, create_session_response = 464;
inline constexpr uint32_t activate_session_request = 467, activate_session_response = 470;
inline constexpr uint32_t close_session_request = 473, close_session_response = 476;
inline constexpr uint32_t browse_request = 527, browse_response = 530;
inline constexpr uint32_t browse_next_request = 533, browse_next_response = 536;
inline constexpr uint32_t read_request = 631, read_response = 634;
inline constexpr uint32_t write_request = 673, write_response = 676;
inline constexpr uint32_t data_change_filter = 724;
inline constexpr uint32_t create_monitored_items_request = 751, create_monitored_items_response = 754;
inline constexpr uint32_t set_monitoring_mode_request = 769, set_monitoring_mode_response = 772;
inline constexpr uint32_t delete_monitored_items_request = 781, delete_monitored_items_response = 784;
inline constexpr uint32_t create_subscription_request = 787, create_subscription_response = 790;
inline constexpr uint32_t modify_subscription_request = 793, modify_subscription_response = 796;
inline constexpr uint32_t data_change_notification = 811;
inline constexpr uint32_t status_change_notification = 820;
inline constexpr uint32_t publish_request = 826, publish_response = 829;
inline constexpr uint32_t republish_request = 832, republish_response = 835;
inline constexpr uint32_t transfer_subscriptions_request = 841, transfer_subscriptions_response = 844;
inline constexpr uint32_t delete_subscriptions_request = 847, delete_subscriptions_response = 850;
}  // namespace type_id

struct RequestHeader {
  NodeId authentication_token;
  uint32_t request_handle = 0;
  uint32_t timeout_hint_ms = 0;
};
void encode_request_header(BinaryWriter& w, const RequestHeader& header);

struct ResponseHeader {
  DateTime timestamp;
  uint32_t request_handle = 0;
  StatusCode service_result;
};
ResponseHeader decode_response_header(BinaryReader& r);

// Starts a request body: the encoding NodeId of the request, then the request header.
void begin_request(BinaryWriter& w, uint32_t request_type_id, const RequestHeader& header);

// Reads the encoding NodeId and the response header. A ServiceFault or a bad service result
// throws Error with the status; a response of another type than expected throws BadDecodingError.
ResponseHeader begin_response(BinaryReader& r, uint32_t expected_type_id, const char* service);

ApplicationDescription decode_application_description(BinaryReader& r);
EndpointDescription decode_endpoint_description(BinaryReader& r);
void encode_read_value_id(BinaryWriter& w, const ReadValueId& id);
ReferenceDescription decode_reference_description(BinaryReader& r);
// DiagnosticInfo arrays at the end of most responses: read and dropped.
void skip_diagnostic_infos(BinaryReader& r);

}  // namespace oee::opcua
