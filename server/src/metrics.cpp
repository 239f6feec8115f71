#include "oee/server/metrics.h"

namespace oee::server {

void Metrics::observe_request(int status, std::int64_t latency_us) {
  std::size_t i = 0;
  while (i < kLatencyBoundsUs.size() && latency_us > kLatencyBoundsUs[i]) ++i;
  latency_buckets_[i].fetch_add(1, std::memory_order_relaxed);
  latency_sum_us_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, latency_us)), std::memory_order_relaxed);
  auto& counter = status >= 500 ? requests_5xx_ : status >= 400 ? requests_4xx_ : status >= 200 && status < 300 ? requests_2xx_ : requests_other_;
  counter.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::add_ingest(std::uint64_t events, std::uint64_t inserted, std::uint64_t duplicates, std::uint64_t dead_letters,
                         std::int64_t lag_ms) {
  ingest_events_ += events;
  ingest_inserted_ += inserted;
  ingest_duplicates_ += duplicates;
  ingest_dead_letters_ += dead_letters;
  engine_lag_ms_ = lag_ms;
}

void Metrics::add_retention_run(std::int64_t events, std::int64_t dead_letters, std::int64_t at_ms) {
  retention_deleted_events_ += static_cast<std::uint64_t>(std::max<std::int64_t>(0, events));
  retention_deleted_dead_letters_ += static_cast<std::uint64_t>(std::max<std::int64_t>(0, dead_letters));
  retention_last_run_ms_ = at_ms;
  retention_runs_ += 1;  // last: a scrape that sees the run sees what it deleted
}

void Metrics::add_backup(std::uint64_t size_bytes, std::int64_t duration_ms, std::int64_t at_ms) {
  backup_last_size_bytes_ = size_bytes;
  backup_last_duration_ms_ = duration_ms;
  backup_last_ms_ = at_ms;
  backups_ += 1;  // last: a scrape that sees the backup sees its figures
}

