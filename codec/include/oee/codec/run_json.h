#pragma once
// The JSON shape of a production run's report (docs/api.md, "Runs"), for `oee replay --by run`.
#include <span>
#include <string>

#include "oee/codec/json_writer.h"
#include "oee/core/production_run.h"

namespace oee::codec {

// Appends a JSON array of run reports; instants in RFC 3339 at the given UTC offset, times in
// seconds, absent figures (an open end, no expected finish, no changeover) as null.
void append_run_reports_json(std::string& out, std::span<const RunReport> reports, std::int64_t utc_offset_ms);

}  // namespace oee::codec
