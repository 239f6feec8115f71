#pragma once
// A fresh directory for one test (mkdtemp under the system's temp dir), removed at its end.
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace oee::edge::testing {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "oee-queue-") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace oee::edge::testing
