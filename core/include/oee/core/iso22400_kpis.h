#pragma once
// More of ISO 22400-2, derived from the same additive totals as OEE (kpi.h), so they hold for any
// window, bucket or line. The mapping of ISO's time elements onto our states is in docs/oee-model.md
// ("ISO 22400-2 figures"). A figure whose denominator is zero is nullopt.
#include <optional>

#include "oee/core/kpi.h"

namespace oee {

struct Iso22400Figures {
  // NEE: OEE with setup not counted as a loss: (run + setup) / PPT x performance x quality.
  std::optional<double> nee;
  // Setup rate: setup time / (run time + setup time) (ISO: AUST / AUPT).
  std::optional<double> setup_rate;
  // Technical efficiency: run time / (run time + breakdown time) (ISO: APT / (APT + ADET)).
  std::optional<double> technical_efficiency;
  // Scrap ratio: rejects / total count (ISO: SQ / PQ).
  std::optional<double> scrap_ratio;
  // Allocation efficiency: time the unit had work / planned production time; starved and blocked
  // time are time without work (ISO: AUBT / PBT).
  std::optional<double> allocation_efficiency;
  // Throughput rate: total count per hour of planned production time (ISO: PQ / AOET).
  std::optional<double> throughput_per_h;
  // First pass yield: good / total. No rework is recorded, so every good part passed first time.
  std::optional<double> first_pass_yield;
};

Iso22400Figures derive_iso22400(const KpiTotals& t);

}  // namespace oee
