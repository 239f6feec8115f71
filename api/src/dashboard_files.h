#pragma once
// The dashboard's static files (web/static), compiled into the binary so `oee serve` needs no
// files beside it.
#include <string_view>
#include <vector>

namespace oee::api {

struct DashboardFile {
  std::string_view path;  // "/app.js"
  std::string_view content;
};
const std::vector<DashboardFile>& dashboard_files();

}  // namespace oee::api
