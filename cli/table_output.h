#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "oee/core/plant_history.h"

namespace oee::cli {

// A table for people: one row per bucket, ratios as percentages.
void print_kpi_table(std::FILE* to, const std::vector<NodeKpis>& rows, const std::string& node, const TimeZone& zone);

}  // namespace oee::cli
