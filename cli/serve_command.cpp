// `oee serve`: the server: ingest into the engine and storage, and the HTTP API. `--demo` feeds it
// the simulated demo plant in real time.
#include <CLI/CLI.hpp>
#include <signal.h>

#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "commands.h"
#include "demo_plant.h"
#include "encryption_key_option.h"
#include "serve_security_options.h"
#include "oee/api/live_feed.h"
#include "oee/api/routes.h"
#include "oee/server/continuous_backups.h"
#include "oee/server/http_server.h"
#include "oee/server/listener_handover.h"
#include "oee/server/alert_email.h"
#include "oee/server/alert_monitor.h"
#include "oee/server/alert_webhooks.h"
#include "oee/server/live_state_refresh.h"
#include "oee/server/periodic_task.h"
#include "oee/server/log.h"
#include "oee/server/mqtt_ingest.h"
#include "oee/server/mqtt_ingest_topics.h"
#include "oee/server/sparkplug_host.h"
#include "oee/server/plant_service.h"
#include "oee/server/retention_runs.h"
#include "oee/server/scaled_clock.h"
#include "oee/server/simulator_feed.h"
#include "oee/storage/open_store.h"
#include "oee/storage/stop_comment_import.h"

namespace oee::cli {

namespace {

bool split_listen(const std::string& listen, server::HttpServerOptions& out) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  out.address = listen.substr(0, colon);
  if (out.address.size() > 2 && out.address.front() == '[' && out.address.back() == ']')
    out.address = out.address.substr(1, out.address.size() - 2);
  try {
    const int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) return false;
    out.port = static_cast<std::uint16_t>(port);
  } catch (const std::exception&) {
    return false;
  }
  return !out.address.empty();
}

// The demo's simulated history starts once per data directory, so a restarted demo continues the
// same plant (and regenerates what it had, which the store deduplicates).
TimeMs demo_start(const std::filesystem::path& data_dir, TimeMs now, int history_hours) {
  const auto file = data_dir / "demo-start";
  std::ifstream in(file);
  long long stored = 0;
  if (in >> stored && stored > 0) return stored;
  const TimeMs start = floor_to(now - history_hours * kMsPerHour, kMsPerMinute);
  std::ofstream(file) << start << "\n";
  return start;
}

// This server's incarnation (PlantService::instance_id), made on its first start and kept in
// DATA_DIR/server-id: the reasons it writes keep their numbering across restarts, and never share
// it with another server's.
std::string server_instance_id(const std::filesystem::path& data_dir) {
  const auto file = data_dir / "server-id";
  std::string id;
  if (std::ifstream in(file); in && (in >> id) && !id.empty()) return id;
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof bytes);
  char hex[2 * sizeof bytes + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  id = hex;
  const auto tmp = data_dir / "server-id.tmp";
  std::ofstream(tmp) << id << "\n";
  std::filesystem::rename(tmp, file);
  return id;
}

