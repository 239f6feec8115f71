#pragma once
// A TLS client connection for tests, kept open: the certificate the server presented (its common
// name) and HTTP/1.1 keep-alive requests over the same connection. No verification: the tests
// check which certificate was served, not who signed it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace oee::testing {

// A self-signed certificate with this common name made in `dir`, then moved over `cert` and `key`
// (one rename each, as an operator renewing them would). False when openssl failed.
inline bool renew_self_signed(const std::filesystem::path& dir, const std::string& cn, const std::string& cert,
                              const std::string& key) {
  const std::string c = (dir / "next-cert.pem").string(), k = (dir / "next-key.pem").string();
  const std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + cn + " -keyout " + k +
                              " -out " + c + " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) return false;
  std::filesystem::rename(k, key);
  std::filesystem::rename(c, cert);
  return true;
}

class TlsProbe {
 public:
  explicit TlsProbe(std::uint16_t port) : ctx_(SSL_CTX_new(TLS_client_method())) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval five_s{5, 0};  // a server that never answers fails the test instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &five_s, sizeof five_s);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    connected_ = SSL_connect(ssl_) == 1;
  }
  ~TlsProbe() {
    if (ssl_) SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  TlsProbe(const TlsProbe&) = delete;
  TlsProbe& operator=(const TlsProbe&) = delete;

  bool connected() const { return connected_; }

  // The common name of the certificate the server presented ("" when none).
  std::string certificate_cn() const {
    if (!connected_) return {};
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (!cert) return {};
    char cn[256] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    X509_free(cert);
    return cn;
  }

  // GET `target` on this connection (kept alive); the response's body, or "" when it failed.
  std::string get(const std::string& target, const std::string& headers = "") {
    if (!connected_) return {};
    const std::string request = "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + headers + "\r\n";
    if (SSL_write(ssl_, request.data(), static_cast<int>(request.size())) <= 0) return {};
    std::string in;
    char buf[4096];
    while (true) {
      const auto end = in.find("\r\n\r\n");
      if (end != std::string::npos) {
        const auto cl = in.find("Content-Length: ");
        const std::size_t length = cl < end ? std::stoul(in.substr(cl + 16)) : 0;
        if (in.size() >= end + 4 + length) return in.substr(end + 4, length);
      }
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) return {};
      in.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  SSL_CTX* ctx_;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace oee::testing
