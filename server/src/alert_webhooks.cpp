#include "oee/server/alert_webhooks.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "oee/server/alert_json.h"
#include "oee/server/log.h"
#include "tcp_client.h"

namespace oee::server {

namespace {
constexpr DurationMs kTimeoutMs = 10'000;
}  // namespace

std::string webhook_signature(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), mac, &size);
  static const char* kHex = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xf];
  }
  return out;
}

AlertWebhooks::AlertWebhooks(std::vector<plant::WebhookTarget> targets, Backoff backoff, Clock clock)
    : targets_(std::move(targets)), backoff_(backoff), clock_(std::move(clock)) {}

AlertWebhooks::~AlertWebhooks() { stop(); }

void AlertWebhooks::send(const AlertChange& change) {
  const std::string body = alert_change_json(change);
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < targets_.size(); ++i) queue_.push_back({i, body, 0, 0});
  }
  wake_.notify_all();
}

void AlertWebhooks::start() {
  if (!thread_.joinable() && !targets_.empty()) thread_ = std::thread([this] { run(); });
}

void AlertWebhooks::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::size_t AlertWebhooks::delivered() const {
  std::lock_guard lock(mutex_);
  return delivered_;
}

std::size_t AlertWebhooks::given_up() const {
  std::lock_guard lock(mutex_);
  return given_up_;
}

void AlertWebhooks::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto next = std::min_element(queue_.begin(), queue_.end(), [](const Delivery& a, const Delivery& b) { return a.due < b.due; });
    if (next == queue_.end()) {
      wake_.wait(lock);
      continue;
    }
    const TimeMs now = clock_();
    if (next->due > now) {
      wake_.wait_for(lock, std::chrono::milliseconds(next->due - now));
      continue;
    }
    Delivery d = std::move(*next);
    queue_.erase(next);
    lock.unlock();
    const bool ok = attempt(d);
    lock.lock();
    ++d.attempts;
    if (ok) {
      ++delivered_;
    } else if (d.attempts >= targets_[d.target].max_attempts) {
      ++given_up_;
      // The URL may carry a token: the webhook is named by its place in the plant file only.
      log_line("warn", "alert webhook given up", {{"webhook", std::to_string(d.target)}, {"attempts", std::to_string(d.attempts)}});
    } else {
      const DurationMs wait = std::min(backoff_.max_ms, backoff_.first_ms << std::min(d.attempts - 1, 20));
      d.due = clock_() + wait;
      queue_.push_back(std::move(d));
    }
  }
}

bool AlertWebhooks::attempt(const Delivery& d) const {
  const plant::WebhookTarget& t = targets_[d.target];
  HttpUrl url;
  if (!split_http_url(t.url, url)) return false;
  std::string request = "POST " + url.path + " HTTP/1.1\r\nHost: " + url.host + ":" + std::to_string(url.port) +
                        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(d.body.size()) +
                        "\r\nConnection: close\r\n";
  if (!t.secret.empty()) request += "X-Oee-Signature: " + webhook_signature(t.secret, d.body) + "\r\n";
  request += "\r\n" + d.body;
  try {
    TcpClient c(url.host, url.port, kTimeoutMs);
    if (url.https) c.start_tls(url.host, t.ca_file);
    c.send(request);
    const std::string status = c.read_line();  // "HTTP/1.1 200 OK"
    return status.size() >= 12 && status.rfind("HTTP/1.", 0) == 0 && status[9] == '2';
  } catch (const std::exception& e) {
    log_line("warn", "alert webhook failed", {{"webhook", std::to_string(d.target)}, {"error", e.what()}});
    return false;
  }
}

}  // namespace oee::server
