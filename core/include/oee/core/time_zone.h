#pragma once
// A time zone as the engine needs it. The core has no I/O: the implementation backed by the
// system tz database lives in plant/ (oee_plant); FixedOffsetZone serves tests and UTC.
#include <cstdint>
#include <memory>
#include <string>

#include "oee/core/time.h"

namespace oee {

class TimeZone {
 public:
  virtual ~TimeZone() = default;
  // local wall time = utc + offset
  virtual std::int64_t offset_ms_at(TimeMs utc) const = 0;
  // The UTC instant of a local wall-clock time (ms since the local epoch). A wall time inside a
  // spring-forward gap maps to the end of the gap; one inside a fall-back overlap to its first
  // occurrence.
  virtual TimeMs to_utc(std::int64_t local_ms) const = 0;
  virtual std::string name() const = 0;
};

class FixedOffsetZone final : public TimeZone {
 public:
  explicit FixedOffsetZone(std::int64_t offset_ms = 0, std::string name = "UTC")
      : offset_ms_(offset_ms), name_(std::move(name)) {}
  std::int64_t offset_ms_at(TimeMs) const override { return offset_ms_; }
  TimeMs to_utc(std::int64_t local_ms) const override { return local_ms - offset_ms_; }
  std::string name() const override { return name_; }

 private:
  std::int64_t offset_ms_;
  std::string name_;
};

}  // namespace oee
