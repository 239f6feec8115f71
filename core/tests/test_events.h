#pragma once
// Event builders shared by the engine's tests.
#include "oee/core/event.h"

namespace oee {

inline Event counter(TimeMs ts, CounterName name, std::int64_t value, std::int64_t rollover = 0) {
  Event e;
  e.ts = ts;
  e.type = EventType::counter;
  e.counter = name;
  e.value = value;
  e.rollover = rollover;
  return e;
}

}  // namespace oee
