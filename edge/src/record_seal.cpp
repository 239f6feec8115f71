#include "record_seal.h"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace oee::edge {

namespace {
constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
static_assert(RecordSeal::kOverheadBytes == kNonce + crypto_aead_xchacha20poly1305_ietf_ABYTES);

const unsigned char* bytes(const char* p) { return reinterpret_cast<const unsigned char*>(p); }
}  // namespace

RecordSeal::RecordSeal(const std::array<unsigned char, 32>& key) : key_(key) {
  if (sodium_init() < 0) throw std::runtime_error("durable queue: libsodium cannot initialise");
}

void RecordSeal::seal(std::string& out, std::string_view payload, const char* bound) const {
  unsigned char ad[kBoundBytes];  // `bound` may point into `out`, which the resize moves
  std::memcpy(ad, bound, kBoundBytes);
  const std::size_t at = out.size();
  out.resize(at + payload.size() + kOverheadBytes);
  auto* nonce = reinterpret_cast<unsigned char*>(out.data() + at);
  randombytes_buf(nonce, kNonce);
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonce, nullptr, bytes(payload.data()), payload.size(), ad,
                                             kBoundBytes, nullptr, nonce, key_.data());
}

bool RecordSeal::open(std::string_view sealed, const char* bound, std::string& payload) const {
  if (sealed.size() < kOverheadBytes) return false;
  payload.resize(sealed.size() - kOverheadBytes);
  unsigned long long length = 0;
  return crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(payload.data()), &length, nullptr,
                                                    bytes(sealed.data() + kNonce), sealed.size() - kNonce,
                                                    bytes(bound), kBoundBytes, bytes(sealed.data()), key_.data()) == 0;
}

}  // namespace oee::edge
