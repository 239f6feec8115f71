#include "oee/sqlite/encrypting_vfs.h"

#include <sodium.h>
#include <sqlite3.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace oee::sqlite {
namespace {

constexpr int kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr int kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(kNonce + kTag == kEncryptedReserveBytes);
constexpr int kDbHeader = 100;     // SQLite's file header, plain in page 1
constexpr int kWalHeader = 32;
constexpr int kFrameHeader = 24;   // pgno, commit size, salt-1, salt-2, checksums
constexpr int kFrameSalts = 16;    // pgno .. salt-2: bound to the page as additional data

thread_local std::string t_failure;

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

struct Vfs {
  sqlite3_vfs base;  // first: SQLite hands us this pointer
  sqlite3_vfs* real;
  PageKey key;
  std::string name;
};

enum class Kind { main_db, wal, journal };

struct File {
  sqlite3_file base;  // first: SQLite hands us this pointer
  sqlite3_file* real;
  const Vfs* vfs;
  Kind kind;
  std::string path;
  std::int64_t page_size = 0;  // 0: not known yet (an empty file)
  std::int64_t cached_frame_at = -1;  // offset of the frame header last written to the WAL
  unsigned char cached_frame[kFrameHeader];
  std::vector<unsigned char> page;  // scratch: one page or one WAL frame
};

File* file_of(sqlite3_file* f) { return reinterpret_cast<File*>(f); }

// Additional data: the page number, and what else of the page's place must not change (page 1's
// plain header; a WAL frame's page number and salts, so old frames cannot be replayed).
std::vector<unsigned char> additional_data(std::uint32_t pgno, const unsigned char* extra, int extra_len) {
  std::vector<unsigned char> ad(4 + static_cast<std::size_t>(extra_len));
  for (int i = 0; i < 4; ++i) ad[static_cast<std::size_t>(i)] = static_cast<unsigned char>(pgno >> (24 - 8 * i));
  if (extra_len) std::memcpy(ad.data() + 4, extra, static_cast<std::size_t>(extra_len));
  return ad;
}

// Seals `page` in place: [start, size - reserve) encrypted, the nonce and tag in the reserve.
void seal(const Vfs& vfs, unsigned char* page, std::int64_t size, std::uint32_t pgno, const unsigned char* extra,
          int extra_len) {
  const int start = pgno == 1 ? kDbHeader : 0;
  const auto body = static_cast<unsigned long long>(size - kEncryptedReserveBytes - start);
  unsigned char* nonce = page + size - kEncryptedReserveBytes;
  randombytes_buf(nonce, kNonce);
  const auto ad = additional_data(pgno, pgno == 1 ? page : extra, pgno == 1 ? kDbHeader : extra_len);
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(page + start, nonce + kNonce, nullptr, page + start, body,
                                                      ad.data(), ad.size(), nullptr, nonce, vfs.key.data());
}

bool open_page(const Vfs& vfs, unsigned char* page, std::int64_t size, std::uint32_t pgno, const unsigned char* extra,
               int extra_len) {
  const int start = pgno == 1 ? kDbHeader : 0;
  const auto body = static_cast<unsigned long long>(size - kEncryptedReserveBytes - start);
  unsigned char* nonce = page + size - kEncryptedReserveBytes;
  const auto ad = additional_data(pgno, pgno == 1 ? page : extra, pgno == 1 ? kDbHeader : extra_len);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(page + start, nullptr, page + start, body, nonce + kNonce,
                                                          ad.data(), ad.size(), nonce, vfs.key.data()) != 0)
    return false;
  std::memset(nonce, 0, kEncryptedReserveBytes);  // SQLite's reserved bytes: nothing of ours leaks up
  return true;
}

int fail_page(File& f, std::uint32_t pgno) {
  t_failure = "wrong encryption key or corrupted page " + std::to_string(pgno) + " of " + f.path;
  sqlite3_log(SQLITE_IOERR_DATA, "%s", t_failure.c_str());
  return pgno == 1 && f.kind == Kind::main_db ? SQLITE_NOTADB : SQLITE_IOERR_DATA;
}

