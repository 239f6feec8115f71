#pragma once
// Each subcommand of `oee` is a function taking the arguments from the subcommand's name on
// (argv[0] is e.g. "replay"). Exit codes: 0 success, 2 bad input (with a message on stderr).
namespace oee::cli {

int run_replay_command(int argc, char** argv);
int run_check_plant_command(int argc, char** argv);
int run_simulate_command(int argc, char** argv);
int run_serve_command(int argc, char** argv);

}  // namespace oee::cli
