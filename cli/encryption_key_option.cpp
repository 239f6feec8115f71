#include "encryption_key_option.h"

namespace oee::cli {

std::string EncryptionKeyOption::load() {
  try {
    master = fileio::load_encryption_key(file);
  } catch (const fileio::KeyError& e) {
    return std::string("--encryption-key-file: ") + e.what();
  }
  return {};
}

void add_encryption_key_option(CLI::App& app, EncryptionKeyOption& o, const std::string& what) {
  app.add_option("--encryption-key-file", o.file,
                 "32-byte key (64 hex digits or base64; mode 600) encrypting " + what +
                     " (default: the environment's OEE_ENCRYPTION_KEY; neither: not encrypted)");
}

storage::DataDirKeys data_dir_keys(const EncryptionKeyOption& o) {
  return {o.subkey(fileio::KeyUse::store), o.subkey(fileio::KeyUse::auth)};
}

}  // namespace oee::cli
