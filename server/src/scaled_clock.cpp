#include "oee/server/scaled_clock.h"

#include <cmath>

namespace oee::server {

Clock scaled_clock(double rate, Clock wall) {
  const TimeMs origin = wall();
  return [rate, origin, wall = std::move(wall)] {
    return origin + static_cast<TimeMs>(std::llround(static_cast<double>(wall() - origin) * rate));
  };
}

}  // namespace oee::server
