// `oee backup --data-dir DIR --out BACKUP_DIR [--encryption-key-file FILE]`: a consistent copy of a
// server's data directory (the store and auth.sqlite through SQLite's online backup), safe while
// `oee serve` ingests; a directory encrypted at rest is backed up encrypted, with the serve's key.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "commands.h"
#include "encryption_key_option.h"
#include "oee/storage/data_dir_backup.h"

namespace oee::cli {

int run_backup_command(int argc, char** argv) {
  CLI::App app{"Back up a server's data directory (its SQLite store and auth.sqlite), while it runs.", "oee backup"};
  std::string data_dir, out;
  app.add_option("--data-dir", data_dir, "the server's data directory")->required();
  app.add_option("--out", out, "the backup directory to create (must not exist)")->required();
  EncryptionKeyOption encryption;
  add_encryption_key_option(app, encryption, "the data directory's store and auth.sqlite (as given to oee serve)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (std::string why = encryption.load(); !why.empty()) {
    std::fprintf(stderr, "oee backup: %s\n", why.c_str());
    return 2;
  }
  try {
    const auto started = std::chrono::steady_clock::now();
    const storage::BackupManifest m = storage::back_up_data_dir(data_dir, out, data_dir_keys(encryption));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("backed up %s to %s: %zu files, %llu bytes, %lld events, %.3f s\n", data_dir.c_str(), out.c_str(),
                m.files.size(), static_cast<unsigned long long>(m.size_bytes()), static_cast<long long>(m.events), seconds);
    return 0;
  } catch (const storage::BackupError& e) {
    std::fprintf(stderr, "oee backup: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "oee backup: %s\n", e.what());
    return 1;
  }
}

}  // namespace oee::cli

OEE_COMMAND("backup", run_backup_command, "back up a data directory while the server runs: oee backup --data-dir DIR --out BACKUP_DIR")
