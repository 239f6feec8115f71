#pragma once
// The last good answer to each GET (by path and query), served marked stale while storage is
// briefly down. Bounded in answers and in bytes; when full, the least recently used answer (kept or
// served longest ago) goes first. Thread-safe.
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "oee/core/time.h"
#include "oee/server/http.h"

namespace oee::api {

class StaleResponses {
 public:
  StaleResponses(std::size_t entries_max, std::size_t bytes_max) : entries_max_(entries_max), bytes_max_(bytes_max) {}

  // Keeps `response` as the answer to `key`; an answer kept less than a second before `now` stays
  // (hot routes copy their answer at most once a second). A body over bytes_max is not kept.
  void keep(const std::string& key, const server::HttpResponse& response, TimeMs now);
  // The answer kept for `key`, now the most recently used.
  std::optional<server::HttpResponse> find(const std::string& key);
  std::size_t size() const;
  std::size_t bytes() const;

 private:
  struct Entry {
    std::string key;
    server::HttpResponse response;
    TimeMs kept_at = 0;
  };
  void evict_while_over();

  const std::size_t entries_max_, bytes_max_;
  mutable std::mutex mutex_;
  std::list<Entry> recent_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> by_key_;
  std::size_t bytes_ = 0;  // keys and bodies
};

}  // namespace oee::api
