// Endpoint discovery and choice for secured connections.
#include "endpoint_discovery.h"

#include "oee/opcua/endpoint_selection.h"

#include <algorithm>

#include "service_messages.h"
#include "security_algorithms.h"

namespace oee::opcua {
namespace {

bool usable(const EndpointDescription& e, bool allow_deprecated) {
  if (e.security_mode != MessageSecurityMode::sign && e.security_mode != MessageSecurityMode::sign_and_encrypt) return false;
  const SecuritySuite* suite = find_security_suite(e.security_policy_uri);
  return suite && (allow_deprecated || !suite->deprecated);
}

// Higher is better, in the order of endpoint_selection.h: the mode, the policy, the security level.
std::tuple<int, int, int> strength(const EndpointDescription& e) {
  return {static_cast<int>(e.security_mode), security_policy_rank(e.security_policy_uri), e.security_level};
}

}  // namespace

bool wants_security_policy_none(const ClientConfig& config) {
  return config.security_policy.empty() || config.security_policy == "None" ||
         config.security_policy == kSecurityPolicyNoneUri;
}

std::string describe_supported_policies(bool allow_deprecated) {
  std::string out;
  for (std::string_view name : supported_security_policies(allow_deprecated)) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string describe_endpoints(const std::vector<EndpointDescription>& endpoints) {
  std::string out;
  for (const auto& e : endpoints) {
    if (!out.empty()) out += ", ";
    out += std::string(security_policy_name(e.security_policy_uri)) + "/" + security_mode_name(e.security_mode);
  }
  return out.empty() ? "nothing" : out;
}

void check_security_config(const ClientConfig& config) {
  if (wants_security_policy_none(config) || config.security_policy == "best") return;
  const auto uri = security_policy_uri(config.security_policy);
  if (!uri) {
    throw Error(status::bad_security_policy_rejected, "unknown security policy '" + config.security_policy +
                                                          "'; this client supports: " +
                                                          describe_supported_policies(config.allow_deprecated_policies));
  }
  if (security_policy_deprecated(*uri) && !config.allow_deprecated_policies) {
    throw Error(status::bad_security_policy_rejected,
                "security policy " + config.security_policy + " is deprecated; allow it explicitly to use it");
  }
  if (config.security_mode && *config.security_mode != MessageSecurityMode::sign &&
      *config.security_mode != MessageSecurityMode::sign_and_encrypt) {
    throw Error(kBadSecurityModeRejected, "security policy " + config.security_policy + " needs mode Sign or SignAndEncrypt");
  }
}

std::vector<EndpointDescription> discover_endpoints(const ClientConfig& config, const TransportLimits& ours) {
  const int timeout_ms = static_cast<int>(config.connect_timeout_ms);
  SecureChannel channel(TcpConnection::connect(parse_endpoint_url(config.endpoint_url), timeout_ms),
                        make_security_policy_none(), ours);
  try {
    channel.open(config.endpoint_url, 60000, timeout_ms);
  } catch (const Error& e) {
    if (e.status() != status::bad_security_policy_rejected) throw;
    throw Error(e.status(), std::string(e.what()) +
                                " (the server refuses SecurityPolicy None, so its endpoints cannot be discovered; "
                                "this client supports: " + describe_supported_policies(config.allow_deprecated_policies) + ")");
  }
  const uint32_t request_id = channel.next_request_id();
  std::vector<uint8_t> body;
  BinaryWriter w(body);
  begin_request(w, type_id::get_endpoints_request, RequestHeader{{}, request_id, config.request_timeout_ms});
  w.string(config.endpoint_url);
  w.i32(0);  // localeIds
  w.i32(0);  // profileUris
  channel.send_message(request_id, body);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config.request_timeout_ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw Error(status::bad_timeout, "no GetEndpoints response");
    auto reply = channel.receive(static_cast<int>(left.count()));
    if (!reply || reply->request_id != request_id) continue;
    if (reply->aborted) throw Error(reply->abort_status, "GetEndpoints aborted: " + reply->abort_reason);
    BinaryReader r(reply->body);
    begin_response(r, type_id::get_endpoints_response, "GetEndpoints");
    auto endpoints = r.array([&] { return decode_endpoint_description(r); });
    try {
      channel.send_close();
    } catch (const Error&) {
      // the server may close first; the endpoints are what we came for
    }
    channel.shutdown();
    return endpoints;
  }
}

EndpointDescription select_endpoint(const std::vector<EndpointDescription>& endpoints, const ClientConfig& config) {
  const bool best = config.security_policy == "best";
  const auto uri = best ? std::nullopt : security_policy_uri(config.security_policy);
  const EndpointDescription* chosen = nullptr;
  if (best && !config.security_mode) {
    // The PKI branch's order (endpoint_selection.h): mode, then policy, then security level.
    const auto i = select_best_endpoint(endpoints, EndpointSelection{{}, config.allow_deprecated_policies, false});
    if (i) chosen = &endpoints[*i];
  } else {
    for (const auto& e : endpoints) {
      if (!usable(e, config.allow_deprecated_policies)) continue;
      if (!best && e.security_policy_uri != uri) continue;
      if (config.security_mode && e.security_mode != *config.security_mode) continue;
      if (!chosen || strength(e) > strength(*chosen)) chosen = &e;
    }
  }
  if (!chosen) {
    const std::string wanted = (best ? std::string("any supported policy") : config.security_policy) + "/" +
                               (config.security_mode ? security_mode_name(*config.security_mode) : "Sign or SignAndEncrypt");
    throw Error(status::bad_security_policy_rejected,
                "server offers no endpoint with " + wanted + "; it offers: " + describe_endpoints(endpoints) +
                    "; this client supports: " + describe_supported_policies(config.allow_deprecated_policies));
  }
  return *chosen;
}

}  // namespace oee::opcua

namespace oee::opcua {

void explain_none_rejected(const ClientConfig& config, const TransportLimits& ours, const Error& original) {
  std::vector<EndpointDescription> endpoints;
  try {
    endpoints = discover_endpoints(config, ours);
  } catch (const Error& e) {
    throw Error(status::bad_security_policy_rejected, std::string(e.what()));
  }
  throw Error(status::bad_security_policy_rejected,
              std::string(original.what()) + " (the server has no SecurityPolicy None endpoint; it offers: " +
                  describe_endpoints(endpoints) + "; this client supports: " +
                  describe_supported_policies(config.allow_deprecated_policies) + ")");
}

}  // namespace oee::opcua
