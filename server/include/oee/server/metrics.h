#pragma once
// The server's counters for /metrics (Prometheus text format): lock-free atomics bumped on the hot
// paths (HTTP requests, ingest, WebSocket fan-out), read when scraped.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace oee::server {

class Metrics {
 public:
  // Request latency histogram bucket bounds in microseconds (Prometheus `le` in seconds).
  static constexpr std::array<std::int64_t, 10> kLatencyBoundsUs = {100, 250, 500, 1000, 2500, 5000, 10000, 50000, 250000, 1000000};

  void observe_request(int status, std::int64_t latency_us);
  void add_ingest(std::uint64_t events, std::uint64_t inserted, std::uint64_t duplicates, std::uint64_t dead_letters,
                  std::int64_t lag_ms);
  // One retention run (`--retention-days`) that deleted these, at server time `at`; or one that failed.
  void add_retention_run(std::int64_t events, std::int64_t dead_letters, std::int64_t at_ms);
  void add_retention_failure() { retention_failures_.fetch_add(1, std::memory_order_relaxed); }
  // One continuous backup (`--backup-dir`) of this size and duration, taken at `at`; or one that failed.
  void add_backup(std::uint64_t size_bytes, std::int64_t duration_ms, std::int64_t at_ms);
  void add_backup_failure() { backup_failures_.fetch_add(1, std::memory_order_relaxed); }

  std::atomic<std::int64_t> websocket_clients{0};
  std::atomic<std::uint64_t> websocket_messages_sent{0};
  std::atomic<std::uint64_t> websocket_messages_coalesced{0};
  std::atomic<std::uint64_t> websocket_clients_dropped{0};
  std::atomic<std::int64_t> websocket_queue_bytes{0};
  std::atomic<std::int64_t> http_connections{0};
  std::atomic<std::uint64_t> http_connections_refused{0};  // over --max-connections(-per-address)
  std::atomic<std::uint64_t> http_read_timeouts{0};  // closed by the header or body deadline
  std::atomic<std::uint64_t> ingest_conflicts{0};  // events under a stored identity with other content
  std::atomic<std::uint64_t> tls_reloads{0};          // HTTPS certificate and key loaded again (SIGHUP, file change)
  std::atomic<std::uint64_t> tls_reload_failures{0};  // ... refused (bad file, key not matching): the old one serves
  std::atomic<std::uint64_t> mqtt_silence_reconnects{0};  // --mqtt-silence-reconnect-s
  std::atomic<std::uint64_t> mqtt_session_resets{0};      // clean session after silent reconnects
  // Sparkplug B host (docs/sparkplug.md).
  std::atomic<std::uint64_t> sparkplug_messages{0};
  std::atomic<std::uint64_t> sparkplug_unmapped_metrics{0};    // metrics no machine maps: ignored
  std::atomic<std::uint64_t> sparkplug_rebirths_requested{0};  // NCMD Node Control/Rebirth sent
  std::atomic<std::uint64_t> sparkplug_deaths{0};              // NDEATH (bdSeq matching) and DDEATH taken

  // The counters in Prometheus text exposition format (without a trailing # EOF).
  std::string prometheus_text() const;

 private:
  std::array<std::atomic<std::uint64_t>, kLatencyBoundsUs.size() + 1> latency_buckets_{};
  std::atomic<std::uint64_t> latency_sum_us_{0};
  std::atomic<std::uint64_t> requests_2xx_{0}, requests_4xx_{0}, requests_5xx_{0}, requests_other_{0};
  std::atomic<std::uint64_t> ingest_events_{0}, ingest_inserted_{0}, ingest_duplicates_{0}, ingest_dead_letters_{0};
  std::atomic<std::int64_t> engine_lag_ms_{0};
  std::atomic<std::uint64_t> retention_runs_{0}, retention_failures_{0};
  std::atomic<std::uint64_t> retention_deleted_events_{0}, retention_deleted_dead_letters_{0};
  std::atomic<std::int64_t> retention_last_run_ms_{0};
  std::atomic<std::uint64_t> backups_{0}, backup_failures_{0}, backup_last_size_bytes_{0};
  std::atomic<std::int64_t> backup_last_ms_{0}, backup_last_duration_ms_{0};
};

}  // namespace oee::server
