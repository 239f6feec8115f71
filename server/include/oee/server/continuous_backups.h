#pragma once
// `oee serve --backup-dir D --backup-interval-s N --backup-keep K`: a backup of the data directory
// (storage/data_dir_backup.h) every N seconds on its own thread, into D/oee-backup-<UTC time>,
// keeping the newest K. SQLite's online backup reads a snapshot, so ingest goes on meanwhile (the
// store is in WAL mode: the writer is never blocked by the reader). The interval plus one backup's
// duration bounds what a disaster loses (the RPO). Each run is logged and shows in /metrics
// (Metrics::add_backup); a failed run is logged, counted, and the next one tries again.
#include <filesystem>

#include "oee/server/metrics.h"
#include "oee/storage/data_dir_backup.h"
#include "oee/server/periodic_task.h"

namespace oee::server {

struct ContinuousBackupOptions {
  std::filesystem::path data_dir, backup_dir;  // no backups when backup_dir is empty
  int interval_s = 240;  // with a backup of under a minute, an RPO under the 5 minutes the report claims
  int keep = 3;
  storage::DataDirKeys keys;  // a data directory encrypted at rest: backed up encrypted
};

class ContinuousBackups {
 public:
  ContinuousBackups(ContinuousBackupOptions options, Metrics& metrics);
  void run_once();  // never throws: a failure is logged and counted
  void start();     // nothing to do without a backup_dir
  void stop();

 private:
  void rotate();

  ContinuousBackupOptions options_;
  Metrics& metrics_;
  PeriodicTask task_;  // last: stopped (joined) before the members it uses go
};

}  // namespace oee::server
