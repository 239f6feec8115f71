#include "oee/core/crew_rotation.h"

namespace oee {

int CrewRotation::cycle_days() const {
  int n = 0;
  for (const RotationSegment& s : pattern) n += s.days;
  return n;
}

std::string_view CrewRotation::shift_of(const Crew& crew, std::int64_t local_day) const {
  const int cycle = cycle_days();
  if (cycle <= 0) return {};
  // Floor modulo: days before the rotation's start fall on the pattern too.
  const std::int64_t index = ((local_day - start_day - crew.offset_days) % cycle + cycle) % cycle;
  std::int64_t seen = 0;
  for (const RotationSegment& s : pattern) {
    seen += s.days;
    if (index < seen) return s.shift;
  }
  return {};
}

const Crew* CrewRotation::crew_on(std::string_view shift, std::int64_t local_day) const {
  for (const Crew& c : crews)
    if (shift_of(c, local_day) == shift) return &c;
  return nullptr;
}

bool CrewRotation::rotates(std::string_view shift) const {
  if (empty()) return false;
  for (const RotationSegment& s : pattern)
    if (s.shift == shift) return true;
  return false;
}

}  // namespace oee
