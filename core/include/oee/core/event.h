#pragma once
// The event of the public contract (docs/events.md): what a PLC, the simulator or an edge says
// about one machine at one instant. The same objects travel in .jsonl files and over MQTT.
#include <cstdint>
#include <string>

#include "oee/core/time.h"

namespace oee {

// heartbeat: a sign of life and nothing else (the edge sends one per machine while it reads it).
// run: a production run (work order) starts or ends on the machine (production_run.h).
// correction: a supervisor corrects the machine's history (history_corrections.h); the events it
// corrects stay as they were.
enum class EventType : std::uint8_t { state, count, counter, product, reason, sample, heartbeat, run, correction };
enum class CounterName : std::uint8_t { total, good, reject };
enum class RunAction : std::uint8_t { start, end };
// reclassify: [at, until) gets `state` and/or `reason`; rejects: `reject` good parts counted at
// `at` were bad; void_reading: the `counter` reading at `at` is left out.
enum class CorrectionKind : std::uint8_t { reclassify, rejects, void_reading };

std::string_view event_type_name(EventType t);
std::string_view counter_name(CounterName c);

struct Event {
  TimeMs ts = 0;
  std::string machine;  // node path, e.g. "s1/a1/l1/filler"
  EventType type = EventType::state;
  std::string src;      // source id; with seq, the identity of the event
  std::int64_t seq = -1;  // -1: none
  // The source's incarnation (only with src+seq): a source whose sequence starts again (an edge
  // whose queue was wiped or replaced) gets a new one, so its new events never collide with the
  // old ones. Empty for sources that never restart their sequence.
  std::string inc;

  // type == state: canonical name or a raw value mapped by the machine's `states`.
  std::string state;
  // type == state (optional) or reason: the stop reason.
  std::string reason;
  // type == count: increments.
  std::int64_t good = 0;
  std::int64_t reject = 0;
  // type == counter: cumulative value; rollover 0 means none (a decrease is a reset).
  CounterName counter = CounterName::total;
  std::int64_t value = 0;
  std::int64_t rollover = 0;
  // type == product
  std::string product;
  // type == reason: the instant inside the stop that gets the reason.
  TimeMs at = 0;
  // type == sample: a process value kept as history (an edge tag's reading), by name. The OEE
  // engine ignores samples; the tag history route (GET /api/v1/tags?tag=sample.NAME) reads them.
  std::string sample_name;
  double sample_value = 0;
  // type == run: the order id; with start, the product (in `product`), the planned quantity and
  // the ideal cycle time that overrides the product's for the run (0: none).
  RunAction run_action = RunAction::start;
  std::string run;
  std::int64_t quantity = 0;
  std::int64_t run_cycle_us = 0;
  // type == correction: what it corrects (the instants in `at` and `until`, the rest in the
  // fields above, see CorrectionKind), who made it and why (the audit's words).
  CorrectionKind correction = CorrectionKind::reclassify;
  TimeMs until = 0;
  std::string by;
  std::string why;

  bool has_identity() const { return !src.empty() && seq >= 0; }
  bool operator==(const Event&) const = default;
};

// A 64-bit fingerprint of everything an event says (machine excluded). Events without src+seq are
// identified by it, and it breaks ties deterministically when two events share a timestamp.
std::uint64_t content_fingerprint(const Event& e);
// The identity used for deduplication: src+inc+seq when present, else the content fingerprint.
std::uint64_t identity_key(const Event& e);

// At one instant a product change applies before the counts of that instant, a state change before
// the reasons that name it.
int event_type_rank(EventType t);

// The engine's canonical order of events: time, type rank, content fingerprint, identity. Stores
// that keep events in order use the same key, so their view never differs from the engine's.
struct CanonicalOrderKey {
  TimeMs ts = kTimeMin;
  int rank = 0;
  std::uint64_t fingerprint = 0;
  std::uint64_t identity = 0;
  auto operator<=>(const CanonicalOrderKey&) const = default;
};
CanonicalOrderKey canonical_order_key(const Event& e);

}  // namespace oee
