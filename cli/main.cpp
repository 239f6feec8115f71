// `oee`: one program, one subcommand per job. Commands register themselves (see commands.h).
#include <algorithm>
#include <cstdio>
#include <string_view>
#include <vector>

#include "commands.h"

namespace oee::cli {

namespace {
struct Command {
  const char* name;
  CommandFunction run;
  const char* summary;
};
std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}
}  // namespace

bool register_command(const char* name, CommandFunction run, const char* summary) {
  registry().push_back({name, run, summary});
  return true;
}

}  // namespace oee::cli

namespace {

// The order people meet the commands in.
constexpr std::string_view kOrder[] = {"serve", "replay", "check-plant", "simulate", "edge", "opcua", "db", "backup", "restore", "audit", "export"};

void print_usage(std::FILE* to) {
  auto commands = oee::cli::registry();
  auto rank = [](std::string_view n) {
    return std::find(std::begin(kOrder), std::end(kOrder), n) - std::begin(kOrder);
  };
  std::sort(commands.begin(), commands.end(), [&](const auto& a, const auto& b) { return rank(a.name) < rank(b.name); });
  std::fprintf(to, "usage: oee <command> [options]   (oee <command> --help for its options)\n\ncommands:\n");
  for (const auto& c : commands) std::fprintf(to, "  %-12s %s\n", c.name, c.summary);
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
  for (const auto& c : oee::cli::registry()) {
    if (name == c.name) return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "oee: unknown command '%s'\n", argv[1]);
  print_usage(stderr);
  return 2;
}