// The demo's users (admin, operator, viewer) with random passwords made on its first start, kept in
// DATA_DIR/demo-logins.txt (mode 0600) and printed, so a new user can log in at once.
std::string demo_logins(auth::Accounts& accounts, const std::filesystem::path& data_dir) {
  const auto file = data_dir / "demo-logins.txt";
  std::string text;
  if (std::ifstream in(file); in) {
    std::getline(in, text, '\0');
    return text;
  }
  for (const auto& [name, role] : {std::pair{"admin", auth::Role::admin}, std::pair{"operator", auth::Role::operator_},
                                   std::pair{"viewer", auth::Role::viewer}}) {
    unsigned char secret[9];
    randombytes_buf(secret, sizeof secret);
    char b64[sodium_base64_ENCODED_LEN(sizeof secret, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(b64, sizeof b64, secret, sizeof secret, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (!accounts.user(name)) accounts.create_user(name, b64, role);
    else accounts.update_user(name, role, b64);
    text += std::string("  ") + name + " / " + b64 + "\n";
  }
  {
    std::ofstream out(file);
    out << text;
  }
  ::chmod(file.c_str(), 0600);
  return text;
}

// Everything `oee serve` is told on its command line.
struct ServeOptions {
  bool demo = false;
  std::string plant_path, listen = "127.0.0.1:8080", data_dir = "oee-data", storage_url;
  std::uint64_t seed = 1;
  double speed = 1.0;
  int history_hours = 24, retention_days = 0, retention_interval_s = 3600, threads = 2, live_refresh_ms = 1000;
  int alert_interval_ms = 5000;
  std::string tls_cert, tls_key, log_format = "text";
  int tls_reload_check_s = 5;
  server::MqttIngestConfig mqtt;
  std::string sparkplug_host_id;  // --sparkplug-host-id: a Sparkplug B host application on --mqtt
  int sparkplug_reorder_timeout_ms = 2000;
  server::HttpServerOptions http;  // from --listen, --threads and --tls-*, once checked
  SecurityOptions security;
  api::TrustedProxies trusted_proxies;  // from --trusted-proxy, once checked
  auth::AccountsOptions accounts;       // from the login and session flags, once checked
  server::ContinuousBackupOptions backup;  // --backup-*
  const char* admin_token = nullptr;  // OEE_ADMIN_TOKEN
  std::string executable;  // this program's path, which an upgrade runs again (SIGUSR2)
  EncryptionKeyOption encryption;     // --encryption-key-file: the embedded store and auth.sqlite
};

void add_server_options(CLI::App& app, ServeOptions& o) {
  app.add_flag("--demo", o.demo, "feed the simulated demo plant (examples/demo-plant.yaml unless --plant) in real time");
  app.add_option("--plant", o.plant_path, "plant file (YAML)");
  app.add_option("--listen", o.listen, "address:port of the HTTP API")->capture_default_str();
  app.add_option("--data-dir", o.data_dir, "directory of the embedded store and state")->capture_default_str();
  app.add_option("--storage", o.storage_url, "sqlite:PATH or postgresql://... (default: DATA_DIR/oee.sqlite)");
  app.add_option("--retention-days", o.retention_days, "delete events, rollups and dead letters older than this, at start and "
                 "then every --retention-interval-s (0 keeps everything)")->check(CLI::NonNegativeNumber);
  app.add_option("--retention-interval-s", o.retention_interval_s, "seconds between retention runs after the one at start "
                 "(with --retention-days above 0)")->check(CLI::Range(1, 3600))->capture_default_str()->needs("--retention-days");
  app.add_option("--threads", o.threads, "HTTP I/O threads")->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("--tls-cert", o.tls_cert, "serve HTTPS with this certificate chain (PEM)")->check(CLI::ExistingFile);
  app.add_option("--tls-key", o.tls_key, "private key of --tls-cert (PEM)")->check(CLI::ExistingFile);
  app.add_option("--tls-reload-check-s", o.tls_reload_check_s,
                 "seconds between checks of --tls-cert/--tls-key for a change, which reloads them (0: only on SIGHUP)")
      ->check(CLI::Range(0, 3600))->capture_default_str()->needs("--tls-cert");
  app.add_option("--log-format", o.log_format, "text or json (one object per line)")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  app.add_option("--live-refresh-ms", o.live_refresh_ms, "how often the live state of machines other servers ingest into the "
                 "shared database is read from it")->check(CLI::Range(100, 3600000))->capture_default_str();
  app.add_option("--alert-interval-ms", o.alert_interval_ms, "how often the plant file's alert rules are evaluated")
      ->check(CLI::Range(100, 3600000))->capture_default_str();
  add_encryption_key_option(app, o.encryption, "the embedded store and auth.sqlite");
}

void add_mqtt_options(CLI::App& app, server::MqttIngestConfig& mqtt) {
  auto* g = app.add_option_group("mqtt ingest");
  CLI::Option* brokers = g->add_option("--mqtt", mqtt.brokers, "broker URL to ingest oee/v1/# from (repeat for failover)");
  g->add_option("--mqtt-client-id", mqtt.client_id, "stable client id (persistent session; a clean one under a shared "
                "subscription)")->capture_default_str();
  g->add_option("--mqtt-topic", mqtt.topics, "topic filter to ingest (repeat; default oee/v1/#): this server's share of "
                "the machines (oee/v1/<site>/<area>/#) or a shared subscription ($share/<group>/oee/v1/#)");
  g->add_option("--mqtt-username", mqtt.username, "MQTT user name");
  g->add_option("--mqtt-password-file", mqtt.password_file, "file holding the MQTT password");
  g->add_option("--mqtt-reconnect-min-ms", mqtt.reconnect_min_ms, "first reconnect wait")->capture_default_str();
  g->add_option("--mqtt-reconnect-max-ms", mqtt.reconnect_max_ms, "longest reconnect wait")->capture_default_str();
  g->add_option("--mqtt-silence-reconnect-s", mqtt.silence_reconnect_s,
                "reconnect when no message came for this long (0 = never; e.g. 3 x the edges' heartbeat_s on a "
                "clustered broker, docs/mqtt.md)")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  g->add_option("--mqtt-keepalive-s", mqtt.keepalive_s,
                "MQTT keepalive: the broker drops this server 1.5 x it after its host froze or lost power (under a "
                "shared subscription the others take its share then; docs/operations.md)")
      ->check(CLI::Range(2, 3600))
      ->capture_default_str();
  g->add_option("--mqtt-ca-file", mqtt.ca_file, "CA certificates (PEM) of mqtts:// brokers (default: the system's)");
  g->add_option("--mqtt-cert-file", mqtt.cert_file, "client certificate (PEM) for mqtts:// brokers");
  g->add_option("--mqtt-key-file", mqtt.key_file, "private key (PEM) of --mqtt-cert-file");
  g->add_flag("--mqtt-insecure", mqtt.insecure, "do not check the broker's host name against its certificate (tests only)");
  // Each of the others acts on the --mqtt connections only: without them it is refused, not ignored.
  for (CLI::Option* option : g->get_options())
    if (option != brokers) option->needs(brokers);
}

// The server as a Sparkplug B host application on the --mqtt brokers (docs/sparkplug.md).
void add_sparkplug_options(CLI::App& app, ServeOptions& o) {
  auto* g = app.add_option_group("sparkplug");
  g->add_option("--sparkplug-host-id", o.sparkplug_host_id, "take Sparkplug B (spBv1.0/#) from the --mqtt brokers as the "
                "host application with this id (STATE topic spBv1.0/STATE/<id>); machines map metrics with `sparkplug:`");
  g->add_option("--sparkplug-reorder-timeout-ms", o.sparkplug_reorder_timeout_ms, "how long a seq gap of an edge node may "
                "stay open before the host asks it for a Rebirth")->check(CLI::Range(10, 600000))->capture_default_str()
      ->needs("--sparkplug-host-id");
}

std::string check_sparkplug_options(const ServeOptions& o) {
  if (o.sparkplug_host_id.empty()) return {};
  if (o.mqtt.brokers.empty()) return "--sparkplug-host-id needs --mqtt (the brokers the edge nodes publish to)";
  return server::check_sparkplug_host_id(o.sparkplug_host_id);
}

// Machines mapped to Sparkplug get nothing from a server that is no host: said at the start, not
// refused: a server sharing its store with the host (several servers, one PostgreSQL) serves them.
void warn_of_sparkplug_without_host(const server::PlantService& service) {
  const auto machines = service.plant().machines();
  const auto mapped = std::count_if(machines.begin(), machines.end(), [](const MachineSpec* m) { return m->sparkplug.has_value(); });
  if (mapped > 0)
    server::log_line("warn", "machines map Sparkplug metrics, but without --sparkplug-host-id this server takes no Sparkplug: "
                     "their events come only through a store shared with a server that does",
                     {{"machines", std::to_string(mapped)}});
}

std::unique_ptr<server::SparkplugHost> start_sparkplug_host(server::PlantService& service, const ServeOptions& o) {
  if (o.sparkplug_host_id.empty()) {
    warn_of_sparkplug_without_host(service);
    return nullptr;
  }
  server::SparkplugHostConfig config;
  config.host_id = o.sparkplug_host_id;
  config.reorder_timeout_ms = o.sparkplug_reorder_timeout_ms;
  config.mqtt = server::mqtt_options_of(o.mqtt);
  config.mqtt.client_id = o.mqtt.client_id + "-sparkplug-" + o.sparkplug_host_id;  // its own session beside the ingest's
  auto host = std::make_unique<server::SparkplugHost>(service, std::move(config));
  host->start();
  return host;
}

// Connection caps and read deadlines (docs/security.md, "HTTP limits").
void add_http_limit_options(CLI::App& app, server::HttpServerOptions& http) {
  auto* g = app.add_option_group("http limits");
  g->add_option("--max-connections", http.connections_max, "open HTTP and WebSocket connections at most; more get 503")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))->capture_default_str();
  g->add_option("--max-connections-per-address", http.connections_per_address_max,
                "open connections at most from one client address (IPv6: one /64); more get 503")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))->capture_default_str();
  g->add_option("--header-timeout-s", http.header_timeout_s, "seconds a request may take to send all its headers")
      ->check(CLI::Range(1, 3600))->capture_default_str();
  g->add_option("--body-timeout-s", http.body_timeout_s, "seconds a request may take to send its body after its headers")
      ->check(CLI::Range(1, 3600))->capture_default_str();
  g->add_option("--idle-timeout-s", http.idle_timeout_s, "seconds a keep-alive connection may wait for its next request")
      ->check(CLI::Range(1, 3600))->capture_default_str();
}

