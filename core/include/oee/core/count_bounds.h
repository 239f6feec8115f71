#pragma once
// Bounds on part counts and counter readings, and the saturating arithmetic that keeps the
// engine's sums defined whatever reaches it.
//
// Why 2^40: it is about 35 years of a machine making 1,000 parts a second, far beyond any PLC
// counter in use (16-, 32-bit words, or 48-bit at most in practice), yet small enough that a
// counter increment (value + rollover - previous < 2^41) and the sum of a few million of them stay
// far from 2^63. Ideal time multiplies counts by cycle times of up to 10^6 s (10^12 us, < 2^40),
// which can exceed 2^63 for absurd counts: those products and the sums of totals saturate instead
// of overflowing, so a corrupt value can make a figure wrong but never undefined.
#include <cstdint>
#include <limits>

namespace oee {

// Largest increment of a `count` event field, counter value and counter rollover (inclusive).
inline constexpr std::int64_t kMaxCount = std::int64_t{1} << 40;

inline std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}

inline std::int64_t saturating_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (!__builtin_mul_overflow(a, b, &r)) return r;
  return (a < 0) != (b < 0) ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
}

}  // namespace oee
