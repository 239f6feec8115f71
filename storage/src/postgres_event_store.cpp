// The PostgreSQL event store: its connections, the ids of machines and sources, and opening it.
// docs/storage.md ("PostgreSQL") explains the schema, the dedup guarantee, how rollups are
// materialised and invalidated, and why several servers may share one database; the other
// concerns are in postgres_append, _history, _rollups, _retention and _records.cpp.
#include "postgres_event_store.h"

#include "postgres_schema.h"

namespace oee::storage {

namespace {

using pg::Connection;
using pg::Params;
using pg::PgError;
using pg::Result;
using pg::Transaction;

// Idle inside a transaction this long, a session is ended by the database. The store's
// transactions run statement after statement, so only a server that froze or lost power mid-append
// stays idle in one; its row locks (a source's row, which every server under a shared subscription
// writes) would otherwise stall every other server until TCP gives up on it, hours later.
constexpr const char* kIdleInTransactionTimeout = "10s";

std::unique_ptr<Connection> open_session(const std::string& url) {
  auto c = std::make_unique<Connection>(url);
  // Planning a statement over every partition costs more than running it; the generic plan
  // still prunes partitions by the parameters when it starts.
  c->exec("SET plan_cache_mode = force_generic_plan");
  c->exec(std::string("SET idle_in_transaction_session_timeout = '") + kIdleInTransactionTimeout + "'");
  return c;
}

}  // namespace

PostgresEventStore::PostgresEventStore(const std::string& url, const PlantModel& plant, const ShiftCalendar& calendar,
                                       const StoreOptions& options)
    : url_(url), plant_(plant), calendar_(calendar), options_(options) {
  pg::migrate(conn());
  for (const MachineSpec* spec : plant_.machines()) machine_id(spec->path);
  check_rules();
}

Connection& PostgresEventStore::side_conn() {
  if (!side_ || !side_->ok()) {
    side_.reset();
    side_ = open_session(url_);
  }
  return *side_;
}

Connection& PostgresEventStore::conn() {
  if (!db_ || !db_->ok()) {
    db_.reset();
    staging_ready_ = false;
    db_ = open_session(url_);
  }
  return *db_;
}

std::string PostgresEventStore::describe() const {
  // The URL without a password.
  std::string out = url_;
  const auto scheme = out.find("://");
  const auto at = out.find('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
    const auto colon = out.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) out.replace(colon, at - colon, ":***");
  }
  return out;
}

std::int64_t PostgresEventStore::machine_id(std::string_view path) {
  auto it = machine_ids_.find(path);
  if (it != machine_ids_.end()) return it->second;
  return guarded([&] {
    Connection& c = conn();
    c.query("INSERT INTO machines(path) VALUES($1) ON CONFLICT (path) DO NOTHING", Params().add(path));
    const std::int64_t id = c.query("SELECT id FROM machines WHERE path=$1", Params().add(path)).int_at(0, 0);
    machine_ids_.emplace(std::string(path), id);
    machine_paths_[id] = std::string(path);
    return id;
  });
}

std::int64_t PostgresEventStore::source_id(std::string_view src, std::string_view inc) {
  source_key(src, inc, key_scratch_);
  auto it = source_ids_.find(key_scratch_);
  if (it != source_ids_.end()) return it->second;
  return guarded([&] {
    Connection& c = conn();
    c.query("INSERT INTO sources(src, incarnation) VALUES($1, $2) ON CONFLICT (src, incarnation) DO NOTHING",
            Params().add(src).add(inc));
    const std::int64_t id =
        c.query("SELECT id FROM sources WHERE src=$1 AND incarnation=$2", Params().add(src).add(inc)).int_at(0, 0);
    source_ids_.emplace(source_key(src, inc), id);
    source_names_[id] = SourceName{std::string(src), std::string(inc)};
    return id;
  });
}

// Ids created by another server sharing the database are looked up on first sight.
const SourceName& PostgresEventStore::source_name(std::int64_t id) {
  static const SourceName kNone;
  if (id == 0) return kNone;
  auto it = source_names_.find(id);
  if (it != source_names_.end()) return it->second;
  Result r = conn().query("SELECT src, incarnation FROM sources WHERE id=$1", Params().add(id));
  if (r.rows() == 0) return kNone;
  SourceName name{r.text_at(0, 0), r.text_at(0, 1)};
  source_ids_[source_key(name.src, name.inc)] = id;
  return source_names_[id] = std::move(name);
}

void PostgresEventStore::name_source(Event& e, std::int64_t id) {
  if (id == 0) return;
  const SourceName& name = source_name(id);
  e.src = name.src;
  e.inc = name.inc;
}

const std::string& PostgresEventStore::machine_path(std::int64_t id) {
  static const std::string kNone;
  auto it = machine_paths_.find(id);
  if (it != machine_paths_.end()) return it->second;
  Result r = conn().query("SELECT path FROM machines WHERE id=$1", Params().add(id));
  if (r.rows() == 0) return kNone;
  machine_ids_[r.text_at(0, 0)] = id;
  return machine_paths_[id] = r.text_at(0, 0);
}

bool is_postgres_url(std::string_view url) { return url.starts_with("postgresql://") || url.starts_with("postgres://"); }

int migrate_postgres(const std::string& url) {
  Connection c(url);
  return pg::migrate(c);
}

int postgres_schema_version(const std::string& url) {
  Connection c(url);
  return pg::schema_version(c);
}

int postgres_latest_schema_version() { return pg::kSchemaVersion; }

std::unique_ptr<EventStore> open_postgres_store(const std::string& url, const PlantModel& plant,
                                                const ShiftCalendar& calendar, const StoreOptions& options) {
  try {
    return std::make_unique<PostgresEventStore>(url, plant, calendar, options);
  } catch (const PgError& e) {
    if (e.connection_lost()) throw StoreUnreachable(e.what());
    throw;
  }
}

}  // namespace oee::storage