// Each takes effect with --demo only, so without it each is refused rather than ignored.
void add_demo_options(CLI::App& app, ServeOptions& o) {
  auto* g = app.add_option_group("demo");
  CLI::Option* demo = app.get_option("--demo");
  g->add_option("--seed", o.seed, "simulator seed (with --demo)")->capture_default_str()->needs(demo);
  g->add_option("--speed", o.speed, "simulated seconds per wall-clock second; the server's clock runs as fast (with --demo)")
      ->check(CLI::Range(0.01, 10000.0))->capture_default_str()->needs(demo);
  g->add_option("--history-hours", o.history_hours, "hours of simulated history before now on first start (with --demo)")
      ->check(CLI::Range(0, 24 * 90))->capture_default_str()->needs(demo);
}

// Continuous backups of the data directory (docs/operations.md, "Backup and restore").
void add_backup_options(CLI::App& app, ServeOptions& o) {
  auto* g = app.add_option_group("backup");
  g->add_option("--backup-dir", o.backup.backup_dir, "back up the data directory (SQLite) into DIR/oee-backup-<time> every "
                "--backup-interval-s while serving");
  g->add_option("--backup-interval-s", o.backup.interval_s, "seconds between backups (with a backup's duration: the RPO)")
      ->check(CLI::Range(1, 7 * 24 * 3600))->capture_default_str()->needs("--backup-dir");
  g->add_option("--backup-keep", o.backup.keep, "newest backups kept in --backup-dir")->check(CLI::Range(1, 10000))->capture_default_str()
      ->needs("--backup-dir");
}

