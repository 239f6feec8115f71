// Names of the security policies and modes as the command line, the edge file and errors use them.
#include "oee/opcua/security_policy.h"
#include "security_algorithms.h"

namespace oee::opcua {
namespace {

// Most secure first: the order `best` and error messages use.
constexpr std::string_view kPolicyOrder[] = {"Aes256_Sha256_RsaPss", "Basic256Sha256", "Aes128_Sha256_RsaOaep",
                                             "Basic256", "Basic128Rsa15"};
constexpr std::string_view kUriPrefix = "http://opcfoundation.org/UA/SecurityPolicy#";

}  // namespace

std::optional<std::string> security_policy_uri(std::string_view name_or_uri) {
  if (name_or_uri == "None" || name_or_uri == kSecurityPolicyNoneUri) return std::string(kSecurityPolicyNoneUri);
  const std::string uri =
      name_or_uri.starts_with(kUriPrefix) ? std::string(name_or_uri) : std::string(kUriPrefix) + std::string(name_or_uri);
  if (!find_security_suite(uri)) return std::nullopt;
  return uri;
}

std::string_view security_policy_name(std::string_view uri) {
  if (uri.starts_with(kUriPrefix)) return uri.substr(kUriPrefix.size());
  return uri;
}

bool security_policy_deprecated(std::string_view uri) {
  const SecuritySuite* suite = find_security_suite(uri);
  return suite && suite->deprecated;
}

std::vector<std::string_view> supported_security_policies(bool allow_deprecated) {
  std::vector<std::string_view> out;
  for (std::string_view name : kPolicyOrder) {
    if (allow_deprecated || !find_security_suite(std::string(kUriPrefix) + std::string(name))->deprecated) {
      out.push_back(name);
    }
  }
  out.push_back("None");
  return out;
}

const char* security_mode_name(MessageSecurityMode mode) {
  switch (mode) {
    case MessageSecurityMode::none: return "None";
    case MessageSecurityMode::sign: return "Sign";
    case MessageSecurityMode::sign_and_encrypt: return "SignAndEncrypt";
    default: return "Invalid";
  }
}

std::optional<MessageSecurityMode> parse_security_mode(std::string_view name) {
  if (name == "None") return MessageSecurityMode::none;
  if (name == "Sign") return MessageSecurityMode::sign;
  if (name == "SignAndEncrypt") return MessageSecurityMode::sign_and_encrypt;
  return std::nullopt;
}

}  // namespace oee::opcua
