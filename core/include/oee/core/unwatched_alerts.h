#pragma once
// Alerts the plant file no longer watches: their rule was removed (or renamed, or its kind
// changed), or their subject is no longer one the rule evaluates (a machine removed, or no longer
// under the rule's node; the rule now names another node or edge). Nothing would ever resolve such
// an alert, so the server resolves it with this reason when it starts (docs/configuration.md,
// "Alerts").
#include <optional>

#include "oee/core/alert.h"
#include "oee/core/plant_model.h"

namespace oee {

// Why `alert` is no longer watched by the plant's rules, or nullopt when a rule still evaluates it.
// An edge alert under a rule for every edge stays watched: edges come and go without the plant file.
std::optional<AlertResolution> unwatched_reason(const PlantModel& plant, const Alert& alert);

}  // namespace oee
