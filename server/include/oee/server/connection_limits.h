#pragma once
// How many connections the server holds at once, in total and per client address: one client (or
// many) cannot take every socket of the server. A connection over either cap is refused before its
// request is read (HttpServer answers it 503 with Retry-After).
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace oee::server {

class ConnectionLimits {
 public:
  ConnectionLimits(std::size_t total_max, std::size_t per_address_max)
      : total_max_(total_max), per_address_max_(per_address_max) {}
  ConnectionLimits(const ConnectionLimits&) = delete;
  ConnectionLimits& operator=(const ConnectionLimits&) = delete;

  // A connection's place, given back when destroyed; it moves with the connection (e.g. into the
  // WebSocket an HTTP connection becomes).
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    ~Slot();

   private:
    friend class ConnectionLimits;
    Slot(ConnectionLimits* limits, std::string address) : limits_(limits), address_(std::move(address)) {}
    ConnectionLimits* limits_ = nullptr;
    std::string address_;
  };

  // A place for a connection from `address`, or nullopt when either cap is reached.
  std::optional<Slot> admit(const std::string& address);
  std::size_t open() const;

 private:
  void release(const std::string& address);

  const std::size_t total_max_, per_address_max_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> by_address_;
};

}  // namespace oee::server
