// `oee db migrate --storage URL`: brings a PostgreSQL database to this build's schema (versioned
// migrations, safe to run while servers are up or from several hosts at once). SQLite files
// migrate themselves when opened.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "commands.h"
#include "oee/storage/open_store.h"
#include "oee/storage/postgres_store.h"

namespace oee::cli {

int run_db_command(int argc, char** argv) {
  CLI::App app{"Database maintenance for the PostgreSQL storage backend.", "oee db"};
  app.require_subcommand(1);
  std::string url;
  auto* migrate = app.add_subcommand("migrate", "apply the schema migrations the database lacks");
  migrate->add_option("--storage", url, "postgresql://[user[:password]@]host[:port]/database[?...]")->required();
  auto* status = app.add_subcommand("status", "print the database's schema version and this build's");
  status->add_option("--storage", url, "postgresql://...")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    storage::check_storage_url(url);
  } catch (const storage::StorageUrlError& e) {
    std::fprintf(stderr, "oee db: --storage: %s\n", e.what());
    return 2;
  }
  if (!storage::is_postgres_url(url)) {
    std::fprintf(stderr, "oee db: --storage: SQLite files are migrated when a server opens them; give a postgresql:// URL\n");
    return 2;
  }
  try {
    const int before = storage::postgres_schema_version(url);
    if (*status) {
      std::printf("schema version %d (this build: %d)\n", before, storage::postgres_latest_schema_version());
      return 0;
    }
    const int after = storage::migrate_postgres(url);
    if (after == before)
      std::printf("schema version %d: up to date\n", after);
    else
      std::printf("schema version %d -> %d\n", before, after);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "oee db: %s\n", e.what());
    return 1;
  }
}

}  // namespace oee::cli

OEE_COMMAND("db", run_db_command, "database maintenance: oee db migrate|status --storage postgresql://...")
