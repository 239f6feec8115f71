// The most secure endpoint the client supports among a server's endpoints (security_policy: best).
#include "oee/opcua/endpoint_selection.h"

#include <algorithm>
#include <array>
#include <tuple>

namespace oee::opcua {
namespace {

constexpr std::string_view kPolicyPrefix = "http://opcfoundation.org/UA/SecurityPolicy#";
constexpr std::string_view kBinaryTransport = "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary";

struct PolicyRank {
  std::string_view name;
  int rank;
  bool deprecated;
};

constexpr std::array<PolicyRank, 6> kPolicies = {{
    {"None", 0, false},
    {"Basic128Rsa15", 1, true},
    {"Basic256", 2, true},
    {"Aes128_Sha256_RsaOaep", 3, false},
    {"Basic256Sha256", 4, false},
    {"Aes256_Sha256_RsaPss", 5, false},
}};

const PolicyRank* find_policy(std::string_view uri) {
  if (uri.substr(0, kPolicyPrefix.size()) != kPolicyPrefix) return nullptr;
  const std::string_view name = uri.substr(kPolicyPrefix.size());
  for (const auto& p : kPolicies) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool acceptable(const EndpointDescription& e, const EndpointSelection& s) {
  const PolicyRank* policy = find_policy(e.security_policy_uri);
  if (!policy || (policy->deprecated && !s.allow_deprecated)) return false;
  if (!e.transport_profile_uri.empty() && e.transport_profile_uri != kBinaryTransport) return false;
  const bool none = e.security_mode == MessageSecurityMode::none;
  if (none != (policy->rank == 0)) return false;  // None goes only with mode None
  if (none && !s.allow_none) return false;
  if (e.security_mode == MessageSecurityMode::invalid || static_cast<uint32_t>(e.security_mode) > 3) return false;
  const auto& supported = s.supported_policy_uris;
  return supported.empty() || std::find(supported.begin(), supported.end(), e.security_policy_uri) != supported.end();
}

}  // namespace

int security_policy_rank(std::string_view policy_uri) {
  const PolicyRank* p = find_policy(policy_uri);
  return p ? p->rank : -1;
}

std::optional<size_t> select_best_endpoint(std::span<const EndpointDescription> endpoints,
                                           const EndpointSelection& selection) {
  std::optional<size_t> best;
  auto key = [&](const EndpointDescription& e) {
    return std::make_tuple(static_cast<uint32_t>(e.security_mode), security_policy_rank(e.security_policy_uri),
                           e.security_level);
  };
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (!acceptable(endpoints[i], selection)) continue;
    if (!best || key(endpoints[i]) > key(endpoints[*best])) best = i;
  }
  return best;
}

}  // namespace oee::opcua
