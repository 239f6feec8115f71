#pragma once
// Where the plant file's alerts are sent (`alerts.webhooks`, `alerts.email`). URLs, secrets and
// passwords live here and nowhere else: never logged (describe() leaves them out).
#include <cstdint>
#include <string>
#include <vector>

namespace oee::plant {

struct WebhookTarget {
  std::string url;     // http://host[:port]/path or https://host[:port]/path
  std::string ca_file;  // https: the CAs (PEM) the server's certificate must chain to; empty: the system's
  std::string secret;  // HMAC-SHA256 key of the X-Oee-Signature header; empty: unsigned
  int max_attempts = 5;  // retries with backoff 2 s, 4 s, … up to 60 s between attempts
};

struct EmailTarget {
  std::string smtp_host;
  int smtp_port = 25;
  std::string from;
  std::vector<std::string> to;
  std::string username, password;  // AUTH PLAIN when username is set, only ever over TLS
  // STARTTLS: `auto` uses it when the server offers it, `required` fails a mail when it does not,
  // `never` sends in clear text (and then a username is refused). Over TLS the certificate must
  // chain to ca_file (empty: the system's CAs) and name smtp_host.
  enum class StartTls : std::uint8_t { auto_, required, never } starttls = StartTls::auto_;
  std::string ca_file;
  std::int64_t min_interval_ms = 300'000;  // at most one mail per interval; the rest are summed up
};

struct AlertNotifications {
  std::vector<WebhookTarget> webhooks;
  std::vector<EmailTarget> emails;
};

}  // namespace oee::plant
