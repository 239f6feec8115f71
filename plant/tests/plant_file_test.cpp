#include <gtest/gtest.h>

#include "oee/plant/plant_file.h"
#include "plant_error_of.h"

namespace oee::plant {

namespace {
const char* kContractPlant = R"(timezone: Europe/Berlin
shifts:
  - {name: early, start: "06:00", end: "14:00", breaks: [{start: "09:00", end: "09:15"}]}
  - {name: night, start: "22:00", end: "06:00"}
sites:
  - id: s1
    areas:
      - id: a1
        lines:
          - id: l1
            machines:
              - id: filler
                ideal_cycle_time_s: 1.0
                products: {bottle-05: 0.8}     # product id -> ideal cycle time in seconds
                micro_stop_threshold_s: 0      # stops shorter than this are small stops
                states: {"1": running, "2": stopped, "3": setup}   # raw value -> canonical state
)";

}  // namespace

// The labels shown to people: the plant's name, a machine's description, a break's name.
TEST(PlantFile, LabelsForPeopleAreKept) {
  const LoadedPlant p = load_plant_yaml(R"(name: Berlin works
shifts:
  - {name: early, start: "06:00", end: "14:00", breaks: [{start: "09:00", end: "09:15", name: Breakfast}, {start: "12:00", end: "12:30"}]}
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [
  {id: filler, description: "Rotary filler, 40 valves", ideal_cycle_time_s: 1.0}, {id: capper, ideal_cycle_time_s: 1.0}]}]}]}]
)", "plant.yaml");
  EXPECT_EQ(p.model.name, "Berlin works");
  ASSERT_EQ(p.model.shifts.at(0).breaks.size(), 2u);
  EXPECT_EQ(p.model.shifts[0].breaks[0].name, "Breakfast");
  EXPECT_EQ(p.model.shifts[0].breaks[1].name, "");
  EXPECT_EQ(p.model.find_machine("s1/a1/l1/filler")->description, "Rotary filler, 40 valves");
  EXPECT_EQ(p.model.find_machine("s1/a1/l1/capper")->description, "");
  EXPECT_EQ(load_plant_yaml(kContractPlant, "plant.yaml").model.name, "");
}

TEST(PlantFile, LoadsTheContractExample) {
  const LoadedPlant p = load_plant_yaml(kContractPlant, "plant.yaml");
  EXPECT_EQ(p.model.timezone, "Europe/Berlin");
  EXPECT_EQ(p.zone->name(), "Europe/Berlin");
  ASSERT_EQ(p.model.shifts.size(), 2u);
  EXPECT_EQ(p.model.shifts[0].breaks.size(), 1u);
  EXPECT_EQ(p.model.shifts[1].start_minute, 22 * 60);
  const MachineSpec* m = p.model.find_machine("s1/a1/l1/filler");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->ideal_cycle_us, 1'000'000);
  EXPECT_EQ(m->cycle_us_for("bottle-05"), 800'000);
  EXPECT_EQ(m->resolve_state("2"), State::stopped);
  EXPECT_EQ(m->resolve_state("blocked"), State::blocked);
  EXPECT_FALSE(m->resolve_state("7"));
  EXPECT_EQ(p.model.machines_under("s1/a1").size(), 1u);
  EXPECT_TRUE(p.model.has_node("s1/a1/l1"));
  EXPECT_FALSE(p.model.has_node("s1/a2"));
}

