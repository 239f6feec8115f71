#pragma once
// Each subcommand of `oee` is a function taking the arguments from the subcommand's name on
// (argv[0] is e.g. "replay"). Exit codes: 0 success, 2 bad input (with a message on stderr).
//
// A command registers itself from its own source file, so adding one touches no shared file but
// cli/CMakeLists.txt:
//   OEE_COMMAND("replay", run_replay_command, "compute KPIs from a plant file and an event file");
namespace oee::cli {

using CommandFunction = int (*)(int argc, char** argv);
bool register_command(const char* name, CommandFunction run, const char* summary);

}  // namespace oee::cli

#define OEE_COMMAND_CONCAT2(a, b) a##b
#define OEE_COMMAND_CONCAT(a, b) OEE_COMMAND_CONCAT2(a, b)
#define OEE_COMMAND(name, function, summary)                                       \
  namespace oee::cli {                                                             \
  int function(int argc, char** argv);                                             \
  [[maybe_unused]] static const bool OEE_COMMAND_CONCAT(registered_, __LINE__) =   \
      register_command(name, function, summary);                                   \
  }
