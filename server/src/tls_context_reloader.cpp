#include "oee/server/tls_context_reloader.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <stdexcept>

#include "oee/server/log.h"
#include "oee/server/metrics.h"
#include "tls_policy.h"

namespace oee::server {

namespace {

// OpenSSL's reason for the last failure, and the error queue emptied for the next caller.
std::string openssl_reason() {
  const unsigned long e = ERR_peek_last_error();
  char text[256] = "unknown error";
  if (e != 0) ERR_error_string_n(e, text, sizeof text);
  ERR_clear_error();
  return text;
}

// A context of the certificate and key, under the server's TLS policy (tls_policy.h).
std::shared_ptr<SSL_CTX> load_context(const std::string& certificate_file, const std::string& private_key_file) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) throw std::runtime_error("cannot create a TLS context: " + openssl_reason());
  apply_tls_policy(ctx.get());  // every context the server serves: the one policy testssl checks
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), certificate_file.c_str()) != 1)
    throw std::runtime_error("cannot load the TLS certificate " + certificate_file + ": " + openssl_reason());
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), private_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    const std::string reason = openssl_reason();
    if (mismatch)
      throw std::runtime_error("the TLS private key " + private_key_file + " does not match the certificate " + certificate_file);
    throw std::runtime_error("cannot load the TLS private key " + private_key_file + ": " + reason);
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    throw std::runtime_error("the TLS private key " + private_key_file + " does not match the certificate " +
                             certificate_file + ": " + openssl_reason());
  return ctx;
}

}  // namespace

TlsContextReloader::TlsContextReloader(std::string certificate_file, std::string private_key_file, Metrics* metrics)
    : certificate_file_(std::move(certificate_file)), private_key_file_(std::move(private_key_file)), metrics_(metrics) {
  certificate_stamp_ = stamp(certificate_file_);
  key_stamp_ = stamp(private_key_file_);
  current_ = load_context(certificate_file_, private_key_file_);
}

std::shared_ptr<ssl_ctx_st> TlsContextReloader::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::string TlsContextReloader::reload() {
  {
    std::lock_guard lock(mutex_);
    certificate_stamp_ = stamp(certificate_file_);
    key_stamp_ = stamp(private_key_file_);
  }
  try {
    auto loaded = load_context(certificate_file_, private_key_file_);
    std::lock_guard lock(mutex_);
    current_ = std::move(loaded);
  } catch (const std::runtime_error& e) {
    if (metrics_) ++metrics_->tls_reload_failures;
    log_line("error", "TLS reload failed: still serving the certificate loaded before", {{"error", e.what()}});
    return e.what();
  }
  if (metrics_) ++metrics_->tls_reloads;
  log_line("info", "TLS certificate and key reloaded", {{"certificate", certificate_file_}});
  return {};
}

std::string TlsContextReloader::reload_if_changed() {
  {
    std::lock_guard lock(mutex_);
    if (stamp(certificate_file_) == certificate_stamp_ && stamp(private_key_file_) == key_stamp_) return {};
  }
  return reload();
}

TlsContextReloader::FileStamp TlsContextReloader::stamp(const std::string& path) const {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {st.st_mtim, static_cast<long long>(st.st_size)};
}

}  // namespace oee::server
