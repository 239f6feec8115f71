// The PKI directory: its layout, reading its certificates and CRLs, and expiry warnings.
#include "pki_store.h"

#include <sys/stat.h>

#include <cstdio>

#include "certificate_info.h"
#include "oee/opcua/pki.h"

namespace oee::opcua {
namespace {

// Hidden files are skipped: they are files still being written (ours, rsync's, an editor's).
std::vector<std::filesystem::path> regular_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().starts_with('.')) continue;
    if (entry.is_regular_file(ec)) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::vector<StoredCertificate> load_certificates(const std::filesystem::path& dir,
                                                 const std::function<void(const std::string&)>& warn) {
  std::vector<StoredCertificate> out;
  for (const auto& file : regular_files(dir)) {
    auto cert = ssl::parse_certificate(ssl::read_file(file), true);
    if (!cert) {
      warn("PKI: " + file.string() + " is not a certificate (DER or PEM); ignored");
      continue;
    }
    out.push_back({file, std::move(cert)});
  }
  return out;
}

std::vector<ssl::CrlPtr> load_crls(const std::filesystem::path& dir,
                                   const std::function<void(const std::string&)>& warn) {
  std::vector<ssl::CrlPtr> out;
  for (const auto& file : regular_files(dir)) {
    auto crl = ssl::parse_crl(ssl::read_file(file));
    if (!crl) {
      warn("PKI: " + file.string() + " is not a CRL (DER or PEM); ignored");
      continue;
    }
    out.push_back(std::move(crl));
  }
  return out;
}

std::string expiry_note(std::chrono::system_clock::time_point not_after, std::chrono::system_clock::time_point now,
                        uint32_t warning_days) {
  using days = std::chrono::duration<int64_t, std::ratio<86400>>;
  if (not_after <= now) {
    return "expired " + std::to_string(std::chrono::duration_cast<days>(now - not_after).count()) + " days ago";
  }
  const auto left = std::chrono::duration_cast<days>(not_after - now).count();
  if (left >= static_cast<int64_t>(warning_days)) return {};
  return "expires in " + std::to_string(left) + " days (" + format_utc(not_after) + ")";
}

Pki::Pki(std::filesystem::path dir, PkiOptions options) : dir_(std::move(dir)), options_(std::move(options)) {
  for (const auto& sub : {dir_ / "own/certs", dir_ / "own/private", pki_path::trusted_certs(dir_),
                          pki_path::trusted_crl(dir_), pki_path::issuers_certs(dir_), pki_path::issuers_crl(dir_),
                          pki_path::rejected(dir_)}) {
    std::error_code ec;
    std::filesystem::create_directories(sub, ec);
    if (ec || !std::filesystem::is_directory(sub)) {
      throw Error(status::bad_certificate_invalid, "cannot create PKI directory " + sub.string() + ": " + ec.message());
    }
  }
  // Only the owner may list or read the private keys.
  ::chmod((dir_ / "own/private").c_str(), 0700);
}

std::chrono::system_clock::time_point Pki::now() const {
  return options_.now ? options_.now() : std::chrono::system_clock::now();
}

void Pki::warn(const std::string& message) const {
  if (options_.warn) {
    options_.warn(message);
  } else {
    std::fprintf(stderr, "oee opcua: warning: %s\n", message.c_str());
  }
}

std::vector<std::string> Pki::expiry_warnings() const {
  std::vector<std::string> out;
  auto check = [&](const std::filesystem::path& file, X509* cert, const char* what) {
    const auto note = expiry_note(to_time_point(X509_get0_notAfter(cert)), now(), options_.expiry_warning_days);
    if (!note.empty()) out.push_back(std::string(what) + " " + file.string() + " " + note);
  };
  std::error_code ec;
  if (std::filesystem::exists(pki_path::own_certificate(dir_), ec)) {
    if (auto own = ssl::parse_certificate(ssl::read_file(pki_path::own_certificate(dir_)))) {
      check(pki_path::own_certificate(dir_), own.get(), "our certificate");
    }
  }
  auto quiet = [](const std::string&) {};
  for (const auto& s : load_certificates(pki_path::trusted_certs(dir_), quiet)) {
    check(s.path, s.cert.get(), "trusted certificate");
  }
  return out;
}

}  // namespace oee::opcua
