// `oee check-plant FILE`: validates a plant file and summarises it (with its crews, holidays,
// downtime windows and own schedules).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "commands.h"
#include "oee/plant/plant_file.h"
#include "schedule_summary.h"

namespace oee::cli {

int run_check_plant_command(int argc, char** argv) {
  CLI::App app{"Validate a plant file; errors give file, line and what is wrong.", "oee check-plant"};
  std::string path;
  app.add_option("file", path, "plant file (YAML)")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    const plant::LoadedPlant p = plant::load_plant_file(path);
    std::size_t areas = 0, lines = 0;
    for (const auto& s : p.model.sites) {
      areas += s.areas.size();
      for (const auto& a : s.areas) lines += a.lines.size();
    }
    std::printf("%s: ok: %zu site(s), %zu area(s), %zu line(s), %zu machine(s), %zu shift(s), time zone %s\n",
                path.c_str(), p.model.sites.size(), areas, lines, p.model.machines().size(), p.model.shifts.size(),
                p.model.timezone.c_str());
    std::fputs(schedule_summary(p.model).c_str(), stdout);
    return 0;
  } catch (const plant::PlantFileError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}

}  // namespace oee::cli

OEE_COMMAND("check-plant", run_check_plant_command, "validate a plant file")