std::string check_backup_options(ServeOptions& o) {
  o.backup.data_dir = o.data_dir;
  if (o.backup.backup_dir.empty() || o.storage_url.empty()) return {};
  return "--backup-dir backs up the SQLite files of --data-dir; with --storage, back up that database itself (docs/operations.md)";
}

// What is wrong with the options (empty when nothing); fills `o.http` and `o.admin_token`.
std::string check_serve_options(ServeOptions& o) {
  o.http.threads = o.threads;
  o.http.tls_certificate_file = o.tls_cert;
  o.http.tls_private_key_file = o.tls_key;
  o.http.tls_reload_check_ms = o.tls_reload_check_s * 1000;
  if (o.tls_cert.empty() != o.tls_key.empty()) return "give both --tls-cert and --tls-key";
  o.admin_token = std::getenv("OEE_ADMIN_TOKEN");
  if (o.admin_token && std::string_view(o.admin_token).size() < 16) return "OEE_ADMIN_TOKEN must be at least 16 characters";
  if (!split_listen(o.listen, o.http)) return "--listen: '" + o.listen + "' is not ADDRESS:PORT";
  if (std::string why = check_security_options(o.security, o.trusted_proxies, o.accounts); !why.empty()) return why;
  if (std::string why = server::check_mqtt_ingest_config(o.mqtt); !why.empty()) return why;
  if (std::string why = check_sparkplug_options(o); !why.empty()) return why;
  if (!o.demo && o.plant_path.empty()) return "give --plant FILE (or --demo for the simulated demo plant)";
  if (std::string why = check_backup_options(o); !why.empty()) return why;
  if (std::string why = o.encryption.load(); !why.empty()) return why;
  o.accounts.encryption_key = o.encryption.subkey(fileio::KeyUse::auth);
  o.backup.keys = data_dir_keys(o.encryption);
  return {};
}

