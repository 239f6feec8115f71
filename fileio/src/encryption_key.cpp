#include "oee/fileio/encryption_key.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace oee::fileio {
namespace {

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

void init_sodium() {
  if (sodium_init() < 0) throw KeyError("libsodium cannot initialise");
}

}  // namespace

Key256 parse_key(const std::string& text, const std::string& origin) {
  init_sodium();
  const std::string t = trimmed(text);
  Key256 key{};
  std::size_t len = 0;
  const char* end = nullptr;
  if (t.size() == 64 && sodium_hex2bin(key.data(), key.size(), t.data(), t.size(), nullptr, &len, &end) == 0 &&
      len == key.size())
    return key;
  if (sodium_base642bin(key.data(), key.size(), t.data(), t.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) == 0 &&
      len == key.size() && end == t.data() + t.size())
    return key;
  throw KeyError(origin + ": an encryption key must be 32 bytes written as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)");
}

std::optional<Key256> load_encryption_key(const std::string& key_file) {
  if (key_file.empty()) {
    const char* env = std::getenv(kEncryptionKeyEnv);
    if (!env || !*env) return std::nullopt;
    return parse_key(env, kEncryptionKeyEnv);
  }
  struct stat st {};
  if (::stat(key_file.c_str(), &st) != 0) throw KeyError(key_file + ": cannot read the encryption key file");
  // A key others can read protects nothing: refuse it as ssh refuses an open private key.
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    throw KeyError(key_file + ": the encryption key file must not be accessible by group or others (chmod 600)");
  std::ifstream in(key_file);
  if (!in) throw KeyError(key_file + ": cannot read the encryption key file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_key(text.str(), key_file);
}

Key256 derive_key(const Key256& master, KeyUse use) {
  init_sodium();
  Key256 sub{};
  static_assert(crypto_kdf_KEYBYTES == 32);
  crypto_kdf_derive_from_key(sub.data(), sub.size(), static_cast<std::uint64_t>(use), "oee-rest", master.data());
  return sub;
}

}  // namespace oee::fileio
