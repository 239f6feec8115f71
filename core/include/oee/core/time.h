#pragma once
// Instants and durations. Every instant in the platform is an integer count of milliseconds since
// the Unix epoch (UTC): integers keep sums exact, so results are bit-identical whatever the order
// of the additions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oee {

using TimeMs = std::int64_t;
using DurationMs = std::int64_t;

inline constexpr DurationMs kMsPerSecond = 1000;
inline constexpr DurationMs kMsPerMinute = 60 * kMsPerSecond;
inline constexpr DurationMs kMsPerHour = 60 * kMsPerMinute;
inline constexpr DurationMs kMsPerDay = 24 * kMsPerHour;
inline constexpr TimeMs kTimeMin = INT64_MIN / 4;
inline constexpr TimeMs kTimeMax = INT64_MAX / 4;

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
std::int64_t days_from_civil(int year, unsigned month, unsigned day);
void civil_from_days(std::int64_t days, int& year, unsigned& month, unsigned& day);
// 0 = Monday … 6 = Sunday (ISO 8601).
int iso_weekday_from_days(std::int64_t days);

// Parses RFC 3339 ("2026-03-29T01:30:00.250+01:00", "…Z", a space for the T), or an integer of epoch
// milliseconds. Fractions finer than a millisecond are truncated. nullopt when malformed.
std::optional<TimeMs> parse_timestamp(std::string_view text);

// "2026-03-29T00:30:00.250Z"; the fraction only when not zero.
std::string format_rfc3339(TimeMs t);
// With a fixed offset from UTC, e.g. "+02:00".
std::string format_rfc3339(TimeMs t, std::int64_t offset_ms);

// "YYYY-MM-DD" -> days since epoch.
std::optional<std::int64_t> parse_civil_date(std::string_view text);
std::string format_civil_date(std::int64_t days);

inline constexpr TimeMs floor_to(TimeMs t, DurationMs step) {
  const TimeMs q = t / step;
  return (t % step < 0 ? q - 1 : q) * step;
}

}  // namespace oee
