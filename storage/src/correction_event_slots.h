#pragma once
// A correction in a store's row of event columns (PostgreSQL): its state, reason, reject count,
// counter and `at` keep their own slots; its range's end rides in the value slot, its kind in the
// rollover slot and who and why in the product slot (the length of `by`, a colon, `by`, `why`),
// as a run's fields do (run_event_slots.h): no schema change. The block codec writes them itself.
#include <charconv>
#include <string>

#include "oee/core/event.h"

namespace oee::storage {

inline Event correction_in_slots(const Event& e) {
  Event s = e;
  s.value = e.until;
  s.rollover = static_cast<std::int64_t>(e.correction);
  s.product = std::to_string(e.by.size()) + ":" + e.by + e.why;
  return s;
}

inline void correction_from_slots(Event& e) {
  e.until = e.value;
  e.correction = static_cast<CorrectionKind>(e.rollover);
  std::size_t by_size = 0;
  const std::string& p = e.product;
  const auto colon = p.find(':');
  if (colon != std::string::npos) std::from_chars(p.data(), p.data() + colon, by_size);
  const std::size_t from = colon == std::string::npos ? p.size() : colon + 1;
  by_size = std::min(by_size, p.size() - from);
  e.by = p.substr(from, by_size);
  e.why = p.substr(from + by_size);
  e.product.clear();
  e.value = e.rollover = 0;
}

}  // namespace oee::storage
