#pragma once
// Before a secured channel opens, the client needs the server's certificate: it asks for the
// endpoints over a SecurityPolicy None channel (servers keep one for discovery, OPC 10000-4 5.4.4)
// and picks the endpoint the configuration asks for.
#include <string>
#include <vector>

#include "oee/opcua/client.h"
#include "secure_channel.h"

namespace oee::opcua {

bool wants_security_policy_none(const ClientConfig& config);
// Throws Error(BadSecurityPolicyRejected) for an unknown or (unless allowed) deprecated policy,
// or a mode other than Sign/SignAndEncrypt with a secured policy.
void check_security_config(const ClientConfig& config);

// GetEndpoints over a fresh None channel, closed afterwards. A server that refuses None throws
// Error(BadSecurityPolicyRejected) naming the policies this client supports.
std::vector<EndpointDescription> discover_endpoints(const ClientConfig& config, const TransportLimits& ours);

// The endpoint matching config.security_policy / security_mode ("best": select_best_endpoint of
// endpoint_selection.h: SignAndEncrypt before Sign, then the policy, then the security level). Throws Error(BadSecurityPolicyRejected)
// naming what the server offers and what this client supports.
EndpointDescription select_endpoint(const std::vector<EndpointDescription>& endpoints, const ClientConfig& config);

// A None connection failed with `original`: rethrows it with what the server offers (when it
// still answers GetEndpoints over None) and what this client supports.
[[noreturn]] void explain_none_rejected(const ClientConfig& config, const TransportLimits& ours, const Error& original);

// "Basic256Sha256/SignAndEncrypt, ..." for error messages.
std::string describe_endpoints(const std::vector<EndpointDescription>& endpoints);
std::string describe_supported_policies(bool allow_deprecated);

}  // namespace oee::opcua