// SIGINT and SIGTERM (stop), SIGHUP (reload the TLS files) and SIGUSR2 (upgrade) are taken by
// sigwait (wait_for_stop_signal): block them before any thread starts. The mask survives an
// upgrade's exec, so a signal sent while the new program starts waits for it instead of killing it.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// Key rotation without a restart: each SIGHUP loads the HTTPS certificate and key again (the
// server logs and counts a refused one and keeps serving the previous pair), and the MQTT ingest's
// TLS files (a clean reconnect with them; refused files leave the connection as it is).
int wait_for_stop_signal(const sigset_t& signals, server::HttpServer& http_server, server::MqttIngest* mqtt_ingest) {
  int received = 0;
  while (sigwait(&signals, &received) == 0 && received == SIGHUP) {
    server::log_line("info", "SIGHUP: reloading the TLS certificates and keys");
    http_server.reload_tls();
    if (!mqtt_ingest) continue;
    if (const std::string error = mqtt_ingest->reload_tls(); !error.empty())
      server::log_line("error", "MQTT TLS reload failed: still connected with the files loaded before", {{"error", error}});
  }
  return received;
}

// SIGINT or SIGTERM, or SIGUSR2 once the program on disk runs (else the upgrade is refused and
// this process goes on serving).
int wait_for_stop_or_upgrade(const sigset_t& signals, const std::string& executable, server::HttpServer& http_server,
                             server::MqttIngest* mqtt_ingest) {
  while (true) {
    const int received = wait_for_stop_signal(signals, http_server, mqtt_ingest);
    if (received != SIGUSR2) return received;
    const std::string why = server::check_successor(executable);
    if (why.empty()) return received;
    server::log_line("error", "upgrade refused: the program to run does not start; still serving", {{"reason", why}});
  }
}

const char* signal_name(int signal) {
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "SIGUSR2";
}

// Machines whose events this server does not (wholly) take get their live state from the store.
std::vector<const MachineSpec*> machines_refreshed_from_store(server::PlantService& service, const ServeOptions& o) {
  if (!o.mqtt.brokers.empty()) return server::machines_ingested_elsewhere(service.plant(), o.mqtt.topics);
  const bool shared_store = o.storage_url.starts_with("postgres");
  if (shared_store && !o.demo) return service.plant().machines();
  return {};
}

