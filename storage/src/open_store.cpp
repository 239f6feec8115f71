#include "oee/storage/open_store.h"

#include "oee/storage/postgres_store.h"
#include "oee/storage/resilient_store.h"

namespace oee::storage {

void check_storage_url(const std::string& url) {
  if (url.empty() || is_postgres_url(url)) return;
  if (url.starts_with("sqlite:") && url.size() > 7) return;
  throw StorageUrlError("'" + url + "' is not a storage URL (sqlite:PATH or postgresql://[user@]host[:port]/db[?...])");
}

std::unique_ptr<EventStore> open_store(const std::string& url, const std::string& data_dir,
                                       const PlantModel& plant, const ShiftCalendar& calendar,
                                       const StoreOptions& options) {
  check_storage_url(url);
  if (is_postgres_url(url)) {
    ResilienceOptions resilience;
    resilience.spill_path = data_dir + "/postgresql-spill.log";
    resilience.replay_in_background = true;  // after a failover, also when ingest has paused
    // Probes at least every 10 s: a promotion with pg_auto_failover's default health checks takes
    // about 35 s, and waits doubling to 60 s put the server's resumption at 62 s (bench_postgres_failover).
    resilience.open_wait_ms_max = 10'000;
    // The plant and calendar outlive the store (the caller owns them, as for open_sqlite_store).
    return std::make_unique<ResilientEventStore>(
        [url, &plant, &calendar, options] { return open_postgres_store(url, plant, calendar, options); }, resilience);
  }
  return open_sqlite_store(url.empty() ? data_dir + "/oee.sqlite" : url.substr(7), plant, calendar, options);
}

}  // namespace oee::storage
