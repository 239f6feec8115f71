#include "oee/transport/mqtt_subscriber.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "reconnect_backoff.h"

namespace oee::transport {
namespace {

using Clock = std::chrono::steady_clock;

// MQTT 3.1.1 packet types (high nibble of the fixed header).
constexpr std::uint8_t kConnect = 1, kConnack = 2, kPublish = 3, kPuback = 4, kSubscribe = 8, kSuback = 9,
                       kPingreq = 12, kPingresp = 13, kDisconnect = 14;
constexpr std::size_t kMaxControlPacketBytes = 64 * 1024;  // anything but PUBLISH is tiny

void put_u16(std::string& out, std::size_t v) {
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}
void put_string(std::string& out, std::string_view s) {
  put_u16(out, s.size());
  out.append(s);
}
std::string packet(std::uint8_t header, const std::string& body) {
  std::string p(1, static_cast<char>(header));
  std::size_t n = body.size();
  do {
    std::uint8_t b = n % 128;
    n /= 128;
    if (n > 0) b |= 0x80;
    p.push_back(static_cast<char>(b));
  } while (n > 0);
  return p + body;
}

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// A socket with deadlines, plain or TLS: every read and write gives up when the connection stalls.
// With TLS the socket stays blocking (SO_RCVTIMEO/SO_SNDTIMEO bound each call) and OpenSSL's
// auto-retry is off, so a record that carries no application data (a TLS 1.3 session ticket)
// returns to our poll loop instead of blocking for data that may not come.
class Connection {
 public:
  explicit Connection(int fd) : fd_(fd) {}
  ~Connection() {
    if (ssl_ != nullptr) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
    ::close(fd_);
  }

  // The TLS handshake, the broker's certificate checked against `ctx`'s CAs and, unless
  // `check_host` is false, against `host` (a DNS name or an IP address). Empty: ok, else why not.
  std::string start_tls(SSL_CTX* ctx, const std::string& host, bool check_host) {
    ssl_ = SSL_new(ctx);
    if (ssl_ == nullptr) return openssl_error();
    SSL_clear_mode(ssl_, SSL_MODE_AUTO_RETRY);
    SSL_set_fd(ssl_, fd_);
    in6_addr any{};
    const bool is_ip = ::inet_pton(AF_INET, host.c_str(), &any) == 1 || ::inet_pton(AF_INET6, host.c_str(), &any) == 1;
    if (!is_ip) SSL_set_tlsext_host_name(ssl_, host.c_str());  // SNI takes names only
    if (check_host && SSL_set1_host(ssl_, host.c_str()) != 1) return "cannot check the host name '" + host + "'";
    ERR_clear_error();
    if (SSL_connect(ssl_) != 1) {
      const long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) return std::string("certificate rejected: ") + X509_verify_cert_error_string(verify);
      return "TLS handshake failed: " + openssl_error();
    }
    return {};
  }

