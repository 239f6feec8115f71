#include "oee/server/alert_email.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "oee/server/alert_json.h"
#include "oee/server/log.h"
#include "tcp_client.h"

namespace oee::server {

namespace {

constexpr DurationMs kTimeoutMs = 10'000;

std::string change_line(const AlertChange& c) {
  const Alert& a = c.alert;
  std::string line = std::string(alert_transition_name(c.transition)) + ": " + a.rule + " (" +
                     std::string(alert_kind_name(a.kind)) + ") on " + a.subject + ", fired " + format_rfc3339(a.fired_ts);
  if (a.resolved_ts) line += ", resolved " + format_rfc3339(*a.resolved_ts);
  // Resolved without its condition ending: the plant file lost its rule or its subject.
  if (a.resolved_ts && a.resolution != AlertResolution::cleared) line += " (" + std::string(alert_resolution_name(a.resolution)) + ")";
  if (!a.acknowledged_by.empty()) line += ", acknowledged by " + a.acknowledged_by;
  return line;
}

// Reads an SMTP reply (its continuation lines too) and checks its code; its lines.
std::vector<std::string> expect_reply(TcpClient& c, char first_digit, const char* step) {
  std::vector<std::string> lines;
  do {
    lines.push_back(c.read_line());
  } while (lines.back().size() > 3 && lines.back()[3] == '-');
  const std::string& last = lines.back();
  if (last.empty() || last[0] != first_digit) throw std::runtime_error(std::string("SMTP ") + step + ": " + last);
  return lines;
}

// Whether an EHLO reply ("250-STARTTLS", …) lists the extension.
bool offers(const std::vector<std::string>& ehlo, std::string_view extension) {
  return std::any_of(ehlo.begin() + 1, ehlo.end(), [&](const std::string& line) {
    std::string name = line.substr(std::min<std::size_t>(4, line.size()));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    return name == extension;
  });
}

// STARTTLS as the target says; a password is only ever sent over TLS.
void secure(TcpClient& c, const plant::EmailTarget& t, const std::vector<std::string>& ehlo) {
  using Mode = plant::EmailTarget::StartTls;
  const bool offered = offers(ehlo, "STARTTLS");
  if (t.starttls == Mode::required && !offered) throw std::runtime_error("SMTP: the server does not offer STARTTLS (starttls: required)");
  if (t.starttls != Mode::never && offered) {
    c.send("STARTTLS\r\n");
    expect_reply(c, '2', "STARTTLS");
    c.start_tls(t.smtp_host, t.ca_file);
    c.send("EHLO oee\r\n");  // the extensions offered before TLS are forgotten (RFC 3207)
    expect_reply(c, '2', "EHLO over TLS");
  }
  if (!t.username.empty() && !c.tls())
    throw std::runtime_error("SMTP: the server does not offer STARTTLS: AUTH in clear text refused");
}

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string message(const plant::EmailTarget& t, const std::vector<std::string>& lines) {
  std::string to;
  for (const auto& r : t.to) to += (to.empty() ? "" : ", ") + r;
  std::string m = "From: " + t.from + "\r\nTo: " + to + "\r\nSubject: [OEE] " + std::to_string(lines.size()) +
                  " alert change" + (lines.size() == 1 ? "" : "s") + ": " + lines.front() +
                  "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
  // Dot-stuffing: a body line starting with '.' must not end the DATA.
  for (const auto& l : lines) m += (l.starts_with('.') ? "." : "") + l + "\r\n";
  return m;
}

}  // namespace

AlertEmail::AlertEmail(std::vector<plant::EmailTarget> targets, Clock clock)
    : targets_(std::move(targets)), clock_(std::move(clock)), outboxes_(targets_.size()) {}

AlertEmail::~AlertEmail() { stop(); }

void AlertEmail::send(const AlertChange& change) {
  const std::string line = change_line(change);
  {
    std::lock_guard lock(mutex_);
    for (Outbox& o : outboxes_) o.lines.push_back(line);
  }
  wake_.notify_all();
}

void AlertEmail::start() {
  if (!thread_.joinable() && !targets_.empty()) thread_ = std::thread([this] { run(); });
}

void AlertEmail::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::size_t AlertEmail::mails_sent() const {
  std::lock_guard lock(mutex_);
  return sent_;
}

void AlertEmail::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    TimeMs next_due = kTimeMax;
    for (std::size_t i = 0; i < targets_.size() && !stopping_; ++i) {
      Outbox& o = outboxes_[i];
      if (o.lines.empty()) continue;
      const TimeMs due = o.last_sent == kTimeMin ? kTimeMin : o.last_sent + targets_[i].min_interval_ms;
      if (due > clock_()) {
        next_due = std::min(next_due, due);
        continue;
      }
      std::vector<std::string> lines = std::move(o.lines);
      o.lines.clear();
      o.last_sent = clock_();  // a failed try counts too: a down server is not hammered
      lock.unlock();
      bool ok = true;
      try {
        deliver(targets_[i], lines);
      } catch (const std::exception& e) {
        ok = false;
        log_line("warn", "alert e-mail failed", {{"email", std::to_string(i)}, {"error", e.what()}});
      }
      lock.lock();
      if (ok) ++sent_;
      else o.lines.insert(o.lines.begin(), lines.begin(), lines.end());
      if (!o.lines.empty()) next_due = std::min(next_due, o.last_sent + targets_[i].min_interval_ms);
    }
    if (stopping_) break;
    if (next_due == kTimeMax) wake_.wait(lock);
    else wake_.wait_for(lock, std::chrono::milliseconds(std::max<DurationMs>(1, next_due - clock_())));
  }
}

void AlertEmail::deliver(const plant::EmailTarget& t, const std::vector<std::string>& lines) const {
  TcpClient c(t.smtp_host, t.smtp_port, kTimeoutMs);
  expect_reply(c, '2', "greeting");
  c.send("EHLO oee\r\n");
  secure(c, t, expect_reply(c, '2', "EHLO"));
  if (!t.username.empty()) {
    c.send("AUTH PLAIN " + base64(std::string(1, '\0') + t.username + std::string(1, '\0') + t.password) + "\r\n");
    expect_reply(c, '2', "AUTH");
  }
  c.send("MAIL FROM:<" + t.from + ">\r\n");
  expect_reply(c, '2', "MAIL FROM");
  for (const auto& r : t.to) {
    c.send("RCPT TO:<" + r + ">\r\n");
    expect_reply(c, '2', "RCPT TO");
  }
  c.send("DATA\r\n");
  expect_reply(c, '3', "DATA");
  c.send(message(t, lines) + ".\r\n");
  expect_reply(c, '2', "message");
  c.send("QUIT\r\n");
}

}  // namespace oee::server
