#include "oee/api/stale_responses.h"

namespace oee::api {

namespace {
std::size_t cost(const std::string& key, const server::HttpResponse& r) { return key.size() + r.body.size(); }
}  // namespace

void StaleResponses::keep(const std::string& key, const server::HttpResponse& response, TimeMs now) {
  if (cost(key, response) > bytes_max_) return;
  std::lock_guard lock(mutex_);
  if (const auto it = by_key_.find(key); it != by_key_.end()) {
    Entry& e = *it->second;
    recent_.splice(recent_.begin(), recent_, it->second);
    if (now - e.kept_at < kMsPerSecond && now >= e.kept_at) return;
    bytes_ += cost(key, response) - cost(key, e.response);
    e.response = response;
    e.kept_at = now;
  } else {
    recent_.push_front(Entry{key, response, now});
    by_key_.emplace(key, recent_.begin());
    bytes_ += cost(key, response);
  }
  evict_while_over();
}

std::optional<server::HttpResponse> StaleResponses::find(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto it = by_key_.find(key);
  if (it == by_key_.end()) return std::nullopt;
  recent_.splice(recent_.begin(), recent_, it->second);
  return it->second->response;
}

std::size_t StaleResponses::size() const {
  std::lock_guard lock(mutex_);
  return recent_.size();
}

std::size_t StaleResponses::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

void StaleResponses::evict_while_over() {
  while (!recent_.empty() && (recent_.size() > entries_max_ || bytes_ > bytes_max_)) {
    const Entry& last = recent_.back();
    bytes_ -= cost(last.key, last.response);
    by_key_.erase(last.key);
    recent_.pop_back();
  }
}

}  // namespace oee::api
