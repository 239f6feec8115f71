// Shared pieces of the service messages (OPC 10000-4 7.x structures in OPC 10000-6 encoding).
#include "service_messages.h"

namespace oee::opcua {

void encode_request_header(BinaryWriter& w, const RequestHeader& header) {
  w.node_id(header.authentication_token);
  w.date_time(DateTime::now());
  w.u32(header.request_handle);
  w.u32(0);           // returnDiagnostics
  w.null_string();    // auditEntryId
  w.u32(header.timeout_hint_ms);
  w.extension_object({});  // additionalHeader
}

ResponseHeader decode_response_header(BinaryReader& r) {
  ResponseHeader h;
  h.timestamp = r.date_time();
  h.request_handle = r.u32();
  h.service_result = r.status_code();
  r.diagnostic_info();
  const size_t strings = r.array_length(4);
  for (size_t i = 0; i < strings; ++i) r.string();
  r.extension_object();
  return h;
}

void begin_request(BinaryWriter& w, uint32_t request_type_id, const RequestHeader& header) {
  w.node_id(NodeId(0, request_type_id));
  encode_request_header(w, header);
}

ResponseHeader begin_response(BinaryReader& r, uint32_t expected_type_id, const char* service) {
  const NodeId type = r.node_id();
  if (type.kind != NodeId::Kind::numeric || type.namespace_index != 0) {
    throw Error(status::bad_decoding_error, std::string(service) + ": unexpected response type");
  }
  if (type.numeric == type_id::service_fault) {
    const ResponseHeader h = decode_response_header(r);
    throw Error(h.service_result.is_bad() ? h.service_result : status::bad_unexpected_error,
                std::string(service) + " failed (service fault)");
  }
  if (type.numeric != expected_type_id) {
    throw Error(status::bad_decoding_error,
                std::string(service) + ": unexpected response type i=" + std::to_string(type.numeric));
  }
  ResponseHeader h = decode_response_header(r);
  if (h.service_result.is_bad()) throw Error(h.service_result, std::string(service) + " failed");
  return h;
}

ApplicationDescription decode_application_description(BinaryReader& r) {
  ApplicationDescription a;
  a.application_uri = r.string();
  a.product_uri = r.string();
  a.application_name = r.localized_text();
  a.application_type = r.u32();
  a.gateway_server_uri = r.string();
  a.discovery_profile_uri = r.string();
  a.discovery_urls = r.array([&] { return r.string(); });
  return a;
}

EndpointDescription decode_endpoint_description(BinaryReader& r) {
  EndpointDescription e;
  e.endpoint_url = r.string();
  e.server = decode_application_description(r);
  e.server_certificate = r.string();
  e.security_mode = static_cast<MessageSecurityMode>(r.u32());
  e.security_policy_uri = r.string();
  e.user_identity_tokens = r.array([&] {
    UserTokenPolicy p;
    p.policy_id = r.string();
    p.token_type = static_cast<UserTokenType>(r.u32());
    p.issued_token_type = r.string();
    p.issuer_endpoint_url = r.string();
    p.security_policy_uri = r.string();
    return p;
  });
  e.transport_profile_uri = r.string();
  e.security_level = r.u8();
  return e;
}

void encode_read_value_id(BinaryWriter& w, const ReadValueId& id) {
  w.node_id(id.node_id);
  w.u32(static_cast<uint32_t>(id.attribute_id));
  if (id.index_range.empty()) {
    w.null_string();
  } else {
    w.string(id.index_range);
  }
  w.qualified_name({});  // dataEncoding: default
}

ReferenceDescription decode_reference_description(BinaryReader& r) {
  ReferenceDescription d;
  d.reference_type_id = r.node_id();
  d.is_forward = r.boolean();
  d.node_id = r.expanded_node_id();
  d.browse_name = r.qualified_name();
  d.display_name = r.localized_text();
  d.node_class = static_cast<NodeClass>(r.u32());
  d.type_definition = r.expanded_node_id();
  return d;
}

void skip_diagnostic_infos(BinaryReader& r) {
  const size_t n = r.array_length();
  for (size_t i = 0; i < n; ++i) r.diagnostic_info();
}

}  // namespace oee::opcua