  bool send_all(const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n = 0;
      if (ssl_ != nullptr) {
        n = SSL_write(ssl_, data.data() + off, static_cast<int>(std::min<std::size_t>(data.size() - off, 1 << 30)));
        if (n <= 0) {
          const int err = SSL_get_error(ssl_, static_cast<int>(n));
          if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) continue;
          return false;
        }
      } else {
        n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
      }
      off += static_cast<std::size_t>(n);
    }
    last_send_ = Clock::now();
    return true;
  }
  // 1: data ready, 0: timeout (or only TLS housekeeping arrived), -1: error or closed.
  int wait_readable(int timeout_ms) {
    if (pos_ < buf_.size()) return 1;
    return fill(timeout_ms);
  }
  // Reads exactly n bytes into out (appending), waiting up to timeout_ms of silence.
  bool read_exact(std::size_t n, std::string& out, int timeout_ms) {
    while (n > 0) {
      if (pos_ == buf_.size()) {
        const auto until = Clock::now() + std::chrono::milliseconds(timeout_ms);
        int r = 0;
        while ((r = fill(timeout_ms)) == 0 && Clock::now() < until) {
        }
        if (r <= 0) return false;
      }
      const std::size_t take = std::min(n, buf_.size() - pos_);
      out.append(buf_.data() + pos_, take);
      pos_ += take;
      n -= take;
    }
    last_receive_ = Clock::now();
    return true;
  }
  bool skip(std::size_t n, int timeout_ms) {
    std::string scratch;
    while (n > 0) {
      scratch.clear();
      const std::size_t take = std::min<std::size_t>(n, 64 * 1024);
      if (!read_exact(take, scratch, timeout_ms)) return false;
      n -= take;
    }
    return true;
  }
  // Fixed header: type/flags byte and remaining length (at most 4 bytes, < 256 MiB).
  bool read_header(std::uint8_t& first, std::size_t& remaining, int timeout_ms) {
    std::string b;
    if (!read_exact(1, b, timeout_ms)) return false;
    first = static_cast<std::uint8_t>(b[0]);
    remaining = 0;
    for (int i = 0, shift = 0; i < 4; ++i, shift += 7) {
      b.clear();
      if (!read_exact(1, b, timeout_ms)) return false;
      const auto byte = static_cast<std::uint8_t>(b[0]);
      remaining |= static_cast<std::size_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;  // malformed length
  }
  Clock::time_point last_send() const { return last_send_; }
  Clock::time_point last_receive() const { return last_receive_; }

 private:
  // Refills the (consumed) buffer: 1 data, 0 nothing yet, -1 error or closed.
  int fill(int timeout_ms) {
    buf_.resize(64 * 1024);
    pos_ = 0;
    const bool buffered = ssl_ != nullptr && SSL_has_pending(ssl_) == 1;
    if (!buffered) {
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, timeout_ms);
      if (r <= 0) {
        buf_.clear();
        return r < 0 && errno != EINTR ? -1 : 0;
      }
    }
    ssize_t n = 0;
    if (ssl_ != nullptr) {
      n = SSL_read(ssl_, buf_.data(), static_cast<int>(buf_.size()));
      if (n <= 0) {
        buf_.clear();
        const int err = SSL_get_error(ssl_, static_cast<int>(n));
        return err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ? 0 : -1;
      }
    } else {
      n = ::recv(fd_, buf_.data(), buf_.size(), 0);
      if (n <= 0) {
        buf_.clear();
        return n < 0 && errno == EINTR ? 0 : -1;
      }
    }
    buf_.resize(static_cast<std::size_t>(n));
    return 1;
  }

  int fd_;
  SSL* ssl_ = nullptr;
  std::string buf_;
  std::size_t pos_ = 0;
  Clock::time_point last_send_ = Clock::now();
  Clock::time_point last_receive_ = Clock::now();
};

int connect_tcp(const BrokerAddress& b, int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(b.host.c_str(), std::to_string(b.port).c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);  // bounds a TLS record that stalls halfway
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd >= 0) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

// The TLS context of every connection: the CAs that may sign the broker's certificate (the
// system's when no file is given) and the optional client certificate. Throws when a file is bad.
std::shared_ptr<ssl_ctx_st> make_tls_context(const MqttTlsOptions& tls) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) throw std::invalid_argument("mqtt: TLS: " + openssl_error());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  const bool loaded = tls.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx.get()) == 1
                                          : SSL_CTX_load_verify_locations(ctx.get(), tls.ca_file.c_str(), nullptr) == 1;
  if (!loaded) throw std::invalid_argument("mqtt: TLS CA file '" + tls.ca_file + "': " + openssl_error());
  if (tls.cert_file.empty() != tls.key_file.empty())
    throw std::invalid_argument("mqtt: TLS: a client certificate needs both a certificate and a key file");
  if (!tls.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert_file.c_str()) != 1)
      throw std::invalid_argument("mqtt: TLS certificate file '" + tls.cert_file + "': " + openssl_error());
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1)
      throw std::invalid_argument("mqtt: TLS key file '" + tls.key_file + "': " + openssl_error());
  }
  return ctx;
}

}  // namespace

