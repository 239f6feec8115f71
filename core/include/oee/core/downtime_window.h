#pragma once
// Planned-downtime windows of a line or machine (maintenance, trials): one-off, from a local date and
// time to another, or recurring, at a local time of day on some weekdays. Planned production time
// falls by them: a machine's time inside one counts as planned downtime, whatever its state.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "oee/core/interval.h"
#include "oee/core/time_zone.h"

namespace oee {

struct DowntimeWindow {
  std::string name;
  std::string target;  // node path (a line or a machine): every machine at or below it
  bool recurring = false;
  std::int64_t local_start_ms = 0, local_end_ms = 0;  // one-off: local wall times, end exclusive
  int start_minute = 0, end_minute = 0;                // recurring: end <= start ends the next day
  std::array<bool, 7> weekdays{true, true, true, true, true, true, true};  // recurring: ISO days it starts on

  bool applies_to(std::string_view machine_path) const;
  // Its UTC intervals overlapping [from, to), local times read in `zone`.
  std::vector<Interval> occurrences(const TimeZone& zone, TimeMs from, TimeMs to) const;
};

}  // namespace oee
