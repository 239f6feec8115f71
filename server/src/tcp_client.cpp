#include "tcp_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace oee::server {

namespace {

std::string openssl_error(const char* what) {
  const unsigned long e = ERR_get_error();
  char text[256] = "";
  if (e) ERR_error_string_n(e, text, sizeof text);
  ERR_clear_error();
  return std::string(what) + (e ? std::string(": ") + text : "");
}

}  // namespace

struct TcpClient::Tls {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context{nullptr, SSL_CTX_free};
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl{nullptr, SSL_free};
};

TcpClient::TcpClient(const std::string& host, int port, DurationMs timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
    throw std::runtime_error("cannot resolve the host: " + std::string(gai_strerror(rc)));
  const timeval tv{static_cast<time_t>(timeout_ms / 1000), static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
  std::string why = "no address";
  for (addrinfo* a = found; a && fd_ < 0; a = a->ai_next) {
    fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd_ < 0) continue;
    // SO_SNDTIMEO also bounds connect() on Linux.
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd_, a->ai_addr, a->ai_addrlen) != 0) {
      why = std::strerror(errno);
      ::close(fd_);
      fd_ = -1;
    }
  }
  freeaddrinfo(found);
  if (fd_ < 0) throw std::runtime_error("cannot connect: " + why);
}

TcpClient::~TcpClient() {
  tls_.reset();
  if (fd_ >= 0) ::close(fd_);
}

void TcpClient::start_tls(const std::string& host, const std::string& ca_file) {
  auto t = std::make_unique<Tls>();
  t->context.reset(SSL_CTX_new(TLS_client_method()));
  if (!t->context) throw std::runtime_error(openssl_error("TLS: no context"));
  SSL_CTX_set_min_proto_version(t->context.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(t->context.get(), SSL_VERIFY_PEER, nullptr);
  const bool loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(t->context.get()) == 1
                                      : SSL_CTX_load_verify_locations(t->context.get(), ca_file.c_str(), nullptr) == 1;
  if (!loaded) throw std::runtime_error(openssl_error(("TLS: cannot load the CA certificates " + ca_file).c_str()));
  t->ssl.reset(SSL_new(t->context.get()));
  if (!t->ssl || SSL_set_fd(t->ssl.get(), fd_) != 1) throw std::runtime_error(openssl_error("TLS: no connection"));
  // The certificate must name the host: a DNS name (sent as SNI too) or an IP address.
  in6_addr ip{};
  const bool is_ip = ::inet_pton(AF_INET, host.c_str(), &ip) == 1 || ::inet_pton(AF_INET6, host.c_str(), &ip) == 1;
  X509_VERIFY_PARAM* verify = SSL_get0_param(t->ssl.get());
  X509_VERIFY_PARAM_set_hostflags(verify, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const bool named = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(verify, host.c_str()) == 1
                           : SSL_set1_host(t->ssl.get(), host.c_str()) == 1 && SSL_set_tlsext_host_name(t->ssl.get(), host.c_str()) == 1;
  if (!named) throw std::runtime_error(openssl_error("TLS: cannot set the host name to verify"));
  if (SSL_connect(t->ssl.get()) != 1) {
    const long verified = SSL_get_verify_result(t->ssl.get());
    if (verified != X509_V_OK)
      throw std::runtime_error(std::string("TLS: the certificate of ") + host + " is refused: " + X509_verify_cert_error_string(verified));
    throw std::runtime_error(openssl_error("TLS: handshake failed"));
  }
  buffer_.clear();  // bytes before the handshake must not pass for protected ones
  tls_ = std::move(t);
}

void TcpClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    if (tls_) {
      const int n = SSL_write(tls_->ssl.get(), bytes.data(), static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 30)));
      if (n <= 0) throw std::runtime_error(openssl_error("TLS: cannot send"));
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("cannot send: " + std::string(n < 0 ? std::strerror(errno) : "closed"));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string TcpClient::read_line() {
  constexpr std::size_t kLineBytesMax = 64 * 1024;  // a peer that never ends its line is an error
  for (;;) {
    if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (buffer_.size() > kLineBytesMax) throw std::runtime_error("a line longer than 64 KiB");
    char chunk[4096];
    const ssize_t n = tls_ ? SSL_read(tls_->ssl.get(), chunk, sizeof chunk) : ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0 && tls_) throw std::runtime_error(openssl_error("TLS: cannot read"));
    if (n <= 0) throw std::runtime_error(n < 0 ? "cannot read: " + std::string(std::strerror(errno)) : "closed by the peer");
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

bool split_http_url(const std::string& url, HttpUrl& out) {
  out.https = url.rfind("https://", 0) == 0;
  const std::string_view scheme = out.https ? "https://" : "http://";
  if (url.rfind(scheme, 0) != 0) return false;
  const std::string rest = url.substr(scheme.size());
  const std::size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const std::size_t colon = authority.rfind(':');
  out.host = authority.substr(0, colon);
  out.port = out.https ? 443 : 80;
  if (colon != std::string::npos) {
    try {
      out.port = std::stoi(authority.substr(colon + 1));
    } catch (const std::exception&) {
      return false;
    }
  }
  return !out.host.empty() && out.port > 0 && out.port < 65536;
}

}  // namespace oee::server