AckingSubscriber::AckingSubscriber(MqttOptions options, Handler handler, std::size_t max_payload_bytes,
                                   std::size_t max_batch_messages, std::size_t max_batch_bytes)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      max_payload_bytes_(max_payload_bytes),
      max_batch_messages_(std::max<std::size_t>(1, max_batch_messages)),
      max_batch_bytes_(max_batch_bytes) {
  if (options_.brokers.empty()) throw std::invalid_argument("mqtt: no broker given");
  if (options_.client_id.empty() || options_.client_id.size() > 65535) throw std::invalid_argument("mqtt: a stable client id is required");
  for (const auto& url : options_.brokers) {
    std::string error;
    auto b = parse_broker_url(url, error);
    if (!b) throw std::invalid_argument("mqtt: broker '" + url + "': " + error);
    if (b->tls && !tls_context_) tls_context_ = make_tls_context(options_.tls);
    brokers_.push_back(*b);
  }
}

AckingSubscriber::~AckingSubscriber() { stop(); }

void AckingSubscriber::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { run(); });
}

void AckingSubscriber::stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
}

void AckingSubscriber::run() {
  ReconnectBackoff backoff(options_.reconnect_min, options_.reconnect_max);
  std::size_t index = 0;
  while (running_) {
    bool any = false;
    for (std::size_t k = 0; k < brokers_.size() && running_; ++k) {
      const std::size_t i = (index + k) % brokers_.size();
      if (session(brokers_[i])) {  // it was up for a while: start the next round with this broker
        index = i;
        any = true;
        backoff.reset();
        break;
      }
    }
    if (!any && running_) {
      const auto wait = backoff.next();
      std::fprintf(stderr, "mqtt subscriber: no broker reachable; retrying in %lld ms\n", static_cast<long long>(wait.count()));
      const auto until = Clock::now() + wait;
      while (running_ && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

bool AckingSubscriber::session(const BrokerAddress& broker) {
  const int timeout_ms = static_cast<int>(options_.connect_timeout.count());
  const int fd = connect_tcp(broker, timeout_ms);
  if (fd < 0) return false;
  Connection c(fd);
  if (broker.tls) {
    if (const std::string why = c.start_tls(tls_context_.get(), broker.host, !options_.tls.insecure); !why.empty()) {
      std::fprintf(stderr, "mqtt subscriber: %s: %s\n", broker.url().c_str(), why.c_str());
      return false;
    }
  }

  std::string body;
  put_string(body, "MQTT");
  body.push_back(4);  // protocol level 3.1.1
  std::uint8_t flags = options_.clean_session ? 0x02 : 0x00;
  if (!options_.username.empty()) flags |= 0x80;
  if (!options_.username.empty() && !options_.password.empty()) flags |= 0x40;
  body.push_back(static_cast<char>(flags));
  put_u16(body, static_cast<std::size_t>(options_.keepalive_s));
  put_string(body, options_.client_id);
  if (flags & 0x80) put_string(body, options_.username);
  if (flags & 0x40) put_string(body, options_.password);
  if (!c.send_all(packet(kConnect << 4, body))) return false;

  std::uint8_t first = 0;
  std::size_t remaining = 0;
  std::string data;
  if (!c.read_header(first, remaining, timeout_ms) || (first >> 4) != kConnack || remaining != 2 ||
      !c.read_exact(2, data, timeout_ms))
    return false;
  if (data[1] != 0) {
    std::fprintf(stderr, "mqtt subscriber: %s refused the connection (code %d)\n", broker.url().c_str(), data[1]);
    return false;
  }
  if (!options_.subscriptions.empty()) {
    body.clear();
    put_u16(body, 1);
    for (const auto& topic : options_.subscriptions) {
      put_string(body, topic);
      body.push_back(1);  // QoS 1
    }
    if (!c.send_all(packet(static_cast<std::uint8_t>(kSubscribe << 4 | 0x02), body))) return false;
  }
  connected_ = true;
  std::fprintf(stderr, "mqtt subscriber: connected to %s as %s\n", broker.url().c_str(), options_.client_id.c_str());
  const auto keepalive = std::chrono::seconds(options_.keepalive_s);
  // A batch: messages read while more were already waiting; handled, then acknowledged together.
  struct Pending {
    std::string topic, payload;
    std::size_t payload_bytes = 0;
    std::size_t packet_id = 0;
    int qos = 0;
    bool dup = false;
  };
  std::vector<Pending> batch;
  std::size_t batch_bytes = 0;
  auto flush = [&]() -> bool {
    if (batch.empty()) return true;
    std::vector<ReceivedMessage> view;
    view.reserve(batch.size());
    for (const auto& p : batch) view.push_back(ReceivedMessage{p.topic, p.payload, p.payload_bytes, p.dup});
    try {
      handler_(view);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mqtt subscriber: %zu message(s) not handled (%s); reconnecting for redelivery\n",
                   batch.size(), e.what());
      return false;
    }
    messages_ += batch.size();
    for (const auto& p : batch) {
      if (p.qos != 1) continue;
      body.clear();
      put_u16(body, p.packet_id);
      if (!c.send_all(packet(kPuback << 4, body))) return false;  // only now: the messages are committed
    }
    batch.clear();
    batch_bytes = 0;
    return true;
  };
  bool ok = true;
  while (running_ && ok) {
    // Something buffered or waiting right now: keep collecting; otherwise hand over what we have.
    const bool more_now = c.wait_readable(0) == 1;
    if (!more_now || batch.size() >= max_batch_messages_ || batch_bytes >= max_batch_bytes_) {
      if (!flush()) break;
    }
    const int r = more_now ? 1 : c.wait_readable(100);
    if (r < 0) break;
    const auto now = Clock::now();
    if (now - c.last_send() > keepalive / 2 && !c.send_all(packet(kPingreq << 4, ""))) break;
    if (now - c.last_receive() > keepalive * 3 / 2) break;  // the broker went silent
    if (r == 0) continue;
    if (!c.read_header(first, remaining, timeout_ms)) break;
    const std::uint8_t type = first >> 4;
    if (type != kPublish) {
      if (remaining > kMaxControlPacketBytes) break;
      data.clear();
      ok = c.read_exact(remaining, data, timeout_ms);
      if (type == kSuback && data.size() >= 3 && static_cast<std::uint8_t>(data[2]) == 0x80)
        std::fprintf(stderr, "mqtt subscriber: %s refused a subscription\n", broker.url().c_str());
      (void)kPingresp;
      continue;
    }
    Pending p;
    p.qos = (first >> 1) & 0x03;
    p.dup = (first & 0x08) != 0;
    if (p.qos > 1 || remaining < 2) break;  // we subscribe at QoS 1: anything else is a protocol error
    data.clear();
    if (!c.read_exact(2, data, timeout_ms)) break;
    const std::size_t topic_len = (static_cast<std::uint8_t>(data[0]) << 8) | static_cast<std::uint8_t>(data[1]);
    const std::size_t header_len = 2 + topic_len + (p.qos > 0 ? 2 : 0);
    if (header_len > remaining || topic_len > kMaxControlPacketBytes) break;
    if (!c.read_exact(topic_len, p.topic, timeout_ms)) break;
    if (p.qos > 0) {
      data.clear();
      if (!c.read_exact(2, data, timeout_ms)) break;
      p.packet_id = (static_cast<std::uint8_t>(data[0]) << 8) | static_cast<std::uint8_t>(data[1]);
    }
    p.payload_bytes = remaining - header_len;
    const std::size_t keep = std::min(p.payload_bytes, max_payload_bytes_);
    if (!c.read_exact(keep, p.payload, timeout_ms) || !c.skip(p.payload_bytes - keep, timeout_ms)) break;
    batch_bytes += p.payload.size();
    batch.push_back(std::move(p));
  }
  if (!running_) c.send_all(packet(kDisconnect << 4, ""));
  connected_ = false;
  if (running_) std::fprintf(stderr, "mqtt subscriber: connection to %s lost\n", broker.url().c_str());
  return true;
}

}  // namespace oee::transport
