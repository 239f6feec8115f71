#pragma once
// The stores' columns of KPI totals, derived from OEE_KPI_FIELDS (core/kpi.h) as SQL string literals
// (SQLite and PostgreSQL share the syntax). Released migrations keep their own literal column lists:
// they describe the tables as they were then.
#include "oee/core/kpi.h"

#define OEE_KPI_COLUMN_NAME(name, json_key, json_unit) #name
#define OEE_KPI_COLUMN_SUM(name, json_key, json_unit) "sum(" #name ")"
#define OEE_KPI_COLUMN_SUM0(name, json_key, json_unit) "coalesce(sum(" #name "),0)"
#define OEE_KPI_COLUMN_PARAM(name, json_key, json_unit) "?"

// "all_ms, unknown_ms, ...": the columns in table order.
#define OEE_KPI_COLUMNS OEE_KPI_FIELDS(OEE_KPI_COLUMN_NAME, ", ")
// "sum(all_ms), ...", and with coalesce(..., 0) for sums over no rows.
#define OEE_KPI_SUMS OEE_KPI_FIELDS(OEE_KPI_COLUMN_SUM, ", ")
#define OEE_KPI_SUMS_OR_ZERO OEE_KPI_FIELDS(OEE_KPI_COLUMN_SUM0, ", ")
// "?,?,...": SQLite parameters numbered on from the last explicit one (?2 then ? is ?3).
#define OEE_KPI_PARAMS OEE_KPI_FIELDS(OEE_KPI_COLUMN_PARAM, ",")
