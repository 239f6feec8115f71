#pragma once
// The PKI directory's contents as OpenSSL objects (internal to the PKI code). Directories are
// read at each use so that a file moved by an operator takes effect without a restart.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "openssl_handles.h"

namespace oee::opcua {

struct StoredCertificate {
  std::filesystem::path path;
  ssl::X509Ptr cert;
};

// Every certificate file (DER or PEM) of a directory; unreadable files are skipped with a warning.
std::vector<StoredCertificate> load_certificates(const std::filesystem::path& dir,
                                                 const std::function<void(const std::string&)>& warn);
std::vector<ssl::CrlPtr> load_crls(const std::filesystem::path& dir,
                                   const std::function<void(const std::string&)>& warn);

namespace pki_path {
inline std::filesystem::path own_certificate(const std::filesystem::path& d) { return d / "own/certs/client_cert.der"; }
inline std::filesystem::path own_private_key(const std::filesystem::path& d) { return d / "own/private/client_key.pem"; }
inline std::filesystem::path trusted_certs(const std::filesystem::path& d) { return d / "trusted/certs"; }
inline std::filesystem::path trusted_crl(const std::filesystem::path& d) { return d / "trusted/crl"; }
inline std::filesystem::path issuers_certs(const std::filesystem::path& d) { return d / "issuers/certs"; }
inline std::filesystem::path issuers_crl(const std::filesystem::path& d) { return d / "issuers/crl"; }
inline std::filesystem::path rejected(const std::filesystem::path& d) { return d / "rejected"; }
}  // namespace pki_path

// "expires in 12 days" / "expired 3 days ago" when within the warning window, else empty.
std::string expiry_note(std::chrono::system_clock::time_point not_after, std::chrono::system_clock::time_point now,
                        uint32_t warning_days);

}  // namespace oee::opcua