int refuse(const char* why, int rc) {
  t_failure = why;
  sqlite3_log(rc, "%s", why);
  return rc;
}

int real_read(File& f, void* buf, std::int64_t n, std::int64_t off) {
  return f.real->pMethods->xRead(f.real, buf, static_cast<int>(n), off);
}

// The page size of the file, from its plain header (0 while the file is empty).
int learn_page_size(File& f) {
  if (f.page_size) return SQLITE_OK;
  unsigned char h[12] = {};
  const int rc = f.kind == Kind::wal ? real_read(f, h, 12, 0) : real_read(f, h, 2, 16);
  if (rc == SQLITE_IOERR_SHORT_READ) return SQLITE_OK;
  if (rc != SQLITE_OK) return rc;
  if (f.kind == Kind::wal) {
    f.page_size = be32(h + 8);
  } else {
    const std::int64_t ps = (h[0] << 8) | h[1];
    f.page_size = ps == 1 ? 65536 : ps;
  }
  return SQLITE_OK;
}

// Reads the database pages under [off, off + n) whole, opens them and copies the asked part.
int read_db(File& f, unsigned char* out, std::int64_t n, std::int64_t off) {
  if (off + n <= kDbHeader) return real_read(f, out, n, off);  // the plain header alone
  if (const int rc = learn_page_size(f); rc != SQLITE_OK) return rc;
  const std::int64_t ps = f.page_size;
  if (ps == 0) return real_read(f, out, n, off);  // empty file: SQLite reads nothing real
  f.page.resize(static_cast<std::size_t>(ps));
  int result = SQLITE_OK;
  for (std::int64_t at = off; at < off + n;) {
    const std::int64_t page_start = at / ps * ps, take = std::min(page_start + ps, off + n) - at;
    const int rc = real_read(f, f.page.data(), ps, page_start);
    if (rc == SQLITE_IOERR_SHORT_READ) {  // past the end: zeros, as SQLite expects
      std::memset(out + (at - off), 0, static_cast<std::size_t>(take));
      result = rc;
    } else if (rc != SQLITE_OK) {
      return rc;
    } else {
      const auto pgno = static_cast<std::uint32_t>(page_start / ps + 1);
      if (!open_page(*f.vfs, f.page.data(), ps, pgno, nullptr, 0)) return fail_page(f, pgno);
      std::memcpy(out + (at - off), f.page.data() + (at - page_start), static_cast<std::size_t>(take));
    }
    at += take;
  }
  return result;
}

// Reads the WAL frames under [off, off + n): a payload is opened with its frame header's page
// number and salts. A frame that fails while read whole (recovery) is handed up zeroed: SQLite's
// checksum then ends the log there, as for a torn frame; a payload read alone fails loudly.
int read_wal(File& f, unsigned char* out, std::int64_t n, std::int64_t off) {
  if (off + n <= kWalHeader) return real_read(f, out, n, off);
  if (const int rc = learn_page_size(f); rc != SQLITE_OK) return rc;
  if (f.page_size == 0) return real_read(f, out, n, off);
  const std::int64_t ps = f.page_size, fs = kFrameHeader + ps;
  f.page.resize(static_cast<std::size_t>(fs));
  int result = SQLITE_OK;
  for (std::int64_t at = off; at < off + n;) {
    if (at < kWalHeader) {
      const std::int64_t take = std::min<std::int64_t>(kWalHeader, off + n) - at;
      if (const int rc = real_read(f, out, take, at); rc != SQLITE_OK) return rc;
      at += take;
      continue;
    }
    const std::int64_t frame = kWalHeader + (at - kWalHeader) / fs * fs, take = std::min(frame + fs, off + n) - at;
    const int rc = real_read(f, f.page.data(), fs, frame);
    if (rc == SQLITE_IOERR_SHORT_READ) {
      std::memcpy(out + (at - off), f.page.data() + (at - frame), static_cast<std::size_t>(take));
      result = rc;
      at += take;
      continue;
    }
    if (rc != SQLITE_OK) return rc;
    if (at + take > frame + kFrameHeader) {
      unsigned char* payload = f.page.data() + kFrameHeader;
      const std::uint32_t pgno = be32(f.page.data());
      if (!open_page(*f.vfs, payload, ps, pgno, f.page.data(), kFrameSalts)) {
        if (at > frame) return fail_page(f, pgno);
        std::memset(payload, 0, static_cast<std::size_t>(ps));
      }
    }
    std::memcpy(out + (at - off), f.page.data() + (at - frame), static_cast<std::size_t>(take));
    at += take;
  }
  return result;
}

