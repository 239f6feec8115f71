// `oee simulate --plant FILE --from TS --to TS [--seed N] --out FILE.jsonl`: the events of the
// simulated plant over a window, heartbeats included, one JSON object per line (the same objects
// `oee replay` reads).
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "oee/codec/event_json.h"
#include "oee/core/shift_calendar.h"
#include "oee/core/time.h"
#include "oee/plant/plant_file.h"
#include "oee/simulator/plant_simulator.h"

namespace oee::cli {
namespace {

// Generation goes an hour at a time so memory stays flat however long the window.
constexpr DurationMs kSliceMs = kMsPerHour;
constexpr std::size_t kWriteBufferBytes = 1 << 20;

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr && f != stdout) std::fclose(f);
  }
};

}  // namespace

int run_simulate_command(int argc, char** argv) {
  CLI::App app{"Generate the events of a simulated plant over [from, to) as JSON lines.\n"
               "The same plant, window and seed always give the same events.",
               "oee simulate"};
  std::string plant_path, from_text, to_text, out_path, src = "sim", counters = "by-machine";
  std::uint64_t seed = 1;
  int heartbeat_s = static_cast<int>(simulator::kDefaultHeartbeatMs / kMsPerSecond);
  app.add_option("--plant", plant_path, "plant file (YAML)")->required();
  app.add_option("--from", from_text, "start, RFC 3339 or epoch milliseconds")->required();
  app.add_option("--to", to_text, "end (exclusive), RFC 3339 or epoch milliseconds")->required();
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_option("--out", out_path, "output .jsonl file, '-' for stdout")->required();
  app.add_option("--src", src, "source id of the events (with seq, their identity)")->capture_default_str();
  app.add_option("--counters", counters, "which machines report cumulative 16-bit counters")
      ->check(CLI::IsMember({"by-machine", "never", "always"}))
      ->capture_default_str();
  app.add_option("--heartbeat-s", heartbeat_s, "a heartbeat event per machine this often, as the edge and `oee serve --demo` "
                 "send them (for the plant's no_data_after_s); 0 = none")
      ->check(CLI::Range(0, 86'400))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  const auto from = parse_timestamp(from_text);
  const auto to = parse_timestamp(to_text);
  if (!from) {
    std::fprintf(stderr, "oee simulate: --from: not a timestamp: '%s'\n", from_text.c_str());
    return 2;
  }
  if (!to) {
    std::fprintf(stderr, "oee simulate: --to: not a timestamp: '%s'\n", to_text.c_str());
    return 2;
  }
  if (*to <= *from) {
    std::fprintf(stderr, "oee simulate: --to must be after --from\n");
    return 2;
  }
  if (src.empty() || src.size() > codec::kMaxStringBytes) {
    std::fprintf(stderr, "oee simulate: --src: 1 to %zu bytes\n", codec::kMaxStringBytes);
    return 2;
  }

  plant::LoadedPlant plant;
  try {
    plant = plant::load_plant_file(plant_path);
  } catch (const plant::PlantFileError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }

  std::unique_ptr<std::FILE, FileCloser> out(out_path == "-" ? stdout : std::fopen(out_path.c_str(), "wb"));
  if (!out) {
    std::fprintf(stderr, "oee simulate: --out: cannot open '%s': %s\n", out_path.c_str(), std::strerror(errno));
    return 2;
  }

  simulator::SimulatorOptions options;
  options.src = src;
  options.counters = counters == "never"    ? simulator::CounterMode::never
                     : counters == "always" ? simulator::CounterMode::always
                                            : simulator::CounterMode::by_machine;
  options.heartbeat_ms = heartbeat_s * kMsPerSecond;
  const ShiftCalendar calendar(plant.model, *plant.zone);
  simulator::PlantSimulator sim(plant.model, calendar, seed, *from, options);

  std::vector<Event> events;
  std::string buffer;
  buffer.reserve(kWriteBufferBytes + codec::kMaxEventJsonBytes);
  std::uint64_t written = 0;
  bool write_failed = false;
  auto flush = [&] {
    if (!buffer.empty() && std::fwrite(buffer.data(), 1, buffer.size(), out.get()) != buffer.size()) write_failed = true;
    buffer.clear();
  };
  for (TimeMs t = *from; t < *to && !write_failed;) {
    t = std::min(*to, t + kSliceMs);
    events.clear();
    sim.advance_to(t, events);
    for (const Event& e : events) {
      codec::append_event_json(buffer, e);
      buffer.push_back('\n');
      if (buffer.size() >= kWriteBufferBytes) flush();
    }
    written += events.size();
  }
  flush();
  if (write_failed || std::fflush(out.get()) != 0) {
    std::fprintf(stderr, "oee simulate: writing '%s' failed: %s\n", out_path.c_str(), std::strerror(errno));
    return 1;
  }
  std::fprintf(stderr, "oee simulate: %llu events of %zu machines, %s to %s, seed %llu -> %s\n",
               static_cast<unsigned long long>(written), sim.machine_count(), format_rfc3339(*from).c_str(),
               format_rfc3339(*to).c_str(), static_cast<unsigned long long>(seed),
               out_path == "-" ? "stdout" : out_path.c_str());
  return 0;
}

}  // namespace oee::cli

OEE_COMMAND("simulate", run_simulate_command, "generate the events of a simulated plant (JSON lines)")
