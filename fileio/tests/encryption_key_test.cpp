// The key of encryption at rest: hex or base64 from a private file or the environment; an open
// file, a short key or junk is refused with the reason; subkeys differ per use.
#include "oee/fileio/encryption_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using namespace oee::fileio;

const std::string kHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const std::string kBase64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

Key256 expected() {
  Key256 k;
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(i);
  return k;
}

struct KeyFile {
  std::string path = (fs::temp_directory_path() / ("oee_key_" + std::to_string(::getpid()))).string();
  KeyFile(const std::string& text, mode_t mode) {
    std::ofstream(path) << text << "\n";
    ::chmod(path.c_str(), mode);
  }
  ~KeyFile() { fs::remove(path); }
};

std::string error_of(auto&& action) {
  try {
    action();
  } catch (const KeyError& e) {
    return e.what();
  }
  return "no error";
}

TEST(EncryptionKey, ReadsHexOrBase64FromAPrivateFile) {
  EXPECT_EQ(*load_encryption_key(KeyFile(kHex, 0600).path), expected());
  EXPECT_EQ(*load_encryption_key(KeyFile(kBase64, 0400).path), expected());
}

TEST(EncryptionKey, RefusesAFileOthersCanReadAndKeysOfTheWrongSize) {
  EXPECT_NE(error_of([] { load_encryption_key(KeyFile(kHex, 0644).path); }).find("chmod 600"), std::string::npos);
  EXPECT_NE(error_of([] { load_encryption_key(KeyFile(kHex.substr(2), 0600).path); }).find("64 hex digits"),
            std::string::npos);
  EXPECT_NE(error_of([] { load_encryption_key(KeyFile("not a key", 0600).path); }).find("64 hex digits"),
            std::string::npos);
  EXPECT_NE(error_of([] { load_encryption_key("/nonexistent/key"); }).find("cannot read"), std::string::npos);
}

TEST(EncryptionKey, TheEnvironmentServesWhenNoFileIsNamed) {
  ::unsetenv(kEncryptionKeyEnv);
  EXPECT_FALSE(load_encryption_key("").has_value());
  ::setenv(kEncryptionKeyEnv, kHex.c_str(), 1);
  EXPECT_EQ(*load_encryption_key(""), expected());
  ::unsetenv(kEncryptionKeyEnv);
}

TEST(EncryptionKey, EachUseGetsItsOwnSubkey) {
  const Key256 store = derive_key(expected(), KeyUse::store);
  EXPECT_NE(store, derive_key(expected(), KeyUse::auth));
  EXPECT_NE(store, derive_key(expected(), KeyUse::queue));
  EXPECT_NE(store, expected());
  EXPECT_EQ(store, derive_key(expected(), KeyUse::store));
}

}  // namespace
