#include "oee/core/state.h"

#include <array>
#include <bit>

#include "oee/core/event.h"

namespace oee {

namespace {
constexpr std::array<std::string_view, kStateCount> kStateNames = {
    "running", "stopped", "setup", "starved", "blocked", "planned_stop", "unknown"};
}

std::string_view state_name(State s) { return kStateNames[static_cast<std::size_t>(s)]; }

std::optional<State> parse_state(std::string_view name) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i)
    if (kStateNames[i] == name && i != static_cast<std::size_t>(State::unknown)) return static_cast<State>(i);
  return std::nullopt;
}

std::string_view event_type_name(EventType t) {
  switch (t) {
    case EventType::state: return "state";
    case EventType::count: return "count";
    case EventType::counter: return "counter";
    case EventType::product: return "product";
    case EventType::reason: return "reason";
    case EventType::sample: return "sample";
    case EventType::heartbeat: return "heartbeat";
    case EventType::run: return "run";
    case EventType::correction: return "correction";
  }
  return "?";
}

std::string_view counter_name(CounterName c) {
  switch (c) {
    case CounterName::total: return "total";
    case CounterName::good: return "good";
    case CounterName::reject: return "reject";
  }
  return "?";
}

namespace {
// FNV-1a over the fields, with separators so that field boundaries count.
struct Fingerprint {
  std::uint64_t h = 1469598103934665603ULL;
  void bytes(const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ULL;
  }
  void str(std::string_view s) {
    const std::uint64_t n = s.size();
    bytes(&n, sizeof n);
    bytes(s.data(), s.size());
  }
  void num(std::int64_t v) { bytes(&v, sizeof v); }
};
}  // namespace

std::uint64_t content_fingerprint(const Event& e) {
  Fingerprint f;
  f.num(e.ts);
  f.num(static_cast<std::int64_t>(e.type));
  switch (e.type) {
    case EventType::state: f.str(e.state); f.str(e.reason); break;
    case EventType::count: f.num(e.good); f.num(e.reject); break;
    case EventType::counter: f.num(static_cast<std::int64_t>(e.counter)); f.num(e.value); f.num(e.rollover); break;
    case EventType::product: f.str(e.product); break;
    case EventType::reason: f.str(e.reason); f.num(e.at); break;
    case EventType::sample: f.str(e.sample_name); f.num(std::bit_cast<std::int64_t>(e.sample_value)); break;
    case EventType::heartbeat: break;
    case EventType::run:
      f.num(static_cast<std::int64_t>(e.run_action)); f.str(e.run); f.str(e.product); f.num(e.quantity);
      f.num(e.run_cycle_us);
      break;
    case EventType::correction:
      f.num(static_cast<std::int64_t>(e.correction)); f.num(e.at); f.num(e.until); f.str(e.state); f.str(e.reason);
      f.num(e.reject); f.num(static_cast<std::int64_t>(e.counter)); f.str(e.by); f.str(e.why);
      break;
  }
  // Mix the final bits so nearby inputs spread (splitmix64 finaliser).
  std::uint64_t x = f.h;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

int event_type_rank(EventType t) {
  switch (t) {
    case EventType::product: return 0;
    case EventType::state: return 1;
    case EventType::counter: return 2;
    case EventType::count: return 3;
    case EventType::reason: return 4;
    case EventType::sample: return 5;
    case EventType::heartbeat: return 6;
    case EventType::run: return 7;
    case EventType::correction: return 8;
  }
  return 8;
}

CanonicalOrderKey canonical_order_key(const Event& e) {
  const std::uint64_t fp = content_fingerprint(e);
  return {e.ts, event_type_rank(e.type), fp, e.has_identity() ? identity_key(e) : fp};
}

std::uint64_t identity_key(const Event& e) {
  if (!e.has_identity()) return content_fingerprint(e);
  Fingerprint f;
  f.str(e.src);
  f.num(e.seq);
  if (!e.inc.empty()) f.str(e.inc);  // so that events of sources without incarnations keep their keys
  return f.h | 1;  // never collides with the "no identity" marker 0
}

}  // namespace oee
