// select_best_endpoint: the documented order of modes and policies (oee/opcua/endpoint_selection.h).
#include "oee/opcua/endpoint_selection.h"

#include <gtest/gtest.h>

namespace {

using namespace oee::opcua;

const std::string kPrefix = "http://opcfoundation.org/UA/SecurityPolicy#";

EndpointDescription ep(const std::string& policy, MessageSecurityMode mode, uint8_t level = 0) {
  EndpointDescription e;
  e.endpoint_url = "opc.tcp://plc:4840";
  e.security_policy_uri = kPrefix + policy;
  e.security_mode = mode;
  e.security_level = level;
  e.transport_profile_uri = "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary";
  return e;
}

using M = MessageSecurityMode;

TEST(EndpointSelection, EncryptionBeforeTheStrongerSignaturePolicy) {
  const std::vector<EndpointDescription> offered = {
      ep("None", M::none, 0), ep("Aes256_Sha256_RsaPss", M::sign, 107),
      ep("Aes128_Sha256_RsaOaep", M::sign_and_encrypt, 205), ep("Basic256Sha256", M::sign, 106)};
  EXPECT_EQ(select_best_endpoint(offered), 2u);
}

TEST(EndpointSelection, PolicyOrderWithinAMode) {
  const std::vector<EndpointDescription> offered = {
      ep("Aes128_Sha256_RsaOaep", M::sign_and_encrypt), ep("Basic256Sha256", M::sign_and_encrypt),
      ep("Aes256_Sha256_RsaPss", M::sign_and_encrypt), ep("Basic256", M::sign_and_encrypt)};
  EXPECT_EQ(select_best_endpoint(offered), 2u);
  EXPECT_EQ(select_best_endpoint(std::span(offered).first(2)), 1u);
  EXPECT_GT(security_policy_rank(kPrefix + "Basic256Sha256"), security_policy_rank(kPrefix + "Aes128_Sha256_RsaOaep"));
  EXPECT_EQ(security_policy_rank("http://example.com/#Mine"), -1);
}

TEST(EndpointSelection, DeprecatedPoliciesOnlyWhenAllowed) {
  const std::vector<EndpointDescription> offered = {ep("None", M::none), ep("Basic256", M::sign_and_encrypt),
                                                    ep("Basic128Rsa15", M::sign_and_encrypt)};
  EXPECT_EQ(select_best_endpoint(offered), 0u);
  EndpointSelection allow;
  allow.allow_deprecated = true;
  EXPECT_EQ(select_best_endpoint(offered, allow), 1u);
}

TEST(EndpointSelection, OnlyPoliciesTheClientSupportsAndBinaryTransport) {
  std::vector<EndpointDescription> offered = {ep("Aes256_Sha256_RsaPss", M::sign_and_encrypt),
                                              ep("Basic256Sha256", M::sign_and_encrypt),
                                              ep("Basic256Sha256", M::sign)};
  EndpointSelection supported;
  supported.supported_policy_uris = {kPrefix + "Basic256Sha256"};
  EXPECT_EQ(select_best_endpoint(offered, supported), 1u);
  offered[1].transport_profile_uri = "http://opcfoundation.org/UA-Profile/Transport/https-uabinary";
  EXPECT_EQ(select_best_endpoint(offered, supported), 2u);
}

TEST(EndpointSelection, SecurityLevelBreaksTiesAndNoneOnlyWhenAllowed) {
  const std::vector<EndpointDescription> twins = {ep("Basic256Sha256", M::sign, 3), ep("Basic256Sha256", M::sign, 9)};
  EXPECT_EQ(select_best_endpoint(twins), 1u);
  const std::vector<EndpointDescription> only_none = {ep("None", M::none)};
  EXPECT_EQ(select_best_endpoint(only_none), 0u);
  EndpointSelection secure_only;
  secure_only.allow_none = false;
  EXPECT_EQ(select_best_endpoint(only_none, secure_only), std::nullopt);
  // A None policy with a signing mode, or an unknown mode, is not an endpoint to use.
  const std::vector<EndpointDescription> odd = {ep("None", M::sign), ep("Basic256Sha256", M::invalid)};
  EXPECT_EQ(select_best_endpoint(odd), std::nullopt);
  EXPECT_EQ(select_best_endpoint({}), std::nullopt);
}

}  // namespace
