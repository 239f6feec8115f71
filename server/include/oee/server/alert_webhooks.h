#pragma once
// Sends each alert change to the plant file's webhooks: an HTTP POST of its JSON, signed with
// HMAC-SHA256 of the body under the webhook's secret (header X-Oee-Signature: sha256=<hex>),
// retried on failure (no answer or not 2xx) with a backoff doubling from first_backoff_ms up to
// max_backoff_ms, at most max_attempts times. A background thread does it: alerts never wait.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "oee/core/alert.h"
#include "oee/plant/alert_notifications.h"
#include "oee/server/plant_service.h"

namespace oee::server {

// "sha256=" + the lowercase hex HMAC-SHA256 of `body` under `secret`.
std::string webhook_signature(const std::string& secret, const std::string& body);

class AlertWebhooks {
 public:
  struct Backoff {
    DurationMs first_ms = 2000, max_ms = 60'000;
  };
  AlertWebhooks(std::vector<plant::WebhookTarget> targets, Backoff backoff, Clock clock = system_clock_ms);
  ~AlertWebhooks();
  AlertWebhooks(const AlertWebhooks&) = delete;
  AlertWebhooks& operator=(const AlertWebhooks&) = delete;

  void send(const AlertChange& change);  // queues one delivery per webhook
  void start();
  void stop();  // drops what is still queued
  std::size_t delivered() const;  // deliveries answered 2xx
  std::size_t given_up() const;   // deliveries dropped after max_attempts

 private:
  struct Delivery {
    std::size_t target = 0;
    std::string body;
    int attempts = 0;
    TimeMs due = 0;
  };
  void run();
  bool attempt(const Delivery& d) const;  // true when answered 2xx

  std::vector<plant::WebhookTarget> targets_;
  Backoff backoff_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Delivery> queue_;
  std::size_t delivered_ = 0, given_up_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace oee::server
