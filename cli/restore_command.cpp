// `oee restore --from BACKUP_DIR --data-dir NEW_DIR`: checks a backup against its manifest and
// restores it into a new data directory, for `oee serve --data-dir NEW_DIR`. An encrypted backup is
// restored as it is (still encrypted); given the serve's key, each database is checked to open
// with it first.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "commands.h"
#include "encryption_key_option.h"
#include "oee/storage/data_dir_backup.h"

namespace oee::cli {

int run_restore_command(int argc, char** argv) {
  CLI::App app{"Restore a backup of `oee backup` into a new data directory.", "oee restore"};
  std::string from, data_dir;
  bool verify_only = false;
  app.add_option("--from", from, "the backup directory")->required();
  CLI::Option* into = app.add_option("--data-dir", data_dir, "the data directory to create (missing or empty)");
  app.add_flag("--verify-only", verify_only, "only check the backup's files against its manifest (and with "
               "--encryption-key-file that each database opens with the key); restores nothing")->excludes(into);
  EncryptionKeyOption encryption;
  add_encryption_key_option(app, encryption, "an encrypted backup: checked to open with it before restoring (or by --verify-only)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (std::string why = encryption.load(); !why.empty()) {
    std::fprintf(stderr, "oee restore: %s\n", why.c_str());
    return 2;
  }
  if (!verify_only && data_dir.empty()) {
    std::fprintf(stderr, "oee restore: give --data-dir NEW_DIR (or --verify-only)\n");
    return 2;
  }
  try {
    const auto started = std::chrono::steady_clock::now();
    const storage::BackupManifest m = verify_only ? storage::verify_backup(from, data_dir_keys(encryption)) : storage::restore_data_dir(from, data_dir, data_dir_keys(encryption));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("%s %s (taken %s): %zu files, %llu bytes, %lld events, %.3f s\n", verify_only ? "verified" : "restored",
                from.c_str(), format_rfc3339(m.created).c_str(), m.files.size(),
                static_cast<unsigned long long>(m.size_bytes()), static_cast<long long>(m.events), seconds);
    return 0;
  } catch (const storage::BackupError& e) {
    std::fprintf(stderr, "oee restore: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "oee restore: %s\n", e.what());
    return 1;
  }
}

}  // namespace oee::cli

OEE_COMMAND("restore", run_restore_command, "restore a backup into a new data directory: oee restore --from BACKUP_DIR --data-dir NEW_DIR")