std::unique_ptr<server::SimulatorFeed> start_demo_feed(server::PlantService& service, const ServeOptions& o) {
  if (!o.demo) return nullptr;
  server::SimulatorFeedOptions feed_options;
  feed_options.seed = o.seed;
  feed_options.start = demo_start(o.data_dir, service.now(), o.history_hours);
  auto feed = std::make_unique<server::SimulatorFeed>(service, feed_options);
  feed->start();
  return feed;
}

// The lines a user reads first: where the server listens and how to ask it something.
void print_welcome(server::PlantService& service, const server::HttpServer& http_server, auth::Accounts& accounts,
                   const ServeOptions& o) {
  const std::string scheme = http_server.tls() ? "https" : "http";
  const std::string host = http_server.address().find(':') != std::string::npos ? "[" + http_server.address() + "]" : http_server.address();
  const std::string base = scheme + "://" + host + ":" + std::to_string(http_server.port());
  std::printf("oee serve: %zu machines, store %s\n", service.plant().machines().size(),
              service.with_store([](storage::EventStore& s) { return s.describe(); }).c_str());
  std::printf("oee serve: listening on %s\n", base.c_str());
  std::printf("  dashboard:              %s/\n", base.c_str());
  std::printf("  plant and live states:  curl -H \"Authorization: Bearer $OEE_ADMIN_TOKEN\" %s/api/v1/plant\n", base.c_str());
  std::printf("  KPIs of the shift:      curl -H \"Authorization: Bearer $OEE_ADMIN_TOKEN\" '%s/api/v1/kpis?by=hour'\n", base.c_str());
  if (!o.admin_token) std::printf("  (set OEE_ADMIN_TOKEN in the environment to get an admin API token)\n");
  if (o.demo) std::printf("  demo logins (also in %s):\n%s", (std::filesystem::path(o.data_dir) / "demo-logins.txt").c_str(), demo_logins(accounts, o.data_dir).c_str());
  std::fflush(stdout);
  server::log_line("info", "started", {{"url", base}, {"machines", std::to_string(service.plant().machines().size())}});
}

// A rule this server cannot evaluate is said at the start, not left silent: edges report their
// queue over MQTT only. Not refused: a server without --mqtt that shares its store (several
// servers, one PostgreSQL) lists the alerts a server with --mqtt raises from the same plant file.
void warn_of_rules_not_evaluated(const plant::LoadedPlant& plant, const ServeOptions& o) {
  if (!o.mqtt.brokers.empty()) return;
  for (const AlertRule& r : plant.model.alert_rules)
    if (r.kind == AlertKind::edge_queue_growing)
      server::log_line("warn", "an edge_queue_growing alert rule is not evaluated by this server: without --mqtt it gets "
                       "no edge status reports (a server with --mqtt sharing its store raises its alerts)", {{"rule", r.name}});
}