std::string Metrics::prometheus_text() const {
  std::string out;
  auto metric = [&out](const char* name, const char* type, const char* help, auto value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + std::to_string(value) + "\n";
  };
  metric("oee_ingest_events_total", "counter", "Events received by the ingest path", ingest_events_.load());
  metric("oee_ingest_inserted_total", "counter", "Events newly stored", ingest_inserted_.load());
  metric("oee_ingest_duplicates_total", "counter", "Events already stored (deduplicated)", ingest_duplicates_.load());
  metric("oee_ingest_dead_letters_total", "counter", "Events or messages dead-lettered", ingest_dead_letters_.load());
  metric("oee_ingest_conflicts_total", "counter", "Events sent again under a stored src+inc+seq with other content (kept as conflicts)",
         ingest_conflicts.load());
  metric("oee_engine_lag_seconds", "gauge", "Server time of the last ingest minus the newest event time in it",
         static_cast<double>(engine_lag_ms_.load()) / 1000.0);
  metric("oee_retention_runs_total", "counter", "Retention runs completed (--retention-days)", retention_runs_.load());
  metric("oee_retention_failures_total", "counter", "Retention runs that failed (retried at the next run)", retention_failures_.load());
  metric("oee_retention_deleted_events_total", "counter", "Events deleted by retention", retention_deleted_events_.load());
  metric("oee_retention_deleted_dead_letters_total", "counter", "Dead letters deleted by retention",
         retention_deleted_dead_letters_.load());
  metric("oee_retention_last_run_timestamp_seconds", "gauge", "Server time of the last completed retention run (0: none yet)",
         retention_last_run_ms_.load() / 1000);
  metric("oee_backups_total", "counter", "Continuous backups completed (--backup-dir)", backups_.load());
  metric("oee_backup_failures_total", "counter", "Continuous backups that failed (retried at the next interval)", backup_failures_.load());
  metric("oee_backup_last_timestamp_seconds", "gauge", "Time of the last completed backup (0: none yet)", backup_last_ms_.load() / 1000);
  metric("oee_backup_last_duration_seconds", "gauge", "How long the last completed backup took",
         static_cast<double>(backup_last_duration_ms_.load()) / 1000.0);
  metric("oee_backup_last_size_bytes", "gauge", "Size of the last completed backup", backup_last_size_bytes_.load());
  metric("oee_websocket_clients", "gauge", "Connected WebSocket clients", websocket_clients.load());
  metric("oee_websocket_messages_sent_total", "counter", "WebSocket messages queued to clients", websocket_messages_sent.load());
  metric("oee_websocket_messages_coalesced_total", "counter", "Updates replaced by a newer one before a slow client took them",
         websocket_messages_coalesced.load());
  metric("oee_websocket_clients_dropped_total", "counter", "Clients disconnected for falling too far behind", websocket_clients_dropped.load());
  metric("oee_websocket_queue_bytes", "gauge", "Bytes waiting in WebSocket send queues", websocket_queue_bytes.load());
  metric("oee_http_connections", "gauge", "Open HTTP connections", http_connections.load());
  metric("oee_http_connections_refused_total", "counter", "Connections refused over the total or per-address cap",
         http_connections_refused.load());
  metric("oee_http_read_timeouts_total", "counter", "Connections closed for not sending headers or body in time",
         http_read_timeouts.load());
  metric("oee_tls_reloads_total", "counter", "HTTPS certificate and key reloads (SIGHUP or a file change)", tls_reloads.load());
  metric("oee_tls_reload_failures_total", "counter", "HTTPS reloads refused (unreadable file, key not matching); the previous certificate serves",
         tls_reload_failures.load());
  metric("oee_mqtt_silence_reconnects_total", "counter", "MQTT subscriber reconnects after --mqtt-silence-reconnect-s without a message",
         mqtt_silence_reconnects.load());
  metric("oee_mqtt_session_resets_total", "counter",
         "MQTT subscriber sessions reset with a clean session after silent reconnects in a row", mqtt_session_resets.load());
  metric("oee_sparkplug_messages_total", "counter", "Sparkplug B messages received by the host (STATE excluded)", sparkplug_messages.load());
  metric("oee_sparkplug_unmapped_metrics_total", "counter", "Sparkplug metrics no machine of the plant file maps (ignored)",
         sparkplug_unmapped_metrics.load());
  metric("oee_sparkplug_rebirths_requested_total", "counter", "Rebirth requests (NCMD) sent to Sparkplug edge nodes",
         sparkplug_rebirths_requested.load());
  metric("oee_sparkplug_deaths_total", "counter", "Sparkplug NDEATH (bdSeq matching) and DDEATH taken: their machines no data",
         sparkplug_deaths.load());
  out += "# HELP oee_http_requests_total HTTP requests by status class\n# TYPE oee_http_requests_total counter\n";
  out += "oee_http_requests_total{code=\"2xx\"} " + std::to_string(requests_2xx_.load()) + "\n";
  out += "oee_http_requests_total{code=\"4xx\"} " + std::to_string(requests_4xx_.load()) + "\n";
  out += "oee_http_requests_total{code=\"5xx\"} " + std::to_string(requests_5xx_.load()) + "\n";
  out += "oee_http_requests_total{code=\"other\"} " + std::to_string(requests_other_.load()) + "\n";
  out += "# HELP oee_http_request_duration_seconds HTTP request handling time\n# TYPE oee_http_request_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= kLatencyBoundsUs.size(); ++i) {
    cumulative += latency_buckets_[i].load();
    const std::string le = i < kLatencyBoundsUs.size() ? std::to_string(static_cast<double>(kLatencyBoundsUs[i]) / 1e6) : "+Inf";
    out += "oee_http_request_duration_seconds_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += "oee_http_request_duration_seconds_sum " + std::to_string(static_cast<double>(latency_sum_us_.load()) / 1e6) + "\n";
  out += "oee_http_request_duration_seconds_count " + std::to_string(cumulative) + "\n";
  return out;
}

}  // namespace oee::server
