// `oee`: one program, one subcommand per job. Components add their subcommand to kCommands.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "commands.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int argc, char** argv);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"replay", oee::cli::run_replay_command, "compute KPIs from a plant file and an event file"},
    {"check-plant", oee::cli::run_check_plant_command, "validate a plant file"},
    {"simulate", oee::cli::run_simulate_command, "generate the events of a simulated plant"},
    {"serve", oee::cli::run_serve_command, "run the server (ingest, engine, storage, HTTP API)"},
};

void print_usage(std::FILE* to) {
  std::fprintf(to, "usage: oee <command> [options]   (oee <command> --help for its options)\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(to, "  %-12s %s\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(stdout);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (name == c.name) return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "oee: unknown command '%s'\n", argv[1]);
  print_usage(stderr);
  return 2;
}
