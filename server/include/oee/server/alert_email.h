#pragma once
// Mails alert changes over SMTP, rate limited: at most one mail per target per min_interval_ms;
// the changes of the meantime go together into the next one. A failed mail keeps its changes for
// the next try (at the next interval). A background thread does it.
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "oee/core/alert.h"
#include "oee/plant/alert_notifications.h"
#include "oee/server/plant_service.h"

namespace oee::server {

class AlertEmail {
 public:
  AlertEmail(std::vector<plant::EmailTarget> targets, Clock clock = system_clock_ms);
  ~AlertEmail();
  AlertEmail(const AlertEmail&) = delete;
  AlertEmail& operator=(const AlertEmail&) = delete;

  void send(const AlertChange& change);
  void start();
  void stop();
  std::size_t mails_sent() const;

 private:
  struct Outbox {
    std::vector<std::string> lines;  // one per change, waiting for the next mail
    TimeMs last_sent = kTimeMin;
  };
  void run();
  void deliver(const plant::EmailTarget& t, const std::vector<std::string>& lines) const;  // throws

  std::vector<plant::EmailTarget> targets_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Outbox> outboxes_;  // per target
  std::size_t sent_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace oee::server
