// `oee sparkplug decode FILE`: a captured Sparkplug B payload (e.g. `mosquitto_sub -N` output of
// one message, or a dead letter's payload) printed as JSON, for troubleshooting an edge node.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include "commands.h"
#include "oee/sparkplug/payload_codec.h"
#include "oee/sparkplug/payload_json.h"

OEE_COMMAND("sparkplug", run_sparkplug_command, "Sparkplug B tools: decode a captured payload as JSON");

namespace oee::cli {

int run_sparkplug_command(int argc, char** argv) {
  CLI::App app{"Sparkplug B tools.", "oee sparkplug"};
  app.require_subcommand(1);
  std::string file;
  auto* decode = app.add_subcommand("decode", "print a payload (protobuf bytes) as JSON; exit 2 with the reason when it is not one");
  decode->add_option("FILE", file, "the payload's bytes; - reads standard input")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::string bytes;
  if (file == "-") {
    bytes.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "oee sparkplug decode: cannot open %s\n", file.c_str());
      return 2;
    }
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto decoded = sparkplug::decode_payload(bytes);
  if (!decoded.payload) {
    std::fprintf(stderr, "oee sparkplug decode: %s: %s\n", file.c_str(), decoded.error.c_str());
    return 2;
  }
  std::printf("%s\n", sparkplug::payload_to_json(*decoded.payload).c_str());
  return 0;
}

}  // namespace oee::cli
