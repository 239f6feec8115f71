// A line's `kpi:` in the plant file: sum (the default) or constraint with its constraint and
// outfeed machines, and clear file:line errors otherwise.
#include <gtest/gtest.h>

#include "oee/plant/plant_file.h"
#include "plant_error_of.h"

namespace oee::plant {

namespace {

// A line of three machines in flow order, with `kpi` (indented under the line) put in.
std::string plant_with(const std::string& kpi) {
  return R"(sites:
  - id: s
    areas:
      - id: a
        lines:
          - id: l1
)" + kpi + R"(            machines:
              - {id: filler, ideal_cycle_time_s: 1}
              - {id: capper, ideal_cycle_time_s: 2}
              - {id: packer, ideal_cycle_time_s: 1}
)";
}

}  // namespace

TEST(LineKpiFile, SumIsTheDefault) {
  const LoadedPlant p = load_plant_yaml(plant_with(""), "plant.yaml");
  const LineSpec* line = p.model.find_line("s/a/l1");
  ASSERT_NE(line, nullptr);
  EXPECT_EQ(line->kpi.mode, LineKpiMode::sum);
  EXPECT_EQ(load_plant_yaml(plant_with("            kpi: {mode: sum}\n"), "p").model.find_line("s/a/l1")->kpi.mode,
            LineKpiMode::sum);
}

TEST(LineKpiFile, ReadsConstraintModeAndKeepsFlowOrder) {
  const LoadedPlant p =
      load_plant_yaml(plant_with("            kpi: {mode: constraint, constraint: capper, outfeed: packer}\n"), "plant.yaml");
  const LineSpec* line = p.model.find_line("s/a/l1");
  ASSERT_NE(line, nullptr);
  EXPECT_EQ(line->kpi.mode, LineKpiMode::constraint);
  EXPECT_EQ(line->kpi.constraint, "capper");
  EXPECT_EQ(line->kpi.outfeed, "packer");
  ASSERT_EQ(line->machines.size(), 3u);
  EXPECT_EQ(line->machines[0].id, "filler");
  EXPECT_EQ(line->machine_index("capper"), 1);
}

TEST(LineKpiFile, ErrorsNameTheLineAndWhatIsWrong) {
  EXPECT_EQ(error_of(plant_with("            kpi: {mode: bottleneck}\n")),
            "plant.yaml:7: sites[0].areas[0].lines[0].kpi.mode: 'bottleneck' is not a mode (sum, constraint)");
  EXPECT_EQ(error_of(plant_with("            kpi: {mode: constraint, constraint: capper}\n")),
            "plant.yaml:7: sites[0].areas[0].lines[0].kpi: mode constraint needs 'constraint' and 'outfeed' (machine ids "
            "of the line)");
  EXPECT_EQ(error_of(plant_with("            kpi: {mode: constraint, constraint: labeler, outfeed: packer}\n")),
            "plant.yaml:7: sites[0].areas[0].lines[0].kpi.constraint: 'labeler' is not a machine of line l1");
  EXPECT_EQ(error_of(plant_with("            kpi: {mode: constraint, constraint: capper, outfeed: s/a/l1/packer}\n")),
            "plant.yaml:7: sites[0].areas[0].lines[0].kpi.outfeed: 's/a/l1/packer' is not a machine of line l1");
  EXPECT_EQ(error_of(plant_with("            kpi: {constraint: capper}\n")),
            "plant.yaml:7: sites[0].areas[0].lines[0].kpi.constraint: has no effect in mode sum (set mode: constraint)");
  // An unknown key (only_keys' message) names the key and the file line.
  const std::string unknown =
      error_of(plant_with("            kpi: {mode: constraint, constraint: capper, outfeed: packer, infeed: filler}\n"));
  EXPECT_NE(unknown.find("plant.yaml:7:"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("infeed"), std::string::npos) << unknown;
}

}  // namespace oee::plant