int x_read(sqlite3_file* pf, void* buf, int n, sqlite3_int64 off) {
  File& f = *file_of(pf);
  auto* out = static_cast<unsigned char*>(buf);
  if (f.kind == Kind::main_db) return read_db(f, out, n, off);
  if (f.kind == Kind::wal) return read_wal(f, out, n, off);
  return real_read(f, buf, n, off);
}

int write_db(File& f, const unsigned char* in, std::int64_t n, std::int64_t off) {
  if (off == 0 && n >= kDbHeader) {
    if (in[20] < kEncryptedReserveBytes)
      return refuse("encrypted database: page 1 reserves too few bytes for the nonce and tag", SQLITE_IOERR_WRITE);
    f.page_size = n;
  }
  if (const int rc = learn_page_size(f); rc != SQLITE_OK) return rc;
  if (n != f.page_size || off % n != 0)
    return refuse("encrypted database: SQLite wrote part of a page", SQLITE_IOERR_WRITE);
  f.page.assign(in, in + n);
  seal(*f.vfs, f.page.data(), n, static_cast<std::uint32_t>(off / n + 1), nullptr, 0);
  return f.real->pMethods->xWrite(f.real, f.page.data(), static_cast<int>(n), off);
}

int write_wal(File& f, const unsigned char* in, std::int64_t n, std::int64_t off) {
  if (off == 0 && n >= kWalHeader) f.page_size = be32(in + 8);
  if (const int rc = learn_page_size(f); rc != SQLITE_OK) return rc;
  const std::int64_t ps = f.page_size, fs = kFrameHeader + ps, in_frame = (off - kWalHeader) % fs;
  const auto plain = [&] { return f.real->pMethods->xWrite(f.real, in, static_cast<int>(n), off); };
  if (off < kWalHeader) return plain();
  if (in_frame == 0 && n == kFrameHeader) {
    f.cached_frame_at = off;
    std::memcpy(f.cached_frame, in, kFrameHeader);
    return plain();
  }
  if (in_frame != kFrameHeader || n != ps)
    return refuse("encrypted database: SQLite wrote part of a WAL page", SQLITE_IOERR_WRITE);
  unsigned char header[kFrameHeader];
  if (f.cached_frame_at == off - kFrameHeader) {
    std::memcpy(header, f.cached_frame, kFrameHeader);
  } else if (const int rc = real_read(f, header, kFrameHeader, off - kFrameHeader); rc != SQLITE_OK) {
    return rc;
  }
  f.page.assign(in, in + n);
  seal(*f.vfs, f.page.data(), ps, be32(header), header, kFrameSalts);
  return f.real->pMethods->xWrite(f.real, f.page.data(), static_cast<int>(n), off);
}

int x_write(sqlite3_file* pf, const void* buf, int n, sqlite3_int64 off) {
  File& f = *file_of(pf);
  const auto* in = static_cast<const unsigned char*>(buf);
  if (f.kind == Kind::main_db) return write_db(f, in, n, off);
  if (f.kind == Kind::wal) return write_wal(f, in, n, off);
  // A rollback journal's headers are sector-aligned; its page images are not: refuse those.
  if (off % 512 != 0)
    return refuse("encrypted database: a rollback journal would hold plain pages (use journal_mode=WAL)",
                  SQLITE_IOERR_WRITE);
  return f.real->pMethods->xWrite(f.real, buf, n, off);
}

