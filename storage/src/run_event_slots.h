#pragma once
// A run event in a store's row of event columns (PostgreSQL, the resilient store's spill): its order
// id rides in the reason slot, its action in the counter slot, its quantity in the value slot and
// its ideal cycle override in the rollover slot, as a sample rides in value and product: no schema
// change. The block codec (event_block_codec.h) writes the run fields themselves.
#include "oee/core/event.h"

namespace oee::storage {

inline Event run_in_slots(const Event& e) {
  Event s = e;
  s.reason = e.run;
  s.counter = static_cast<CounterName>(e.run_action);
  s.value = e.quantity;
  s.rollover = e.run_cycle_us;
  return s;
}

inline void run_from_slots(Event& e) {
  e.run = std::move(e.reason);
  e.reason.clear();
  e.run_action = e.counter == CounterName::total ? RunAction::start : RunAction::end;
  e.counter = CounterName::total;
  e.quantity = e.value;
  e.run_cycle_us = e.rollover;
  e.value = e.rollover = 0;
}

}  // namespace oee::storage
