#pragma once
// The storage test suite runs against every backend: a backend gives fresh, empty store locations
// (a file for SQLite, a database of a throwaway cluster for PostgreSQL), opens stores at them and
// answers the few questions a test asks about the backend's own tables.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "oee/storage/event_store.h"
#include "oee/storage/postgres_store.h"
#include "postgres_test_cluster.h"
#include "sqlite_db.h"
#include "storage_test_support.h"

namespace oee::storage::testing {

using PageKey = ::oee::sqlite::PageKey;

class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  virtual std::string new_location() = 0;
  virtual std::unique_ptr<EventStore> open(const std::string& location, const PlantModel& plant,
                                           const ShiftCalendar& calendar, const StoreOptions& options = {}) = 0;
  // Events the backend's tables hold (rows of its event table, or events of its event blocks).
  virtual std::int64_t identity_rows(const std::string& location) = 0;
  // Hour rollup rows ending at or before `t`.
  virtual std::int64_t rollups_ending_by(const std::string& location, TimeMs t) = 0;
  // Deletes the stored events of every machine in the whole hours [from, to) behind the store's
  // back (a test's proof that a query does not read them); returns the events deleted.
  virtual std::int64_t delete_events_of_hours(const std::string& location, TimeMs from, TimeMs to) = 0;
};

// With a key: the same suite over the encrypting VFS (sqlite/src/encrypting_vfs.cpp).
class SqliteBackend final : public StoreBackend {
 public:
  explicit SqliteBackend(std::optional<PageKey> key = std::nullopt) : key_(key) {}
  std::string new_location() override { return dir_.path() + "/store" + std::to_string(++n_) + ".db"; }
  std::unique_ptr<EventStore> open(const std::string& location, const PlantModel& plant, const ShiftCalendar& calendar,
                                   const StoreOptions& options) override {
    StoreOptions o = options;
    o.encryption_key = key_;
    return open_sqlite_store(location, plant, calendar, o);
  }
  std::int64_t identity_rows(const std::string& location) override {
    return scalar(location, "SELECT coalesce(sum(events), 0) FROM event_blocks", 0);
  }
  std::int64_t rollups_ending_by(const std::string& location, TimeMs t) override {
    return scalar(location, "SELECT count(*) FROM rollups WHERE hour_start + 3600000 <= ?1", t);
  }
  std::int64_t delete_events_of_hours(const std::string& location, TimeMs from, TimeMs to) override {
    sqlite::Database db(location, false, key());
    sqlite::Statement count(db, "SELECT coalesce(sum(events), 0) FROM event_blocks WHERE hour_start>=?1 AND hour_start<?2");
    count.bind(1, from).bind(2, to).step();
    const std::int64_t n = count.int_at(0);
    count.reset();
    sqlite::Statement del(db, "DELETE FROM event_blocks WHERE hour_start>=?1 AND hour_start<?2");
    del.bind(1, from).bind(2, to).run();
    return n;
  }

 private:
  const PageKey* key() const { return key_ ? &*key_ : nullptr; }
  std::int64_t scalar(const std::string& file, const char* sql, std::int64_t param) const {
    sqlite::Database db(file, false, key());
    sqlite::Statement s(db, sql);
    if (std::string_view(sql).find("?1") != std::string_view::npos) s.bind(1, param);
    s.step();
    return s.int_at(0);
  }
  std::optional<PageKey> key_;
  TempDir dir_;
  int n_ = 0;
};

class PostgresBackend final : public StoreBackend {
 public:
  std::string new_location() override { return shared_postgres().create_database(); }
  std::unique_ptr<EventStore> open(const std::string& location, const PlantModel& plant, const ShiftCalendar& calendar,
                                   const StoreOptions& options) override {
    return open_postgres_store(location, plant, calendar, options);
  }
  std::int64_t identity_rows(const std::string& location) override {
    return shared_postgres().scalar(location, "SELECT count(*) FROM events");
  }
  std::int64_t rollups_ending_by(const std::string& location, TimeMs t) override {
    return shared_postgres().scalar(location,
                                    "SELECT count(*) FROM rollups WHERE hour_start + 3600000 <= " + std::to_string(t));
  }
  std::int64_t delete_events_of_hours(const std::string& location, TimeMs from, TimeMs to) override {
    return shared_postgres().scalar(location, "WITH d AS (DELETE FROM events WHERE ts>=" + std::to_string(from) +
                                                  " AND ts<" + std::to_string(to) + " RETURNING 1) SELECT count(*) FROM d");
  }
};

inline std::unique_ptr<StoreBackend> make_backend(const std::string& name) {
  if (name == "postgresql") return std::make_unique<PostgresBackend>();
  if (name == "sqlite_encrypted") return std::make_unique<SqliteBackend>(PageKey{0x11, 0x22, 0x33});
  return std::make_unique<SqliteBackend>();
}

inline const char* const kBackends[] = {"sqlite", "sqlite_encrypted", "postgresql"};
// Test names end in the backend: Backends/StoreTest.X/postgresql.
inline std::string backend_name(const ::testing::TestParamInfo<const char*>& info) { return info.param; }

}  // namespace oee::storage::testing
