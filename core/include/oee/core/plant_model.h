#pragma once
// The plant as configured (ISA-95: site -> area -> line -> machine), its shift calendar and each
// machine's parameters. Plain data: loading it from YAML lives in plant/ (oee_plant).
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oee/core/alert_rule.h"
#include "oee/core/crew_rotation.h"
#include "oee/core/downtime_window.h"
#include "oee/core/holiday_calendar.h"
#include "oee/core/reason_tree.h"
#include "oee/core/state.h"
#include "oee/core/time.h"

namespace oee {

class TimeZone;

struct BreakSpec {
  int start_minute = 0;  // minutes after local midnight, 0..1439
  int end_minute = 0;    // may be earlier than start_minute when the break crosses midnight
  std::string name{};    // shown while it lasts ("" = none given)
};

struct ShiftSpec {
  std::string name;
  int start_minute = 0;  // local time of day
  int end_minute = 0;    // end <= start means the shift ends the next day
  std::vector<BreakSpec> breaks;
  // ISO weekday (0 = Monday) of the day the shift starts on; all true by default.
  std::array<bool, 7> weekdays{true, true, true, true, true, true, true};
};

struct MachineTargets {
  double oee = 0.0;  // 0 = not set
  double availability = 0.0;
  double performance = 0.0;
  double quality = 0.0;
};

// A machine fed by a Sparkplug B edge node (docs/sparkplug.md): the node, or one of its devices,
// whose metrics are the machine's signals.
struct SparkplugSource {
  std::string group, node;
  std::string device;  // empty: the node's own metrics (NBIRTH/NDATA)
  // Metric name -> signal, as the edge's tags name them: state, counter:total|good|reject,
  // count:good|reject, product, sample:NAME, reason.
  std::map<std::string, std::string, std::less<>> metrics;
};

struct MachineSpec {
  std::string id;
  std::string path;  // site/area/line/machine
  std::string name;  // display name; the id when not given
  std::string description;  // free text shown on its page ("" = none)
  // Ideal cycle time per part, in microseconds: integers keep ideal-time sums exact.
  std::int64_t ideal_cycle_us = 1'000'000;
  std::map<std::string, std::int64_t, std::less<>> product_cycle_us;
  DurationMs micro_stop_threshold_ms = 0;
  // Rejects within this time after a setup or a stop longer than the micro-stop threshold are
  // start-up rejects (a loss of their own); 0 disables.
  DurationMs startup_window_ms = 0;
  // A silence (no event at all) longer than this between two events, or from the last event to the
  // horizon, is no data rather than the last state; 0 disables.
  DurationMs no_data_after_ms = 0;
  std::map<std::string, State, std::less<>> state_map;  // raw value -> canonical state
  MachineTargets targets;
  std::optional<SparkplugSource> sparkplug;
  // The plant's reason tree (null or empty: reasons are free text) and the PLC reason codes of this
  // machine mapped to its codes (the plant's `reason_codes`, then the machine's own).
  std::shared_ptr<const ReasonTree> reasons;
  std::map<std::string, std::string, std::less<>> reason_codes;

  std::int64_t cycle_us_for(std::string_view product) const;
  // Canonical state for a raw or canonical value; nullopt when neither.
  std::optional<State> resolve_state(std::string_view value) const;
};

// How a line's KPIs come from its machines (docs/oee-model.md, "Line OEE"). sum: the sum of its
// machines' totals. constraint: availability from the constraint machine's states, counts from the
// outfeed machine, performance from the constraint's ideal cycle time.
enum class LineKpiMode { sum, constraint };
struct LineKpiSpec {
  LineKpiMode mode = LineKpiMode::sum;
  std::string constraint, outfeed;  // machine ids of the line (constraint mode only)
};

struct LineSpec {
  std::string id, path, name;
  std::vector<MachineSpec> machines;  // in flow order: material goes from the first to the last
  LineKpiSpec kpi{};
  // Its own shifts, overriding its site's and the plant's (docs/configuration.md, "Schedules").
  std::optional<std::vector<ShiftSpec>> shifts{};

  // Index of the machine with this id in `machines`, or -1.
  std::ptrdiff_t machine_index(std::string_view machine_id) const;
  // In constraint mode, its constraint and outfeed machines; null in sum mode.
  const MachineSpec* constraint_machine() const;
  const MachineSpec* outfeed_machine() const;
};
struct AreaSpec {
  std::string id, path, name;
  std::vector<LineSpec> lines;
};
struct SiteSpec {
  std::string id, path, name;
  std::vector<AreaSpec> areas;
  // Its own time zone (IANA name; empty: the plant's) and shifts (overriding the plant's): its hour,
  // day and shift buckets and its planned time follow them.
  std::string timezone{};
  std::shared_ptr<const TimeZone> zone{};  // null: the plant's
  std::optional<std::vector<ShiftSpec>> shifts{};
};

struct PlantModel {
  std::string name;              // display name ("" = none given)
  std::string timezone = "UTC";  // IANA name
  std::vector<ShiftSpec> shifts;  // none: every hour is planned production time
  std::vector<std::int64_t> non_production_dates;  // days since epoch (local calendar dates)
  std::array<bool, 7> production_weekdays{true, true, true, true, true, true, true};
  HolidayCalendar holidays;  // no shift starts on a holiday
  CrewRotation rotation;     // empty: every shift runs on every production day, no crew
  std::vector<SiteSpec> sites;
  std::shared_ptr<const ReasonTree> reasons;  // null: reasons are free text
  std::vector<AlertRule> alert_rules;  // the plant file: alerts.rules
  std::vector<DowntimeWindow> downtime;  // the plant file: downtime (planned-downtime windows)

  // Every machine, in file order.
  std::vector<const MachineSpec*> machines() const;
  const MachineSpec* find_machine(std::string_view path) const;
  // Machines at or below a node path ("" or "/" = the whole plant); empty when the path is unknown.
  std::vector<const MachineSpec*> machines_under(std::string_view node_path) const;
  bool has_node(std::string_view node_path) const;
  // The line at this path, or null (not a line, or unknown).
  const LineSpec* find_line(std::string_view node_path) const;
  // The site a node path is in (its first segment), or null (the plant, or unknown).
  const SiteSpec* find_site(std::string_view node_path) const;
};

}  // namespace oee
