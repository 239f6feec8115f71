#pragma once
// The identity token of ActivateSession: anonymous, a user name whose password is encrypted for
// the server (OPC 10000-4 7.41) with the token policy's algorithm, or an X.509 certificate whose
// key signs the server's certificate and nonce.
#include <string>
#include <vector>

#include "oee/opcua/client.h"

namespace oee::opcua {

struct IdentityTokenChoice {
  const UserTokenPolicy* policy = nullptr;
  std::string endpoint_security_policy_uri;
};
// Picks the token policy for the wanted token type from the endpoints with the channel's security
// policy and mode. Throws Error(BadIdentityTokenInvalid) when the server offers none.
IdentityTokenChoice choose_identity_token(const std::vector<EndpointDescription>& endpoints, UserTokenType wanted,
                                          std::string_view security_policy_uri, MessageSecurityMode mode);

struct IdentityToken {
  ExtensionObject token;
  std::string signature_algorithm;  // userTokenSignature, X.509 tokens only
  std::string signature;
};

// The encoded UserIdentityToken. server_certificate (DER) and server_nonce encrypt the password
// or are what an X.509 user's key signs.
IdentityToken make_identity_token(const IdentityTokenChoice& choice, const ClientConfig& config,
                                  const std::string& server_certificate, const std::string& server_nonce);

}  // namespace oee::opcua
