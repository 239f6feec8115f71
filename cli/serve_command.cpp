// `oee serve`: the server: ingest into the engine and storage, and the HTTP API. `--demo` feeds it
// the simulated demo plant in real time.
#include <CLI/CLI.hpp>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "commands.h"
#include "demo_plant.h"
#include "oee/api/routes.h"
#include "oee/server/http_server.h"
#include "oee/server/mqtt_ingest.h"
#include "oee/server/plant_service.h"
#include "oee/server/simulator_feed.h"
#include "oee/storage/open_store.h"

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
  app.add_option("--retention-days", retention_days, "delete events older than this (0 keeps everything)")->check(CLI::NonNegativeNumber);
  app.add_option("--threads", threads, "HTTP I/O threads")->check(CLI::Range(1, 64))->capture_default_str();
  server::MqttIngestConfig mqtt;
  auto* mqtt_opts = app.add_option_group("mqtt ingest");
  mqtt_opts->add_option("--mqtt", mqtt.brokers, "broker URL to ingest oee/v1/# from (repeat for failover)");
  mqtt_opts->add_option("--mqtt-client-id", mqtt.client_id, "stable client id (persistent session)")->capture_default_str();
  mqtt_opts->add_option("--mqtt-username", mqtt.username, "MQTT user name");
  mqtt_opts->add_option("--mqtt-password-file", mqtt.password_file, "file holding the MQTT password");
  mqtt_opts->add_option("--mqtt-reconnect-min-ms", mqtt.reconnect_min_ms, "first reconnect wait")->capture_default_str();
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

    server::Router router;
    api::add_plant_routes(router, service);
    server::HttpServer http_server(router, http);
    http_server.start();

    std::unique_ptr<server::SimulatorFeed> feed;
    if (demo) {
      server::SimulatorFeedOptions o;
      o.seed = seed;
      o.speed = speed;
      o.start = demo_start(data_dir, service.now(), history_hours);
      feed = std::make_unique<server::SimulatorFeed>(service, o);
      feed->start();
    }
    std::unique_ptr<server::MqttIngest> mqtt_ingest;
    if (!mqtt.brokers.empty()) mqtt_ingest = server::start_mqtt_ingest(service, mqtt);
    std::printf("oee serve: %zu machines, store %s\n", service.plant().machines().size(),
                service.with_store([](storage::EventStore& s) { return s.describe(); }).c_str());
    std::printf("oee serve: listening on http://%s:%u\n", http.address.c_str(), http_server.port());
    std::printf("  plant and live states:  curl http://%s:%u/api/v1/plant\n", http.address.c_str(), http_server.port());
    std::printf("  KPIs of the shift:      curl 'http://%s:%u/api/v1/kpis?by=hour'\n", http.address.c_str(), http_server.port());
    std::fflush(stdout);

    // Wait for SIGINT or SIGTERM, then stop cleanly.
    int received = 0;
    sigwait(&signals, &received);
    std::printf("oee serve: stopping (%s)\n", received == SIGINT ? "SIGINT" : "SIGTERM");
    if (feed) feed->stop();
    if (mqtt_ingest) mqtt_ingest->stop();
    http_server.stop();
    return 0;
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
