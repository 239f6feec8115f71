#pragma once
// Rotating crews (point85-style): every crew follows the same N-day pattern of shifts and days off,
// each shifted by its own offset in days. DuPont and 2-2-3 (Panama) are such patterns.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace oee {

struct RotationSegment {
  std::string shift;  // a shift's name; empty = days off
  int days = 1;
};

struct Crew {
  std::string name;
  int offset_days = 0;  // this crew is on pattern day 0 offset_days after the rotation's start
};

struct CrewRotation {
  std::int64_t start_day = 0;  // local date (days since epoch) of pattern day 0 for offset 0
  std::vector<RotationSegment> pattern;
  std::vector<Crew> crews;

  bool empty() const { return crews.empty(); }
  int cycle_days() const;
  // The shift a crew works on a local day ("" when off).
  std::string_view shift_of(const Crew& crew, std::int64_t local_day) const;
  // The crew working `shift` on a local day; null when no crew does (the shift does not run).
  const Crew* crew_on(std::string_view shift, std::int64_t local_day) const;
  // Whether the pattern names this shift (a line's or site's own shifts may not rotate).
  bool rotates(std::string_view shift) const;
};

}  // namespace oee