int x_close(sqlite3_file* pf) {
  File& f = *file_of(pf);
  const int rc = f.real->pMethods ? f.real->pMethods->xClose(f.real) : SQLITE_OK;
  f.~File();
  return rc;
}

sqlite3_file* real_of(sqlite3_file* pf) { return file_of(pf)->real; }

int x_truncate(sqlite3_file* f, sqlite3_int64 size) { return real_of(f)->pMethods->xTruncate(real_of(f), size); }
int x_sync(sqlite3_file* f, int flags) { return real_of(f)->pMethods->xSync(real_of(f), flags); }
int x_file_size(sqlite3_file* f, sqlite3_int64* size) { return real_of(f)->pMethods->xFileSize(real_of(f), size); }
int x_lock(sqlite3_file* f, int l) { return real_of(f)->pMethods->xLock(real_of(f), l); }
int x_unlock(sqlite3_file* f, int l) { return real_of(f)->pMethods->xUnlock(real_of(f), l); }
int x_check_reserved(sqlite3_file* f, int* out) { return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out); }
int x_file_control(sqlite3_file* f, int op, void* arg) {
  return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int x_sector_size(sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }
int x_device(sqlite3_file* f) { return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f)); }
int x_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); }
int x_shm_unmap(sqlite3_file* f, int del) { return real_of(f)->pMethods->xShmUnmap(real_of(f), del); }

// Version 2: WAL's shared memory, but no xFetch, so SQLite never maps the ciphertext and reads
// every page through x_read.
const sqlite3_io_methods kMethods = {2,           x_close,        x_read,        x_write,        x_truncate,
                                     x_sync,      x_file_size,    x_lock,        x_unlock,       x_check_reserved,
                                     x_file_control, x_sector_size, x_device,    x_shm_map,      x_shm_lock,
                                     x_shm_barrier, x_shm_unmap,   nullptr,       nullptr};

sqlite3_vfs* real_vfs(sqlite3_vfs* v) { return reinterpret_cast<Vfs*>(v)->real; }

int x_open(sqlite3_vfs* v, sqlite3_filename name, sqlite3_file* pf, int flags, int* out_flags) {
  auto* f = new (pf) File{};
  f->vfs = reinterpret_cast<Vfs*>(v);
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(pf) + sizeof(File));
  f->real->pMethods = nullptr;
  f->path = name ? name : "";
  if (flags & SQLITE_OPEN_MAIN_DB) {
    f->kind = Kind::main_db;
  } else if (flags & SQLITE_OPEN_WAL) {
    f->kind = Kind::wal;
  } else if (flags & SQLITE_OPEN_MAIN_JOURNAL) {
    f->kind = Kind::journal;
  } else {
    f->~File();
    pf->pMethods = nullptr;
    return refuse("encrypted database: temporary files would be plain (use temp_store=MEMORY)", SQLITE_CANTOPEN);
  }
  const int rc = f->vfs->real->xOpen(f->vfs->real, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods) f->real->pMethods->xClose(f->real);
    f->~File();
    pf->pMethods = nullptr;
    return rc;
  }
  pf->pMethods = &kMethods;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs* v, const char* name, int sync) { return real_vfs(v)->xDelete(real_vfs(v), name, sync); }
