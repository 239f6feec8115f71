#pragma once
// Opens the store a `--storage` argument names: "sqlite:PATH", "postgresql://..." (or
// "postgres://..."), or empty for SQLite at DATA_DIR/oee.sqlite. PostgreSQL is wrapped in the
// resilient store (circuit breaker, spill in DATA_DIR/postgresql-spill.log, stale reads).
#include <memory>
#include <stdexcept>
#include <string>

#include "oee/storage/event_store.h"

namespace oee::storage {

// A --storage value that names no known backend (the message says which forms are accepted).
class StorageUrlError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Checks the form only; throws StorageUrlError.
void check_storage_url(const std::string& url);

std::unique_ptr<EventStore> open_store(const std::string& url, const std::string& data_dir,
                                       const PlantModel& plant, const ShiftCalendar& calendar,
                                       const StoreOptions& options = {});

}  // namespace oee::storage
