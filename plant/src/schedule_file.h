#pragma once
// The plant file's schedule keys beyond daily shifts: `holidays:` (dates, ranges and yearly rules)
// and `rotation:` (crews on an N-day pattern of the plant's shifts), validated with file:line errors.
#include <vector>

#include "oee/core/crew_rotation.h"
#include "oee/core/holiday_calendar.h"
#include "oee/core/plant_model.h"
#include "oee/plant/yaml_fields.h"

namespace oee::plant {

HolidayCalendar read_holidays(const YamlFields& r, const YAML::Node& list);
// `shifts`: the plant's shifts, which the pattern names.
CrewRotation read_rotation(const YamlFields& r, const YAML::Node& map, const std::vector<ShiftSpec>& shifts);

}  // namespace oee::plant
