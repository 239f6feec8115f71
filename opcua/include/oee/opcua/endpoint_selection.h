#pragma once
// `security_policy: best`: which of a server's endpoints the client should use. Pure: no I/O.
//
// Order (most secure first; docs/opcua.md): the mode decides first (SignAndEncrypt, then Sign,
// then None), because a stronger signature does not make up for data sent in clear. Within a
// mode the policy: Aes256_Sha256_RsaPss, Basic256Sha256, Aes128_Sha256_RsaOaep, then, only when
// deprecated policies are allowed, Basic256 and Basic128Rsa15. Ties go to the server's
// securityLevel, then to the server's order. Only opc.tcp binary endpoints are considered.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oee/opcua/client.h"

namespace oee::opcua {

struct EndpointSelection {
  // Policy URIs the client can speak; empty: every policy of the order above (None included).
  std::vector<std::string> supported_policy_uris;
  bool allow_deprecated = false;  // Basic256, Basic128Rsa15
  bool allow_none = true;         // false: a server offering only None yields no endpoint
};

// Rank of a policy URI in the order above (higher is more secure); -1 when not known.
int security_policy_rank(std::string_view policy_uri);

// Index of the best endpoint, or nullopt when none is acceptable.
std::optional<size_t> select_best_endpoint(std::span<const EndpointDescription> endpoints,
                                           const EndpointSelection& selection = {});

}  // namespace oee::opcua
