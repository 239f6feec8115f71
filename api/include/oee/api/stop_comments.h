#pragma once
// Comments operators add to stops, kept in the server's own SQLite file (not events: they explain,
// they do not change a figure). A stop is named by its machine and its start.
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "oee/core/time.h"

namespace oee::api {

struct StopComment {
  std::int64_t id = 0;
  std::string machine;
  TimeMs stop_start = 0;
  TimeMs created = 0;
  std::string author;
  std::string text;
};

class StopComments {
 public:
  explicit StopComments(const std::string& sqlite_path);
  ~StopComments();
  std::int64_t add(std::string_view machine, TimeMs stop_start, TimeMs created, std::string_view author, std::string_view text);
  // Comments of a machine's stops starting in [from, to), oldest first.
  std::vector<StopComment> of_machine(std::string_view machine, TimeMs from, TimeMs to);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oee::api