TEST(PlantFile, NoDataAfterIsOffByDefaultAndReadInSeconds) {
  const LoadedPlant off = load_plant_yaml(kContractPlant, "plant.yaml");
  EXPECT_EQ(off.model.find_machine("s1/a1/l1/filler")->no_data_after_ms, 0);
  std::string yaml = kContractPlant;
  const std::string with = std::string(yaml).insert(yaml.find("                states:"), "                no_data_after_s: 60\n");
  EXPECT_EQ(load_plant_yaml(with, "plant.yaml").model.find_machine("s1/a1/l1/filler")->no_data_after_ms, 60'000);
  EXPECT_EQ(error_of(std::string(yaml).insert(yaml.find("                states:"), "                no_data_after_s: -5\n")),
            "plant.yaml:16: sites[0].areas[0].lines[0].machines[0].no_data_after_s: must be >= 0 seconds");
  EXPECT_EQ(error_of(std::string(yaml).insert(yaml.find("                states:"), "                no_data_after_s: soon\n")),
            "plant.yaml:16: sites[0].areas[0].lines[0].machines[0].no_data_after_s: 'soon' is not a number");
}

TEST(PlantFile, ErrorsNameFileLineAndWhatIsWrong) {
  std::string yaml = kContractPlant;
  EXPECT_EQ(error_of(std::string(yaml).replace(yaml.find("1.0"), 3, "-2")),
            "plant.yaml:13: sites[0].areas[0].lines[0].machines[0].ideal_cycle_time_s: must be > 0 seconds");
  EXPECT_EQ(error_of(std::string(yaml).replace(yaml.find("setup}"), 5, "nap")),
            "plant.yaml:16: sites[0].areas[0].lines[0].machines[0].states.3: 'nap' is not a state (running, stopped, "
            "setup, starved, blocked, planned_stop)");
  EXPECT_EQ(error_of(std::string(yaml).replace(yaml.find("Europe/Berlin"), 13, "Mars/Olympus")),
            "plant.yaml:1: timezone: unknown time zone 'Mars/Olympus' (an IANA name such as Europe/Berlin)");
  EXPECT_EQ(error_of(std::string(yaml).replace(yaml.find("\"22:00\""), 7, "\"25:00\"")),
            "plant.yaml:4: shifts[1].start: '25:00' is not a time of day HH:MM");
  EXPECT_EQ(error_of(std::string(yaml).replace(yaml.find("micro_stop"), 10, "micro_stp")),
            "plant.yaml:15: sites[0].areas[0].lines[0].machines[0]: unknown key 'micro_stp_threshold_s' (expected one "
            "of: id, name, ideal_cycle_time_s, products, micro_stop_threshold_s, startup_window_s, no_data_after_s, "
            "states, targets, "
            "description, sparkplug, reason_codes)");
  EXPECT_EQ(error_of(std::string(yaml).replace(yaml.find("\"09:15\""), 7, "\"15:00\"")),
            "plant.yaml:3: shifts[0].breaks[0]: must lie inside the shift early");
  EXPECT_EQ(error_of("timezone: UTC\nsites: [{id: a, areas: [{id: b, lines: [{id: c, machines: [{id: m, "
                     "ideal_cycle_time_s: 1}, {id: m, ideal_cycle_time_s: 2}]}]}]}]\n"),
            "plant.yaml:2: sites[0].areas[0].lines[0].machines[1].id: duplicate id 'm'");
  EXPECT_EQ(error_of("sites: [\n  {id: a\n"), "plant.yaml:3: invalid YAML: end of map flow not found");
  EXPECT_EQ(error_of("timezone: UTC\n"), "plant.yaml:1: plant: missing 'sites'");
  EXPECT_EQ(error_of("non_production_days: [someday]\nsites: []\n"),
            "plant.yaml:1: non_production_days: 'someday' is neither a weekday (mon … sun) nor a date YYYY-MM-DD");
}

// A key that cannot take effect is an error at its line, never silently ignored.
TEST(PlantFile, KeysThatCannotTakeEffectAreErrors) {
  const std::string sites = "sites: [{id: s, areas: [{id: a, lines: [{id: l, machines: [{id: m, ideal_cycle_time_s: 1}]}]}]}]\n";
  EXPECT_EQ(error_of("timezone: UTC\nnon_production_days: [sun]\n" + sites),
            "plant.yaml:2: non_production_days: has no effect without shifts (with no shifts every hour is planned "
            "production time): add shifts or remove it");
  EXPECT_EQ(error_of("timezone: UTC\nshifts: []\nnon_production_days: [\"2026-12-25\"]\n" + sites),
            "plant.yaml:3: non_production_days: has no effect without shifts (with no shifts every hour is planned "
            "production time): add shifts or remove it");
  EXPECT_EQ(error_of("non_production_days: [sat, sun]\nshifts:\n  - {name: day, start: \"08:00\", end: \"16:00\"}\n"
                     "  - {name: weekend, start: \"08:00\", end: \"12:00\", days: [sat, sun]}\n" + sites),
            "plant.yaml:4: shifts[1]: the shift weekend only starts on non_production_days weekdays: it would never run");
  EXPECT_EQ(error_of("shifts:\n  - {name: day, start: \"08:00\", end: \"16:00\", days: []}\n" + sites),
            "plant.yaml:2: shifts[0].days: must not be empty (the shift would never run)");
  // The same keys with shifts that run load.
  EXPECT_NO_THROW(load_plant_yaml("non_production_days: [sun]\nshifts:\n  - {name: day, start: \"08:00\", end: \"16:00\"}\n" + sites,
                                  "plant.yaml"));
}

TEST(PlantFile, ReadsNonProductionDaysAndShiftWeekdays) {
  const LoadedPlant p = load_plant_yaml(R"(timezone: UTC
non_production_days: [sun, "2026-12-25"]
shifts:
  - {name: sat, start: "08:00", end: "12:00", days: [sat]}
sites: [{id: s, areas: [{id: a, lines: [{id: l, machines: [{id: m, ideal_cycle_time_s: 2.5, targets: {oee: 0.85}}]}]}]}]
)",
                                        "p.yaml");
  EXPECT_FALSE(p.model.production_weekdays[6]);
  EXPECT_TRUE(p.model.production_weekdays[5]);
  ASSERT_EQ(p.model.non_production_dates.size(), 1u);
  EXPECT_EQ(p.model.non_production_dates[0], *parse_civil_date("2026-12-25"));
  EXPECT_TRUE(p.model.shifts[0].weekdays[5]);
  EXPECT_FALSE(p.model.shifts[0].weekdays[0]);
  EXPECT_DOUBLE_EQ(p.model.find_machine("s/a/l/m")->targets.oee, 0.85);
}