int x_access(sqlite3_vfs* v, const char* name, int flags, int* out) {
  return real_vfs(v)->xAccess(real_vfs(v), name, flags, out);
}
int x_full_pathname(sqlite3_vfs* v, const char* name, int n, char* out) {
  return real_vfs(v)->xFullPathname(real_vfs(v), name, n, out);
}
void* x_dl_open(sqlite3_vfs* v, const char* name) { return real_vfs(v)->xDlOpen(real_vfs(v), name); }
void x_dl_error(sqlite3_vfs* v, int n, char* out) { real_vfs(v)->xDlError(real_vfs(v), n, out); }
void (*x_dl_sym(sqlite3_vfs* v, void* h, const char* sym))(void) { return real_vfs(v)->xDlSym(real_vfs(v), h, sym); }
void x_dl_close(sqlite3_vfs* v, void* h) { real_vfs(v)->xDlClose(real_vfs(v), h); }
int x_randomness(sqlite3_vfs* v, int n, char* out) { return real_vfs(v)->xRandomness(real_vfs(v), n, out); }
int x_sleep(sqlite3_vfs* v, int us) { return real_vfs(v)->xSleep(real_vfs(v), us); }
int x_current_time(sqlite3_vfs* v, double* out) { return real_vfs(v)->xCurrentTime(real_vfs(v), out); }
int x_last_error(sqlite3_vfs* v, int n, char* out) { return real_vfs(v)->xGetLastError(real_vfs(v), n, out); }
int x_current_time64(sqlite3_vfs* v, sqlite3_int64* out) {
  return real_vfs(v)->xCurrentTimeInt64(real_vfs(v), out);
}

std::unique_ptr<Vfs> make_vfs(const PageKey& key, std::string name) {
  sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
  if (!real || real->iVersion < 2) throw std::runtime_error("sqlite: no default VFS to encrypt over");
  auto v = std::make_unique<Vfs>();
  v->real = real;
  v->key = key;
  v->name = std::move(name);
  v->base = sqlite3_vfs{2,           static_cast<int>(sizeof(File)) + real->szOsFile, real->mxPathname, nullptr,
                        v->name.c_str(), nullptr,       x_open,         x_delete,       x_access,
                        x_full_pathname, x_dl_open,     x_dl_error,     x_dl_sym,       x_dl_close,
                        x_randomness,    x_sleep,       x_current_time, x_last_error,   x_current_time64,
                        nullptr,         nullptr,       nullptr};
  return v;
}

// The first `n` bytes at `offset` of a file, shorter when the file is.
std::vector<unsigned char> read_prefix(const std::string& path, std::int64_t offset, std::int64_t n) {
  std::ifstream in(path, std::ios::binary);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(n));
  in.seekg(offset);
  in.read(reinterpret_cast<char*>(bytes.data()), n);
  bytes.resize(static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  return bytes;
}

}  // namespace

bool key_opens(const std::string& path, const PageKey& key) {
  Vfs vfs{};
  vfs.key = key;
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
  const auto header = read_prefix(path, 0, kDbHeader);
  if (header.size() == kDbHeader) {
    const std::int64_t ps = (header[16] << 8 | header[17]) == 1 ? 65536 : (header[16] << 8 | header[17]);
    auto page = read_prefix(path, 0, ps);
    if (static_cast<std::int64_t>(page.size()) == ps) return open_page(vfs, page.data(), ps, 1, nullptr, 0);
  }
  const auto wal_header = read_prefix(path + "-wal", 0, kWalHeader);
  if (wal_header.size() < kWalHeader) return true;
  const std::int64_t ps = be32(wal_header.data() + 8);
  auto frame = read_prefix(path + "-wal", kWalHeader, kFrameHeader + ps);
  if (static_cast<std::int64_t>(frame.size()) < kFrameHeader + ps) return true;  // a torn first frame: nothing to lose
  return open_page(vfs, frame.data() + kFrameHeader, ps, be32(frame.data()), frame.data(), kFrameSalts);
}

const char* encrypting_vfs(const PageKey& key) {
  static std::mutex mutex;
  static std::map<PageKey, std::unique_ptr<Vfs>> registered;  // for the process's life: SQLite keeps pointers
  std::lock_guard lock(mutex);
  auto it = registered.find(key);
  if (it == registered.end()) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
    auto v = make_vfs(key, "oee-encrypted-" + std::to_string(registered.size() + 1));
    if (sqlite3_vfs_register(&v->base, 0) != SQLITE_OK) throw std::runtime_error("sqlite: cannot register the encrypting VFS");
    it = registered.emplace(key, std::move(v)).first;
  }
  return it->second->name.c_str();
}

std::string take_decrypt_failure() { return std::exchange(t_failure, {}); }

}  // namespace oee::sqlite