// Opens the store, starts ingest, the HTTP API and the periodic jobs, and runs until SIGINT or
// SIGTERM, or SIGUSR2: then `handed_over` is the listening socket, still open, for the program
// to run again (an upgrade). Returns the exit code; throws what opening fails with.
int serve(ServeOptions& o, const sigset_t& stop_signals, int& handed_over) {
  plant::LoadedPlant plant = o.plant_path.empty() ? plant::load_plant_yaml(kDemoPlantYaml, "demo-plant.yaml")
                                                  : plant::load_plant_file(o.plant_path);
  warn_of_rules_not_evaluated(plant, o);
  std::filesystem::create_directories(o.data_dir);
  try {
    storage::check_storage_url(o.storage_url);
  } catch (const storage::StorageUrlError& e) {
    std::fprintf(stderr, "oee serve: --storage: %s\n", e.what());
    return 2;
  }
  storage::StoreOptions store_options;
  store_options.retention_days = o.retention_days;
  store_options.encryption_key = o.encryption.subkey(fileio::KeyUse::store);
  // The demo's clock is the simulated plant's: `--speed` times as fast as the wall clock.
  const double clock_rate = o.demo ? o.speed : 1.0;
  server::PlantService service(
      std::move(plant),
      [&](const PlantModel& model, const ShiftCalendar& calendar) {
        return storage::open_store(o.storage_url, o.data_dir, model, calendar, store_options);
      },
      server::scaled_clock(clock_rate), clock_rate);
  service.set_instance_id(server_instance_id(o.data_dir));
  // The first retention run (possibly long after a pause) happens before ingest starts.
  server::RetentionRuns retention(service, o.retention_days, o.retention_interval_s * kMsPerSecond);
  retention.run_once();

  const std::string auth_db = (std::filesystem::path(o.data_dir) / "auth.sqlite").string();
  const auto* auth_key = o.accounts.encryption_key ? &*o.accounts.encryption_key : nullptr;
  auth::Accounts accounts(auth_db, o.accounts, server::system_clock_ms);
  auth::AuditChain audit(auth_db, auth_key);
  // Stop comments moved from auth.sqlite (where servers kept them before the stores did) into the store, once.
  if (const std::int64_t moved = service.with_store([&](storage::EventStore& s) { return storage::import_stop_comments(auth_db, s, auth_key); }))
    server::log_line("info", "stop comments moved into the store", {{"count", std::to_string(moved)}, {"from", auth_db}});
  api::StopComments comments(service);
  if (o.admin_token)
    accounts.set_environment_admin_token(o.admin_token);
  else
    accounts.remove_environment_admin_token();
  api::Access access(accounts, audit);
  api::RateLimits rate_limits(o.security.rates);
  access.set_limits(&o.trusted_proxies, &rate_limits);
  std::unique_ptr<server::MqttIngest> mqtt_ingest;

  server::Router router;
  api::add_api_routes(router, service, access, comments, [&mqtt_ingest]() -> std::optional<bool> {
    if (!mqtt_ingest) return std::nullopt;
    return mqtt_ingest->connected();
  });
  api::add_dashboard_routes(router);
  api::LiveFeed live(service);
  live.add_route(router, access);
  // Alerts: evaluated every --alert-interval-ms; each change to the WebSocket, the webhooks and the mail.
  const plant::AlertNotifications& notify = service.alert_notifications();
  server::AlertWebhooks webhooks(notify.webhooks, {});
  server::AlertEmail email(notify.emails);
  server::AlertMonitor alerts(service, [&mqtt_ingest] {
    return mqtt_ingest ? mqtt_ingest->edge_statuses() : std::map<std::string, std::string>{};
  });
  alerts.add_listener([&](const AlertChange& c) {
    live.publish_alert(c);
    webhooks.send(c);
    email.send(c);
  });
  api::add_alert_routes(router, alerts, access);
  server::PeriodicTask alert_ticks(o.alert_interval_ms, [&alerts] { alerts.evaluate(); }, [](const std::exception& e) {
    server::log_line("warn", "alert evaluation failed", {{"error", e.what()}});
  });
  o.http.metrics = &service.metrics();
  // Ingest starts after the live feed listens, and before requests can ask about it.
  if (!o.mqtt.brokers.empty()) mqtt_ingest = server::start_mqtt_ingest(service, o.mqtt);
  std::unique_ptr<server::SparkplugHost> sparkplug_host = start_sparkplug_host(service, o);
  server::LiveStateRefresh live_refresh(service, machines_refreshed_from_store(service, o), o.live_refresh_ms);
  live_refresh.start();
  retention.start();
  server::ContinuousBackups backups(o.backup, service.metrics());
  backups.start();
  server::HttpServer http_server(router, o.http);
  http_server.start();
  live.start();
  webhooks.start();
  email.start();
  // Alerts of rules or machines no longer in the plant file resolve now; when the store fails, each
  // evaluation tries again (AlertMonitor::evaluate), so the evaluations run even without rules.
  bool unwatched_resolved = true;
  try {
    alerts.resolve_unwatched();
  } catch (const std::exception& e) {
    unwatched_resolved = false;
    server::log_line("warn", "resolving the alerts of removed rules and nodes failed; retried at each evaluation",
                     {{"error", e.what()}});
  }
  if (!service.plant().alert_rules.empty() || !unwatched_resolved) alert_ticks.start();
  std::unique_ptr<server::SimulatorFeed> feed = start_demo_feed(service, o);
  print_welcome(service, http_server, accounts, o);

  const int received = wait_for_stop_or_upgrade(stop_signals, o.executable, http_server, mqtt_ingest.get());
  // An upgrade first stops accepting: new connections wait in the socket's backlog for the new program.
  if (received == SIGUSR2) handed_over = http_server.hand_over_listener();
  server::log_line("info", received == SIGUSR2 ? "upgrading: listening socket kept for the new program, draining connections"
                                               : "stopping: draining connections", {{"signal", signal_name(received)}});
  // Stop taking events first, then let requests in progress finish, then close WebSockets.
  if (feed) feed->stop();
  if (mqtt_ingest) mqtt_ingest->stop();
  if (sparkplug_host) sparkplug_host->stop();
  live_refresh.stop();
  alert_ticks.stop();
  webhooks.stop();
  email.stop();
  retention.stop();
  backups.stop();
  live.stop();
  http_server.stop(5000);
  server::log_line("info", "stopped");
  return 0;
}

