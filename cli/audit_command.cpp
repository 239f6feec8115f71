// `oee audit verify`: checks the audit hash chain of a data directory (every write of the API is a
// row; a changed, inserted or deleted row breaks the chain from there on, and the head anchor
// beside it, auth.audit-head, shows when the newest rows were cut off).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "encryption_key_option.h"
#include "oee/auth/audit_chain.h"

namespace oee::cli {

int run_audit_command(int argc, char** argv) {
  CLI::App app{"Check the audit trail of the server's writes.", "oee audit"};
  app.require_subcommand(1);
  auto* verify = app.add_subcommand("verify", "check the hash chain; exit 0 when intact, 1 when tampered");
  std::string data_dir = "oee-data", file;
  verify->add_option("--data-dir", data_dir, "the server's data directory")->capture_default_str();
  verify->add_option("--file", file, "the audit database itself (default DATA_DIR/auth.sqlite)");
  EncryptionKeyOption encryption;
  add_encryption_key_option(*verify, encryption, "the audit database (as given to oee serve)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (file.empty()) file = (std::filesystem::path(data_dir) / "auth.sqlite").string();
  if (!std::filesystem::is_regular_file(file)) {
    std::fprintf(stderr, "oee audit verify: no audit database at %s\n", file.c_str());
    return 2;
  }
  if (const std::string why = encryption.load(); !why.empty()) {
    std::fprintf(stderr, "oee audit verify: %s\n", why.c_str());
    return 2;
  }
  const auto key = encryption.subkey(fileio::KeyUse::auth);
  try {
    auth::AuditChain chain(file, key ? &*key : nullptr);
    const auth::AuditVerification v = chain.verify();
    if (!v.ok) {
      std::printf("audit chain BROKEN at row %lld: %s (%lld rows read)\n", static_cast<long long>(v.first_bad_id),
                  v.problem.c_str(), static_cast<long long>(v.rows));
      return 1;
    }
    if (v.anchored_rows > 0)
      std::printf("audit chain intact: %lld rows (head anchor at row %lld)\n", static_cast<long long>(v.rows),
                  static_cast<long long>(v.anchored_rows));
    else
      std::printf("audit chain intact: %lld rows (no head anchor yet: a cut-off tail cannot be detected)\n",
                  static_cast<long long>(v.rows));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "oee audit verify: %s\n", e.what());
    return 2;
  }
}

}  // namespace oee::cli

OEE_COMMAND("audit", run_audit_command, "check the audit trail's hash chain (oee audit verify)")
