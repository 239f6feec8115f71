#include "oee/storage/backup_manifest.h"

#include <sodium.h>

#include <fstream>
#include <sstream>

namespace oee::storage {

std::uint64_t BackupManifest::size_bytes() const {
  std::uint64_t total = 0;
  for (const BackupFile& f : files) total += f.size_bytes;
  return total;
}

std::string sha256_of_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw BackupError("cannot read " + file.string());
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::vector<char> buffer(1 << 20);
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0)
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(buffer.data()), static_cast<unsigned long long>(in.gcount()));
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

void write_backup_manifest(const BackupManifest& manifest, const std::filesystem::path& file) {
  std::ofstream out(file, std::ios::trunc);
  out << "oee-backup 1\ncreated " << format_rfc3339(manifest.created) << "\nevents " << manifest.events << '\n';
  for (const BackupFile& f : manifest.files)
    out << "file " << f.name << ' ' << (f.database ? "database" : "plain") << ' ' << f.size_bytes << ' ' << f.sha256
        << " schema " << f.schema_version << '\n';
  out.flush();
  if (!out) throw BackupError("cannot write " + file.string());
}

namespace {

BackupFile parse_file_record(std::istringstream& fields, const std::string& where) {
  BackupFile f;
  std::string kind, schema;
  if (!(fields >> f.name >> kind >> f.size_bytes >> f.sha256 >> schema >> f.schema_version) || schema != "schema" ||
      (kind != "database" && kind != "plain") || f.sha256.size() != 2 * crypto_hash_sha256_BYTES ||
      f.name.find('/') != std::string::npos || f.name.starts_with("."))
    throw BackupError(where + ": expected 'file NAME database|plain SIZE SHA256 schema N'");
  f.database = kind == "database";
  return f;
}

}  // namespace

BackupManifest read_backup_manifest(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw BackupError("no manifest " + file.string() + " (not a backup, or an unfinished one)");
  BackupManifest m;
  std::string line;
  if (!std::getline(in, line) || line != "oee-backup 1") throw BackupError(file.string() + ":1: expected 'oee-backup 1'");
  for (int number = 2; std::getline(in, line); ++number) {
    const std::string where = file.string() + ":" + std::to_string(number);
    std::istringstream fields(line);
    std::string key, value;
    fields >> key;
    if (key == "file") {
      m.files.push_back(parse_file_record(fields, where));
    } else if (key == "created" && fields >> value && parse_timestamp(value)) {
      m.created = *parse_timestamp(value);
    } else if (key == "events" && fields >> m.events) {
    } else {
      throw BackupError(where + ": unexpected '" + line + "'");
    }
  }
  if (m.files.empty()) throw BackupError(file.string() + ": lists no files");
  return m;
}

}  // namespace oee::storage