// The upgrade's second half: everything closed (store, broker session, connections), this process
// becomes the program now on disk, with the same arguments and the listening socket.
int run_again(const std::string& executable, int argc, char** argv, int listen_fd) {
  std::vector<std::string> args{executable};
  args.insert(args.end(), argv, argv + argc);  // argv[0] is "serve"
  std::fflush(stdout);
  std::fflush(stderr);
  const std::string why = server::exec_with_listener(args, listen_fd);
  std::fprintf(stderr, "oee serve: upgrade failed: %s\n", why.c_str());
  return 1;
}

}  // namespace

int run_serve_command(int argc, char** argv) {
  CLI::App app{"Run the server: ingest, OEE engine, storage and the HTTP API.", "oee serve"};
  ServeOptions options;
  add_server_options(app, options);
  add_mqtt_options(app, options.mqtt);
  add_sparkplug_options(app, options);
  add_http_limit_options(app, options.http);
  add_security_options(app, options.security);
  add_demo_options(app, options);
  add_backup_options(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (options.retention_days == 0 && app.count("--retention-interval-s") > 0) {
    std::fprintf(stderr, "oee serve: --retention-interval-s has no effect with --retention-days 0 (which keeps everything)\n");
    return 2;
  }
  const sigset_t stop_signals = block_stop_signals();
  if (const std::string why = check_serve_options(options); !why.empty()) {
    std::fprintf(stderr, "oee serve: %s\n", why.c_str());
    return 2;
  }
  server::set_log_format(options.log_format == "json" ? server::LogFormat::json : server::LogFormat::text);
  try {
    options.executable = server::own_executable();
    options.http.listen_fd = server::take_inherited_listener();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "oee serve: %s\n", e.what());
    return 2;
  }
  try {
    int handed_over = -1;
    const int code = serve(options, stop_signals, handed_over);
    if (handed_over < 0) return code;
    return run_again(options.executable, argc, argv, handed_over);
  } catch (const auth::AccountsError& e) {
    std::fprintf(stderr, "oee serve: %s\n", e.what());
    return 2;
  } catch (const plant::PlantFileError& e) {
    std::fprintf(stderr, "oee serve: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "oee serve: %s\n", e.what());
    return 1;
  }
}

}  // namespace oee::cli

OEE_COMMAND("serve", run_serve_command, "run the server: ingest, OEE engine, storage and the HTTP API (--demo)")
