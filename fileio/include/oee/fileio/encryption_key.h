#pragma once
// The key of encryption at rest: 32 random bytes from a key file (hex or base64, not readable by
// group or others) or from the environment variable OEE_ENCRYPTION_KEY. One master key; each use
// (the store, the auth database, the edge queue) gets its own subkey derived with libsodium's
// crypto_kdf, so a key never serves two purposes. docs/security.md explains the design.
#include <array>
#include <optional>
#include <stdexcept>
#include <string>

namespace oee::fileio {

using Key256 = std::array<unsigned char, 32>;

struct KeyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kEncryptionKeyEnv = "OEE_ENCRYPTION_KEY";

// 64 hex digits or the base64 of 32 bytes, surrounding white space ignored. Throws KeyError.
Key256 parse_key(const std::string& text, const std::string& origin);

// The key of `key_file` when it is not empty (refused when group or others may read it), else of
// OEE_ENCRYPTION_KEY when set, else none (no encryption). Throws KeyError.
std::optional<Key256> load_encryption_key(const std::string& key_file);

enum class KeyUse { store = 1, auth = 2, queue = 3 };
Key256 derive_key(const Key256& master, KeyUse use);

}  // namespace oee::fileio
