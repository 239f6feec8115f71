#pragma once
// Helpers both event stores (SQLite, PostgreSQL) use; private to storage/.
#include <cstddef>
#include <string>
#include <string_view>

#include "oee/core/time.h"

namespace oee::storage {

// Dead-letter topics and reasons are kept up to this many bytes (payloads: kMaxDeadLetterPayloadBytes).
inline constexpr std::size_t kMaxDeadLetterTextBytes = 1024;

inline TimeMs floor_hour(TimeMs t) { return floor_to(t, kMsPerHour); }
inline TimeMs ceil_to(TimeMs t, DurationMs step) {
  const TimeMs f = floor_to(t, step);
  return f == t ? t : f + step;
}

// `text` cut to `max_bytes`, marked when cut: a poison message must not fill the store.
inline std::string bounded(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::string out(text.substr(0, max_bytes));
  out += "...[truncated " + std::to_string(text.size() - max_bytes) + " bytes]";
  return out;
}

}  // namespace oee::storage
