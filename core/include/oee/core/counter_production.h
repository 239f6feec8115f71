#pragma once
// Parts made, from cumulative PLC counters (docs/oee-model.md, "Counts"). Each counter's
// increment comes from its readings (the first is a baseline; a decrease is a rollover when it is
// plausible, else a reset). The increments of one instant become good and reject parts once:
// `good` and `reject` counters are authoritative; `total` only fills in what they do not cover,
// and where both are present it is a check. What does not add up is reported, never chosen
// silently.
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "oee/core/event.h"
#include "oee/core/time.h"

namespace oee {

enum class DataQualityKind : std::uint8_t {
  counter_mismatch,  // total's increment differs from good + reject (or would make parts negative)
  counter_reset,     // a decrease read as a reset: as a rollover it meant implausibly many parts
  out_of_range,      // a count or counter value beyond kMaxCount (or negative): left out
};
std::string_view data_quality_kind_name(DataQualityKind k);

struct DataQualityIssue {
  TimeMs ts = 0;
  DataQualityKind kind = DataQualityKind::counter_mismatch;
  CounterName counter = CounterName::total;  // the counter concerned (mismatch: total)
  // counter_mismatch: total's increment - (good + reject) at the instant; counter_reset: the
  // increment a rollover would have meant; out_of_range: the offending value.
  std::int64_t amount = 0;
  bool operator==(const DataQualityIssue&) const = default;
};

// Whether a count or counter event's numbers are within kMaxCount (count_bounds.h). The codec
// rejects the others; the engine leaves out those that arrive by another path.
bool counts_within_bounds(const Event& e);
// The offending number of an event that is not within bounds.
std::int64_t out_of_range_value(const Event& e);

struct PartIncrement {
  std::int64_t good = 0;
  std::int64_t reject = 0;
};

class CounterProduction {
 public:
  // first_reading_ts: the instant of each counter's first reading among the machine's events
  // (kTimeMax: never read). A counter takes part from the instant after its first reading on.
  explicit CounterProduction(const std::array<TimeMs, 3>& first_reading_ts) : first_reading_ts_(first_reading_ts) {}

  // One reading at instant `e.ts` (readings come in time order); `cycle_us` is the ideal cycle of
  // the product in effect, which bounds a plausible rollover.
  void read(const Event& e, std::int64_t cycle_us, std::vector<DataQualityIssue>& issues);
  // The parts of the readings given since the last call, all at instant `ts`.
  PartIncrement finish_instant(TimeMs ts, std::vector<DataQualityIssue>& issues);

 private:
  struct Track {
    bool seen = false;
    TimeMs ts = 0;
    std::int64_t last = 0;
  };
  std::array<TimeMs, 3> first_reading_ts_;
  std::array<Track, 3> tracks_;
  std::array<std::int64_t, 3> delta_{};  // this instant's increment of each counter
};

}  // namespace oee
