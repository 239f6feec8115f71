#include "oee/server/connection_limits.h"

namespace oee::server {

ConnectionLimits::Slot::Slot(Slot&& other) noexcept : limits_(other.limits_), address_(std::move(other.address_)) {
  other.limits_ = nullptr;
}

ConnectionLimits::Slot& ConnectionLimits::Slot::operator=(Slot&& other) noexcept {
  if (this == &other) return *this;
  if (limits_) limits_->release(address_);
  limits_ = other.limits_;
  address_ = std::move(other.address_);
  other.limits_ = nullptr;
  return *this;
}

ConnectionLimits::Slot::~Slot() {
  if (limits_) limits_->release(address_);
}

std::optional<ConnectionLimits::Slot> ConnectionLimits::admit(const std::string& address) {
  std::lock_guard lock(mutex_);
  if (total_ >= total_max_) return std::nullopt;
  std::size_t& mine = by_address_[address];
  if (mine >= per_address_max_) {
    if (mine == 0) by_address_.erase(address);  // a cap of 0 leaves no entry behind
    return std::nullopt;
  }
  ++mine;
  ++total_;
  return Slot(this, address);
}

std::size_t ConnectionLimits::open() const {
  std::lock_guard lock(mutex_);
  return total_;
}

void ConnectionLimits::release(const std::string& address) {
  std::lock_guard lock(mutex_);
  --total_;
  if (const auto it = by_address_.find(address); it != by_address_.end() && --it->second == 0) by_address_.erase(it);
}

}  // namespace oee::server
