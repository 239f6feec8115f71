#pragma once
// Sealing of the durable queue's records when the queue has a key: libsodium's
// XChaCha20-Poly1305 with a random nonce per record; the record's id and append time (its header)
// are the additional data, so a record cannot be moved to another id. On disk the payload becomes
// nonce | ciphertext | tag; the record framing and its CRC32C (torn-write detection) are unchanged.
#include <array>
#include <string>
#include <string_view>

namespace oee::edge {

class RecordSeal {
 public:
  static constexpr std::size_t kOverheadBytes = 24 + 16;
  static constexpr std::size_t kBoundBytes = 16;  // the header's id and append time

  explicit RecordSeal(const std::array<unsigned char, 32>& key);
  // Appends the sealed `payload` to `out`; `bound` points at the kBoundBytes of its header.
  void seal(std::string& out, std::string_view payload, const char* bound) const;
  // The payload of a sealed record, or false when it fails authentication (wrong key, tampered).
  bool open(std::string_view sealed, const char* bound, std::string& payload) const;

 private:
  std::array<unsigned char, 32> key_;
};

}  // namespace oee::edge
