#pragma once
#include <optional>

namespace oee {

// A KPI ratio: nullopt when its denominator is zero (the figure is undefined, written as null).
inline std::optional<double> ratio(double num, double den) {
  if (den <= 0) return std::nullopt;
  return num / den;
}

}  // namespace oee
