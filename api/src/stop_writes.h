#pragma once
// What the writes to a stop share (reason, comment, split): the stop a body names, and a reason for
// part of a stop, which is a reclassify correction: corrections apply after reasons
// (docs/oee-model.md, "Corrections"), so once a correction covers a stop's time only another
// correction changes its reason there.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "oee/server/http.h"
#include "oee/server/plant_service.h"

namespace oee::api::detail {

// The stop (an unplanned stop begun by now, as corrected) a body's "machine" and "at" (any instant
// in it) name; a 400 in `error` when there is none.
bool find_stop(server::PlantService& s, const nlohmann::json& body, const MachineSpec*& m, StateInterval& stop,
               server::HttpResponse& error);

// Whether a reclassify correction of the machine overlaps [from, until).
bool corrected_within(server::PlantService& s, const MachineSpec& m, TimeMs from, TimeMs until);

// A correction made now by `by` giving `reason` to the unplanned stops of [from, until).
Event reason_correction(server::PlantService& s, const MachineSpec& m, TimeMs from, TimeMs until, std::string reason,
                        std::string by, std::string why);

// Stores corrections through the one ingest path; throws what the store throws.
void store_corrections(server::PlantService& s, const std::vector<Event>& corrections);

}  // namespace oee::api::detail
