// `oee edge --config FILE`: runs the edge agent until SIGINT or SIGTERM.
#include <CLI/CLI.hpp>
#include <signal.h>

#include <cstdio>

#include "commands.h"
#include "encryption_key_option.h"
#include "oee/edge/edge_agent.h"

OEE_COMMAND("edge", run_edge_command, "run the edge agent (PLC sources -> durable queue -> MQTT)");

namespace oee::cli {

int run_edge_command(int argc, char** argv) {
  CLI::App app{"Runs the edge agent: polls the configured sources, keeps every event in a durable queue on "
               "disk and forwards it to MQTT (docs/edge.md, docs/mqtt.md).",
               "oee edge"};
  std::string config_path;
  bool check_only = false;
  app.add_option("--config", config_path, "edge configuration file (YAML)")->required();
  app.add_flag("--check", check_only, "validate the configuration (and plant file) and exit");
  EncryptionKeyOption encryption;
  add_encryption_key_option(app, encryption, "the durable queue (overrides queue.encryption_key_file)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  // Block the stop signals before any thread starts, so that only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);  // reloads the mqtt.tls files
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::unique_ptr<edge::EdgeAgent> agent;
  try {
    edge::EdgeConfig config = edge::load_edge_config(config_path);
    if (!encryption.file.empty()) {
      if (const std::string why = encryption.load(); !why.empty()) throw std::runtime_error(why);
      config.encryption_key = encryption.master;
    }
    agent = std::make_unique<edge::EdgeAgent>(std::move(config));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "oee edge: %s\n", e.what());
    return 2;
  }
  if (check_only) {
    std::printf("%s: ok\n", config_path.c_str());
    return 0;
  }
  agent->start();
  int sig = 0;
  while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP) {
    const std::string error = agent->reload_tls();
    std::fprintf(stderr, "oee edge: SIGHUP: %s\n", error.empty() ? "TLS files reloaded" : ("TLS reload failed, connection kept: " + error).c_str());
  }
  std::fprintf(stderr, "oee edge: stopping (signal %d)\n", sig);
  agent->stop();
  return 0;
}

}  // namespace oee::cli
