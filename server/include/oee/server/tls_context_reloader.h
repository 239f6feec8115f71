#pragma once
// The HTTPS certificate chain and private key, reloadable without a restart (SIGHUP, or a change of
// the files seen by a poll): each load builds a new OpenSSL context and checks that the key matches
// the certificate before new connections get it. Connections already open keep the context they
// started with (OpenSSL counts its references); a bad file leaves the one in use serving.
#include <ctime>
#include <memory>
#include <mutex>
#include <string>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace oee::server {

class Metrics;

class TlsContextReloader {
 public:
  // Loads the files; throws std::runtime_error (naming the file and OpenSSL's reason) when it cannot.
  TlsContextReloader(std::string certificate_file, std::string private_key_file, Metrics* metrics);

  // The context for a new connection.
  std::shared_ptr<ssl_ctx_st> current() const;
  // Loads the files again. On success new connections get the new context; on failure the one in
  // use stays, the error is logged and counted (oee_tls_reload_failures_total). "" or the error.
  std::string reload();
  // reload() when either file's modification time or size differs from the last attempt.
  std::string reload_if_changed();

 private:
  struct FileStamp {
    std::timespec mtime{};
    long long size = -1;
    bool operator==(const FileStamp& o) const {
      return mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec && size == o.size;
    }
  };
  FileStamp stamp(const std::string& path) const;

  std::string certificate_file_, private_key_file_;
  Metrics* metrics_;
  mutable std::mutex mutex_;
  std::shared_ptr<ssl_ctx_st> current_;
  FileStamp certificate_stamp_, key_stamp_;  // at the last attempt
};

}  // namespace oee::server
