// `oee serve`: the server: ingest into the engine and storage, and the HTTP API. `--demo` feeds it
// the simulated demo plant in real time.
#include <CLI/CLI.hpp>
#include <signal.h>

#include <sodium.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "commands.h"
#include "demo_plant.h"
#include "oee/api/live_feed.h"
#include "oee/api/routes.h"
#include "oee/server/http_server.h"
#include "oee/server/live_state_refresh.h"
#include "oee/server/log.h"
#include "oee/server/mqtt_ingest.h"
#include "oee/server/mqtt_ingest_topics.h"
#include "oee/server/plant_service.h"
#include "oee/server/retention_runs.h"
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

}  // namespace

int run_serve_command(int argc, char** argv) {
  CLI::App app{"Run the server: ingest, OEE engine, storage and the HTTP API.", "oee serve"};
  bool demo = false;
  std::string plant_path, listen = "127.0.0.1:8080", data_dir = "oee-data", storage_url;
  std::uint64_t seed = 1;
  double speed = 1.0;
  int history_hours = 24, retention_days = 0, threads = 2;
  app.add_flag("--demo", demo, "feed the simulated demo plant (examples/demo-plant.yaml unless --plant) in real time");
  app.add_option("--plant", plant_path, "plant file (YAML)");
  app.add_option("--listen", listen, "address:port of the HTTP API")->capture_default_str();
  app.add_option("--data-dir", data_dir, "directory of the embedded store and state")->capture_default_str();
  app.add_option("--storage", storage_url, "sqlite:PATH or postgresql://... (default: DATA_DIR/oee.sqlite)");
  app.add_option("--retention-days", retention_days, "delete events, rollups and dead letters older than this, at start and "
                 "then every --retention-interval-s (0 keeps everything)")->check(CLI::NonNegativeNumber);
  int retention_interval_s = 3600;
  app.add_option("--retention-interval-s", retention_interval_s, "seconds between retention runs after the one at start")
      ->check(CLI::Range(1, 3600))->capture_default_str();
  app.add_option("--threads", threads, "HTTP I/O threads")->check(CLI::Range(1, 64))->capture_default_str();
  std::string tls_cert, tls_key, log_format = "text";
  app.add_option("--tls-cert", tls_cert, "serve HTTPS with this certificate chain (PEM)")->check(CLI::ExistingFile);
  app.add_option("--tls-key", tls_key, "private key of --tls-cert (PEM)")->check(CLI::ExistingFile);
  app.add_option("--log-format", log_format, "text or json (one object per line)")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  server::MqttIngestConfig mqtt;
  auto* mqtt_opts = app.add_option_group("mqtt ingest");
  mqtt_opts->add_option("--mqtt", mqtt.brokers, "broker URL to ingest oee/v1/# from (repeat for failover)");
  mqtt_opts->add_option("--mqtt-client-id", mqtt.client_id, "stable client id (persistent session)")->capture_default_str();
  mqtt_opts->add_option("--mqtt-topic", mqtt.topics, "topic filter to ingest (repeat; default oee/v1/#): this server's share of "
                        "the machines (oee/v1/<site>/<area>/#) or a shared subscription ($share/<group>/oee/v1/#)");
  int live_refresh_ms = 1000;
  app.add_option("--live-refresh-ms", live_refresh_ms, "how often the live state of machines other servers ingest into the "
                 "shared database is read from it")->check(CLI::Range(100, 3600000))->capture_default_str();
  mqtt_opts->add_option("--mqtt-username", mqtt.username, "MQTT user name");
  mqtt_opts->add_option("--mqtt-password-file", mqtt.password_file, "file holding the MQTT password");
  mqtt_opts->add_option("--mqtt-reconnect-min-ms", mqtt.reconnect_min_ms, "first reconnect wait")->capture_default_str();
  mqtt_opts->add_option("--mqtt-reconnect-max-ms", mqtt.reconnect_max_ms, "longest reconnect wait")->capture_default_str();
  mqtt_opts->add_option("--mqtt-ca-file", mqtt.ca_file, "CA certificates (PEM) of mqtts:// brokers (default: the system's)");
  mqtt_opts->add_option("--mqtt-cert-file", mqtt.cert_file, "client certificate (PEM) for mqtts:// brokers");
  mqtt_opts->add_option("--mqtt-key-file", mqtt.key_file, "private key (PEM) of --mqtt-cert-file");
  mqtt_opts->add_flag("--mqtt-insecure", mqtt.insecure, "do not check the broker's host name against its certificate (tests only)");
  auto* demo_opts = app.add_option_group("demo");
  demo_opts->add_option("--seed", seed, "simulator seed")->capture_default_str();
  demo_opts->add_option("--speed", speed, "simulated seconds per wall-clock second")->check(CLI::Range(0.01, 10000.0))->capture_default_str();
  demo_opts->add_option("--history-hours", history_hours, "hours of simulated history before now on first start")
      ->check(CLI::Range(0, 24 * 90))->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  // SIGINT and SIGTERM are taken by sigwait below: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  server::HttpServerOptions http;
  http.threads = threads;
  http.tls_certificate_file = tls_cert;
  http.tls_private_key_file = tls_key;
  if (tls_cert.empty() != tls_key.empty()) {
    std::fprintf(stderr, "oee serve: give both --tls-cert and --tls-key\n");
    return 2;
  }
  server::set_log_format(log_format == "json" ? server::LogFormat::json : server::LogFormat::text);
  const char* admin_token = std::getenv("OEE_ADMIN_TOKEN");
  if (admin_token && std::string_view(admin_token).size() < 16) {
    std::fprintf(stderr, "oee serve: OEE_ADMIN_TOKEN must be at least 16 characters\n");
    return 2;
  }
  if (!split_listen(listen, http)) {
    std::fprintf(stderr, "oee serve: --listen: '%s' is not ADDRESS:PORT\n", listen.c_str());
    return 2;
  }
  if (const std::string why = server::check_mqtt_ingest_config(mqtt); !why.empty()) {
    std::fprintf(stderr, "oee serve: %s\n", why.c_str());
    return 2;
  }
  if (!demo && plant_path.empty()) {
    std::fprintf(stderr, "oee serve: give --plant FILE (or --demo for the simulated demo plant)\n");
    return 2;
  }
  try {
    plant::LoadedPlant plant = plant_path.empty() ? plant::load_plant_yaml(kDemoPlantYaml, "demo-plant.yaml")
                                                  : plant::load_plant_file(plant_path);
    std::filesystem::create_directories(data_dir);
    try {
      storage::check_storage_url(storage_url);
    } catch (const storage::StorageUrlError& e) {
      std::fprintf(stderr, "oee serve: --storage: %s\n", e.what());
      return 2;
    }
    storage::StoreOptions store_options;
    store_options.retention_days = retention_days;
    server::PlantService service(std::move(plant), [&](const PlantModel& model, const ShiftCalendar& calendar) {
      return storage::open_store(storage_url, data_dir, model, calendar, store_options);
    });

    service.set_instance_id(server_instance_id(data_dir));
    // The first retention run (possibly long after a pause) happens before ingest starts.
    server::RetentionRuns retention(service, retention_days, retention_interval_s * kMsPerSecond);
    retention.run_once();

    auth::Accounts accounts((std::filesystem::path(data_dir) / "auth.sqlite").string(), {}, server::system_clock_ms);
    auth::AuditChain audit((std::filesystem::path(data_dir) / "auth.sqlite").string());
    // Stop comments moved from auth.sqlite (where servers before schema 8 kept them) into the store, once.
    const std::string auth_file = (std::filesystem::path(data_dir) / "auth.sqlite").string();
    if (const std::int64_t moved = service.with_store([&](storage::EventStore& s) { return storage::import_stop_comments(auth_file, s); }))
      server::log_line("info", "stop comments moved into the store", {{"count", std::to_string(moved)}, {"from", auth_file}});
    api::StopComments comments(service);
    if (admin_token) accounts.set_environment_admin_token(admin_token);
    api::Access access(accounts, audit);
    std::unique_ptr<server::MqttIngest> mqtt_ingest;

    server::Router router;
    api::add_api_routes(router, service, access, comments, [&mqtt_ingest]() -> std::optional<bool> {
      if (!mqtt_ingest) return std::nullopt;
      return mqtt_ingest->connected();
    });
    api::add_dashboard_routes(router);
    api::LiveFeed live(service);
    live.add_route(router, access);
    http.metrics = &service.metrics();
    // Ingest starts after the live feed listens, and before requests can ask about it.
    if (!mqtt.brokers.empty()) mqtt_ingest = server::start_mqtt_ingest(service, mqtt);
    // Machines whose events this server does not (wholly) take get their live state from the store.
    const bool shared_store = storage_url.starts_with("postgres");
    std::vector<const MachineSpec*> refreshed;
    if (!mqtt.brokers.empty()) refreshed = server::machines_ingested_elsewhere(service.plant(), mqtt.topics);
    else if (shared_store && !demo) refreshed = service.plant().machines();
    server::LiveStateRefresh live_refresh(service, std::move(refreshed), live_refresh_ms);
    live_refresh.start();
    retention.start();
    server::HttpServer http_server(router, http);
    http_server.start();
    live.start();

    std::unique_ptr<server::SimulatorFeed> feed;
    if (demo) {
      server::SimulatorFeedOptions o;
      o.seed = seed;
      o.speed = speed;
      o.start = demo_start(data_dir, service.now(), history_hours);
      feed = std::make_unique<server::SimulatorFeed>(service, o);
      feed->start();
    }
    const std::string scheme = http_server.tls() ? "https" : "http";
    const std::string base = scheme + "://" + http.address + ":" + std::to_string(http_server.port());
    std::printf("oee serve: %zu machines, store %s\n", service.plant().machines().size(),
                service.with_store([](storage::EventStore& s) { return s.describe(); }).c_str());
    std::printf("oee serve: listening on %s\n", base.c_str());
    std::printf("  dashboard:              %s/\n", base.c_str());
    std::printf("  plant and live states:  curl -H \"Authorization: Bearer $OEE_ADMIN_TOKEN\" %s/api/v1/plant\n", base.c_str());
    std::printf("  KPIs of the shift:      curl -H \"Authorization: Bearer $OEE_ADMIN_TOKEN\" '%s/api/v1/kpis?by=hour'\n", base.c_str());
    if (!admin_token) std::printf("  (set OEE_ADMIN_TOKEN in the environment to get an admin API token)\n");
    if (demo) std::printf("  demo logins (also in %s):\n%s", (std::filesystem::path(data_dir) / "demo-logins.txt").c_str(), demo_logins(accounts, data_dir).c_str());
    std::fflush(stdout);
    server::log_line("info", "started", {{"url", base}, {"machines", std::to_string(service.plant().machines().size())}});

    // Wait for SIGINT or SIGTERM, then stop cleanly.
    int received = 0;
    sigwait(&signals, &received);
    server::log_line("info", "stopping: draining connections", {{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
    // Stop taking events first, then let requests in progress finish, then close WebSockets.
    if (feed) feed->stop();
    if (mqtt_ingest) mqtt_ingest->stop();
    live_refresh.stop();
    retention.stop();
    live.stop();
    http_server.stop(5000);
    server::log_line("info", "stopped");
    return 0;
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
