#pragma once
// What `oee check-plant` prints of a plant's schedules beyond its shifts: crews, holidays, downtime
// windows, and the sites and lines with their own zone or shifts, one line each.
#include <string>

#include "oee/core/plant_model.h"

namespace oee::cli {

std::string schedule_summary(const PlantModel& plant);

}  // namespace oee::cli
