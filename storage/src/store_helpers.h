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

// Why an event older than the retention cut was dead-lettered (both backends say it alike).
inline std::string older_than_retention_reason(TimeMs ts, TimeMs cut) {
  return "older than the retention: the event's time " + format_rfc3339(ts) + " is before the cut at " +
         format_rfc3339(cut) + ", whose history retention already summarised or deleted";
}

// Dead letters of refused events name this topic: the store refused them, whatever brought them.
inline constexpr std::string_view kRetentionLetterTopic = "retention";

}  // namespace oee::storage
