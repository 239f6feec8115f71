#include "oee/server/continuous_backups.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "oee/server/log.h"
#include "oee/storage/data_dir_backup.h"

namespace oee::server {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "oee-backup-";

TimeMs wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// oee-backup-2026-12-04T210000.123Z: sorts by time, no ':' in a file name.
std::string backup_name(TimeMs at) {
  std::string time = format_rfc3339(at);
  std::erase(time, ':');
  return std::string(kPrefix) + time;
}

}  // namespace

ContinuousBackups::ContinuousBackups(ContinuousBackupOptions options, Metrics& metrics)
    : options_(std::move(options)), metrics_(metrics), task_(options_.interval_s * kMsPerSecond, [this] { run_once(); }) {}

void ContinuousBackups::run_once() {
  const fs::path out = options_.backup_dir / backup_name(wall_clock_ms());
  const auto started = std::chrono::steady_clock::now();
  try {
    fs::create_directories(options_.backup_dir);
    const storage::BackupManifest m = storage::back_up_data_dir(options_.data_dir, out, options_.keys);
    const auto duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    metrics_.add_backup(m.size_bytes(), duration_ms, m.created);
    log_line("info", "backup", {{"to", out.string()}, {"events", std::to_string(m.events)},
                                {"bytes", std::to_string(m.size_bytes())}, {"duration_ms", std::to_string(duration_ms)}});
    rotate();
  } catch (const std::exception& e) {
    metrics_.add_backup_failure();
    log_line("warn", "backup failed", {{"to", out.string()}, {"error", e.what()}});
  }
}

// Removes all but the newest `keep` whole backups, and what a crash mid-backup left behind (only
// this thread writes here, and it is not writing now).
void ContinuousBackups::rotate() {
  std::vector<fs::path> whole;
  for (const auto& e : fs::directory_iterator(options_.backup_dir)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory()) continue;
    if (name.starts_with("." + std::string(kPrefix))) fs::remove_all(e.path());
    else if (name.starts_with(kPrefix)) whole.push_back(e.path());
  }
  std::sort(whole.begin(), whole.end());
  const auto excess = static_cast<std::ptrdiff_t>(whole.size()) - options_.keep;
  for (std::ptrdiff_t i = 0; i < excess; ++i) {
    fs::remove_all(whole[static_cast<std::size_t>(i)]);
    log_line("info", "backup removed", {{"path", whole[static_cast<std::size_t>(i)].string()}, {"keep", std::to_string(options_.keep)}});
  }
}

void ContinuousBackups::start() {
  if (!options_.backup_dir.empty()) task_.start();
}

void ContinuousBackups::stop() { task_.stop(); }

}  // namespace oee::server
