// Identity tokens, with the encryption or signature of their token policy's security policy.
#include "user_identity_token.h"

#include "security_algorithms.h"
#include "service_messages.h"

namespace oee::opcua {
namespace {

const char* token_type_name(UserTokenType t) {
  switch (t) {
    case UserTokenType::anonymous: return "anonymous";
    case UserTokenType::user_name: return "user-name";
    case UserTokenType::certificate: return "X.509 certificate";
    default: return "issued";
  }
}

// The token policy's security policy wins; empty means the endpoint's (OPC 10000-4 7.41).
const SecuritySuite* token_suite(const IdentityTokenChoice& choice) {
  const std::string& policy = choice.policy->security_policy_uri.empty() ? choice.endpoint_security_policy_uri
                                                                         : choice.policy->security_policy_uri;
  if (policy.empty() || policy == kSecurityPolicyNoneUri) return nullptr;
  const SecuritySuite* suite = find_security_suite(policy);
  if (!suite) throw Error(status::bad_security_policy_rejected, "user token policy " + policy + " is not supported");
  return suite;
}

void encode_user_name(BinaryWriter& w, const IdentityTokenChoice& choice, const ClientConfig& config,
                      const std::string& server_certificate, const std::string& server_nonce) {
  const SecuritySuite* suite = token_suite(choice);
  std::string secret = config.password;
  std::string algorithm;
  if (suite) {
    if (server_certificate.empty()) throw Error(status::bad_certificate_invalid, "server sent no certificate to encrypt the password");
    // Legacy encrypted secret: length, password, server nonce (OPC 10000-4 7.41.2.2).
    std::string plain;
    const uint32_t length = static_cast<uint32_t>(config.password.size() + server_nonce.size());
    for (int i = 0; i < 4; ++i) plain += static_cast<char>((length >> (8 * i)) & 0xFF);
    plain += config.password;
    plain += server_nonce;
    auto key = certificate_public_key(server_certificate);
    secret = rsa_encrypt(key.get(), suite->asymmetric_encryption, plain);
    algorithm = suite->encryption_algorithm_uri;
  }
  w.string(choice.policy->policy_id);
  w.string(config.user_name);
  w.string(secret);
  if (algorithm.empty()) w.null_string(); else w.string(algorithm);
}

}  // namespace

IdentityTokenChoice choose_identity_token(const std::vector<EndpointDescription>& endpoints, UserTokenType wanted,
                                          std::string_view security_policy_uri, MessageSecurityMode mode) {
  for (const auto& e : endpoints) {
    if (e.security_mode != mode || e.security_policy_uri != security_policy_uri) continue;
    for (const auto& p : e.user_identity_tokens) {
      if (p.token_type == wanted) return IdentityTokenChoice{&p, e.security_policy_uri};
    }
  }
  throw Error(status::bad_identity_token_invalid, std::string("server offers no ") + token_type_name(wanted) +
                                                      " login on a " + std::string(security_policy_name(security_policy_uri)) +
                                                      "/" + security_mode_name(mode) + " endpoint");
}

IdentityToken make_identity_token(const IdentityTokenChoice& choice, const ClientConfig& config,
                                  const std::string& server_certificate, const std::string& server_nonce) {
  IdentityToken out;
  out.token.encoding = ExtensionObject::Encoding::binary;
  std::vector<uint8_t> body;
  BinaryWriter w(body);
  switch (choice.policy->token_type) {
    case UserTokenType::anonymous:
      out.token.type_id = NodeId(0, type_id::anonymous_identity_token);
      w.string(choice.policy->policy_id);
      break;
    case UserTokenType::user_name:
      out.token.type_id = NodeId(0, type_id::user_name_identity_token);
      encode_user_name(w, choice, config, server_certificate, server_nonce);
      break;
    default: {
      // X.509: the certificate travels as it is; its key proves possession (OPC 10000-4 5.6.3.2).
      out.token.type_id = NodeId(0, type_id::x509_identity_token);
      w.string(choice.policy->policy_id);
      w.string(config.user_certificate_der);
      const SecuritySuite* suite = token_suite(choice);
      if (!suite) throw Error(status::bad_security_policy_rejected, "an X.509 user token needs a secured token policy");
      auto key = parse_private_key(config.user_private_key);
      out.signature_algorithm = suite->signature_algorithm_uri;
      out.signature = rsa_sign(key.get(), suite->asymmetric_signature, server_certificate + server_nonce);
    }
  }
  out.token.body.assign(body.begin(), body.end());
  return out;
}

}  // namespace oee::opcua
