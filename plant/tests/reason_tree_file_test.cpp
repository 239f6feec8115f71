#include <gtest/gtest.h>

#include "oee/plant/plant_file.h"
#include "plant_error_of.h"

namespace oee::plant {

namespace {
// Line numbers matter: the errors below name them.
const char* kReasons = R"(reasons:
  - code: MECH
    name: Mechanical
    loss: breakdown
    children:
      - {code: JAM, name: Jam}
      - {code: MOTOR, name: Motor}
  - code: ORG
    name: Organisation
    children:
      - {code: NO_ORDERS, name: No orders, loss: planned}
reason_codes: {"17": JAM}
sites:
  - id: s1
    areas:
      - id: a1
        lines:
          - id: l1
            machines:
              - id: filler
                ideal_cycle_time_s: 1.0
                reason_codes: {"40": NO_ORDERS, "17": MOTOR}
              - id: capper
                ideal_cycle_time_s: 1.0
)";

std::string with(std::string yaml, const std::string& from, const std::string& to) {
  return yaml.replace(yaml.find(from), from.size(), to);
}

}  // namespace

TEST(ReasonTreeFile, LoadsTheTreeAndEachMachinesPlcCodes) {
  const LoadedPlant p = load_plant_yaml(kReasons, "plant.yaml");
  ASSERT_TRUE(p.model.reasons);
  EXPECT_EQ(p.model.reasons->nodes().size(), 5u);
  EXPECT_EQ(p.model.reasons->find("JAM")->loss, ReasonLoss::breakdown);
  EXPECT_EQ(p.model.reasons->find("JAM")->name, "Jam");
  EXPECT_EQ(p.model.reasons->find("NO_ORDERS")->loss, ReasonLoss::planned);
  EXPECT_EQ(p.model.reasons->find("ORG")->loss, ReasonLoss::none);
  const MachineSpec* filler = p.model.find_machine("s1/a1/l1/filler");
  const MachineSpec* capper = p.model.find_machine("s1/a1/l1/capper");
  EXPECT_EQ(filler->reasons, p.model.reasons);
  EXPECT_EQ(filler->reason_codes.at("17"), "MOTOR");  // the machine's own overrides the plant's
  EXPECT_EQ(filler->reason_codes.at("40"), "NO_ORDERS");
  EXPECT_EQ(capper->reason_codes.at("17"), "JAM");
  EXPECT_EQ(capper->reason_codes.count("40"), 0u);
}

TEST(ReasonTreeFile, BadTreesAndMapsAreErrorsWithTheirLine) {
  const std::string yaml = kReasons;
  EXPECT_EQ(error_of(with(yaml, "{code: MOTOR, name: Motor}", "{code: JAM, name: Motor}")),
            "plant.yaml:7: reasons[0].children[1].code: duplicate code 'JAM' (first at line 6)");
  EXPECT_EQ(error_of(with(yaml, "loss: breakdown", "loss: broken")),
            "plant.yaml:4: reasons[0].loss: 'broken' is not a loss (breakdown, setup, small_stop, starved, blocked, planned)");
  EXPECT_EQ(error_of(with(yaml, "{code: JAM, name: Jam}", "{code: JAM}")), "plant.yaml:6: reasons[0].children[0]: needs 'code' and 'name'");
  EXPECT_EQ(error_of(with(yaml, "{code: JAM, name: Jam}", "{code: JAM, name: Jam, colour: red}")),
            "plant.yaml:6: reasons[0].children[0]: unknown key 'colour' (expected one of: code, name, loss, children)");
  EXPECT_EQ(error_of(with(yaml, "{\"17\": JAM}", "{\"17\": JAMS}")), "plant.yaml:12: reason_codes.17: 'JAMS' is not a code of the reason tree");
  EXPECT_EQ(error_of(with(yaml, "{\"17\": JAM}", "{MOTOR: JAM}")),
            "plant.yaml:12: reason_codes: 'MOTOR' is a code of the tree itself, not a PLC code to map");
  EXPECT_EQ(error_of(with(yaml, "\"40\": NO_ORDERS", "\"40\": NONE")),
            "plant.yaml:22: sites[0].areas[0].lines[0].machines[0].reason_codes.40: 'NONE' is not a code of the reason tree");
  const std::string no_tree = yaml.substr(yaml.find("reason_codes:"));
  EXPECT_EQ(error_of(no_tree), "plant.yaml:1: reason_codes: needs a reason tree (the top-level 'reasons') to map into");
  EXPECT_EQ(error_of(with(yaml, yaml.substr(0, yaml.find("reason_codes:")), "reasons: []\n")), "plant.yaml:1: reasons: must not be empty");
}

}  // namespace oee::plant
