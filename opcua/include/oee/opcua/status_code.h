#pragma once
// OPC UA status codes: the 32-bit code, its symbolic name from the standard table, and the
// exception every failing client call throws (it carries the code so callers can branch on it).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace oee::opcua {

struct StatusCode {
  uint32_t code = 0;

  constexpr bool is_good() const { return (code & 0xC0000000u) == 0; }
  constexpr bool is_uncertain() const { return (code & 0xC0000000u) == 0x40000000u; }
  constexpr bool is_bad() const { return (code & 0x80000000u) != 0; }
  // The code without its info bits (overflow, limit bits ...), which is what the table names.
  constexpr uint32_t base() const { return code & 0xFFFF0000u; }
  // A monitored item's queue overflowed: the server discarded values before this one (Part 4, 7.39:
  // InfoType DataValue with the Overflow bit).
  constexpr bool has_overflow_bit() const { return (code & 0x0480u) == 0x0480u; }
  friend constexpr bool operator==(StatusCode a, StatusCode b) { return a.code == b.code; }
};

// "BadNodeIdUnknown", or "0x80AB0000" for a code the table does not know.
std::string status_name(StatusCode status);
// Inverse of status_name for known names (used by tests and the CLI); 0xFFFFFFFF when unknown.
uint32_t status_code_from_name(std::string_view name);

// Codes the client itself produces, named here so the code reads as prose.
namespace status {
inline constexpr StatusCode good{0x00000000u};
inline constexpr StatusCode bad_unexpected_error{0x80010000u};
inline constexpr StatusCode bad_internal_error{0x80020000u};
inline constexpr StatusCode bad_communication_error{0x80050000u};
inline constexpr StatusCode bad_encoding_error{0x80060000u};
inline constexpr StatusCode bad_decoding_error{0x80070000u};
inline constexpr StatusCode bad_encoding_limits_exceeded{0x80080000u};
inline constexpr StatusCode bad_response_too_large{0x80B90000u};
inline constexpr StatusCode bad_timeout{0x800A0000u};
inline constexpr StatusCode bad_service_unsupported{0x800B0000u};
inline constexpr StatusCode bad_nothing_to_do{0x800F0000u};
inline constexpr StatusCode bad_too_many_operations{0x80100000u};
inline constexpr StatusCode bad_certificate_invalid{0x80120000u};
inline constexpr StatusCode bad_certificate_time_invalid{0x80140000u};
inline constexpr StatusCode bad_certificate_issuer_time_invalid{0x80150000u};
inline constexpr StatusCode bad_certificate_host_name_invalid{0x80160000u};
inline constexpr StatusCode bad_certificate_uri_invalid{0x80170000u};
inline constexpr StatusCode bad_certificate_use_not_allowed{0x80180000u};
inline constexpr StatusCode bad_certificate_issuer_use_not_allowed{0x80190000u};
inline constexpr StatusCode bad_certificate_untrusted{0x801A0000u};
inline constexpr StatusCode bad_certificate_revocation_unknown{0x801B0000u};
inline constexpr StatusCode bad_certificate_issuer_revocation_unknown{0x801C0000u};
inline constexpr StatusCode bad_certificate_revoked{0x801D0000u};
inline constexpr StatusCode bad_certificate_issuer_revoked{0x801E0000u};
inline constexpr StatusCode bad_certificate_chain_incomplete{0x810D0000u};
inline constexpr StatusCode bad_security_checks_failed{0x80130000u};
inline constexpr StatusCode bad_identity_token_invalid{0x80200000u};
inline constexpr StatusCode bad_identity_token_rejected{0x80210000u};
inline constexpr StatusCode bad_secure_channel_id_invalid{0x80220000u};
inline constexpr StatusCode bad_session_id_invalid{0x80250000u};
inline constexpr StatusCode bad_session_closed{0x80260000u};
inline constexpr StatusCode bad_session_not_activated{0x80270000u};
inline constexpr StatusCode bad_subscription_id_invalid{0x80280000u};
inline constexpr StatusCode bad_no_subscription{0x80790000u};
inline constexpr StatusCode bad_too_many_publish_requests{0x80780000u};
inline constexpr StatusCode bad_sequence_number_unknown{0x807A0000u};
inline constexpr StatusCode bad_message_not_available{0x807B0000u};
inline constexpr StatusCode bad_tcp_message_type_invalid{0x807E0000u};
inline constexpr StatusCode bad_tcp_secure_channel_unknown{0x807F0000u};
inline constexpr StatusCode bad_tcp_message_too_large{0x80800000u};
inline constexpr StatusCode bad_tcp_internal_error{0x80820000u};
inline constexpr StatusCode bad_tcp_endpoint_url_invalid{0x80830000u};
inline constexpr StatusCode bad_request_interrupted{0x80840000u};
inline constexpr StatusCode bad_request_timeout{0x80850000u};
inline constexpr StatusCode bad_secure_channel_closed{0x80860000u};
inline constexpr StatusCode bad_sequence_number_invalid{0x80880000u};
inline constexpr StatusCode bad_not_connected{0x808A0000u};
inline constexpr StatusCode bad_server_not_connected{0x800D0000u};
inline constexpr StatusCode bad_connection_rejected{0x80AC0000u};
inline constexpr StatusCode bad_disconnect{0x80AD0000u};
inline constexpr StatusCode bad_connection_closed{0x80AE0000u};
inline constexpr StatusCode bad_invalid_argument{0x80AB0000u};
inline constexpr StatusCode bad_node_id_invalid{0x80330000u};
inline constexpr StatusCode bad_type_mismatch{0x80740000u};
inline constexpr StatusCode bad_user_access_denied{0x801F0000u};
inline constexpr StatusCode bad_security_policy_rejected{0x80550000u};
}  // namespace status

// Thrown by the client for a failed service, a service fault or a transport failure.
class Error : public std::runtime_error {
 public:
  Error(StatusCode status, const std::string& context);
  StatusCode status() const { return status_; }

 private:
  StatusCode status_;
};

}  // namespace oee::opcua