TEST(PlantFile, MissingFileIsAClearError) {
  try {
    load_plant_file("/nonexistent/plant.yaml");
    FAIL();
  } catch (const PlantFileError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/plant.yaml: cannot open the file");
  }
}

}  // namespace oee::plant

namespace oee::plant {

// Issue 15: `states: packml` maps PackML StateCurrent 0..17; a map with `preset: packml` overrides.
TEST(PlantFile, PackmlStatePresetMapsEveryStateAndCanBeOverridden) {
  const std::string yaml = kContractPlant;
  const std::string states = R"(states: {"1": running, "2": stopped, "3": setup})";
  auto machine_of = [](const std::string& text) { return *load_plant_yaml(text, "plant.yaml").model.machines().front(); };
  const auto preset = machine_of(std::string(yaml).replace(yaml.find(states), states.size(), "states: packml"));
  ASSERT_EQ(preset.state_map.size(), 18u);
  EXPECT_EQ(preset.state_map.at("6"), State::running);     // Execute
  EXPECT_EQ(preset.state_map.at("16"), State::running);    // Completing
  EXPECT_EQ(preset.state_map.at("5"), State::starved);     // Suspended
  EXPECT_EQ(preset.state_map.at("11"), State::stopped);    // Held
  EXPECT_EQ(preset.state_map.at("9"), State::stopped);     // Aborted
  EXPECT_EQ(preset.state_map.at("15"), State::setup);      // Resetting
  EXPECT_EQ(preset.state_map.at("17"), State::planned_stop);  // Complete
  const auto over = machine_of(std::string(yaml).replace(
      yaml.find(states), states.size(), R"(states: {preset: packml, "4": planned_stop, "5": blocked, "99": running})"));
  EXPECT_EQ(over.state_map.size(), 19u);
  EXPECT_EQ(over.state_map.at("4"), State::planned_stop);
  EXPECT_EQ(over.state_map.at("5"), State::blocked);
  EXPECT_EQ(over.state_map.at("6"), State::running);
  EXPECT_EQ(over.state_map.at("99"), State::running);
  EXPECT_EQ(error_of(std::string(yaml).replace(yaml.find(states), states.size(), "states: isa88")),
            "plant.yaml:16: sites[0].areas[0].lines[0].machines[0].states: unknown preset 'isa88' (packml, or a map "
            "raw value -> state)");
  EXPECT_EQ(error_of(std::string(yaml).replace(yaml.find(states), states.size(), R"(states: {preset: pakml})")),
            "plant.yaml:16: sites[0].areas[0].lines[0].machines[0].states: unknown preset 'pakml' (packml, or a map "
            "raw value -> state)");
  EXPECT_EQ(error_of(std::string(yaml).replace(yaml.find(states), states.size(), R"(states: {preset: packml, "6": fast})")),
            "plant.yaml:16: sites[0].areas[0].lines[0].machines[0].states.6: 'fast' is not a state (running, stopped, "
            "setup, starved, blocked, planned_stop)");
}

namespace {

std::string with_sparkplug(const std::string& mapping) {
  std::string yaml = kContractPlant;
  return yaml.insert(yaml.find("                states:"), "                sparkplug: " + mapping + "\n");
}

}  // namespace

TEST(PlantFile, ReadsAMachinesSparkplugMapping) {
  const auto p = load_plant_yaml(with_sparkplug(R"({group: berlin, node: pet1-edge, device: filler, metrics: {"Status/State": state, "Counts/Total": "counter:total", "T": "sample:temp"}})"),
                                 "plant.yaml");
  const auto& s = p.model.find_machine("s1/a1/l1/filler")->sparkplug;
  ASSERT_TRUE(s);
  EXPECT_EQ(s->group, "berlin");
  EXPECT_EQ(s->node, "pet1-edge");
  EXPECT_EQ(s->device, "filler");
  EXPECT_EQ(s->metrics.at("Counts/Total"), "counter:total");
  EXPECT_EQ(s->metrics.at("T"), "sample:temp");
  EXPECT_FALSE(load_plant_yaml(kContractPlant, "plant.yaml").model.find_machine("s1/a1/l1/filler")->sparkplug);
}

TEST(PlantFile, SparkplugMappingErrorsNameFileLineAndWhat) {
  EXPECT_EQ(error_of(with_sparkplug(R"({group: berlin, node: n, metrics: {"A": "counter:bad"}})")),
            "plant.yaml:16: sites[0].areas[0].lines[0].machines[0].sparkplug.metrics.A: unknown signal 'counter:bad' (state, "
            "counter:total|good|reject, count:good|reject, product, sample:NAME, reason)");
  EXPECT_NE(error_of(with_sparkplug(R"({node: n, metrics: {"A": state}})")).find("sparkplug: missing 'group'"), std::string::npos);
  EXPECT_NE(error_of(with_sparkplug(R"({group: g, node: "a/b", metrics: {"A": state}})")).find("sparkplug.node: 'a/b' must be"),
            std::string::npos);
  EXPECT_NE(error_of(with_sparkplug(R"({group: g, node: n, metrics: {"A": state}, speed: 1})")).find("unknown key 'speed'"),
            std::string::npos);
  EXPECT_NE(error_of(with_sparkplug(R"({group: g, node: n, metrics: {}})")).find("sparkplug.metrics: maps no metric"),
            std::string::npos);
  EXPECT_NE(error_of(with_sparkplug(R"({group: g, node: n, metrics: {"A": "sample:"}})")).find("unknown signal 'sample:'"),
            std::string::npos);
}

}  // namespace oee::plant
