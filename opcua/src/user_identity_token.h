#pragma once
// The identity token of ActivateSession: anonymous, or a user name whose password is encrypted
// for the server (OPC 10000-4 7.36.4) when the token policy asks for it.
#include <string>
#include <vector>

#include "oee/opcua/client.h"

namespace oee::opcua {

struct IdentityTokenChoice {
  const UserTokenPolicy* policy = nullptr;
  std::string endpoint_security_policy_uri;
};
// Picks the token policy for the wanted token type from the endpoints with security mode None.
// Throws Error(BadIdentityTokenInvalid) when the server offers none.
IdentityTokenChoice choose_identity_token(const std::vector<EndpointDescription>& endpoints,
                                          UserTokenType wanted);

// The encoded UserIdentityToken ExtensionObject. For a user name, server_certificate (DER) and
// server_nonce encrypt the password as the token policy's security policy requires.
ExtensionObject make_identity_token(const IdentityTokenChoice& choice, const std::string& user_name,
                                    const std::string& password, const std::string& server_certificate,
                                    const std::string& server_nonce);

// RSA encryption with OAEP (SHA-1, or SHA-256 when oaep_sha256), block by block as the key allows.
std::string rsa_oaep_encrypt(const std::string& certificate_der, const std::string& plain, bool oaep_sha256);

}  // namespace oee::opcua
