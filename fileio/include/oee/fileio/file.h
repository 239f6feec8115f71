#pragma once
// The one small file layer under every durable write of the project (the edge's queue, the
// server's PostgreSQL spill): open/create, positioned write, read, fdatasync/fsync, truncate,
// rename, unlink and fsync of a directory. Every call reports failure as an IoError carrying the
// errno; none retries a failed sync (Linux drops the dirty pages of a failed fsync, so a retry
// "succeeds" on data that is not on disk). Writes and syncs go through the fault seam
// (fault_injector.h), so that tests can fail any one of them deterministically. POSIX only.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace oee::fileio {

// A failed file operation: what, on which path, and the errno (EIO, ENOSPC, ...).
class IoError : public std::runtime_error {
 public:
  IoError(const std::string& what, const std::string& path, int error);
  int error() const { return error_; }

 private:
  int error_;
};

// An open file descriptor (move-only, closed on destruction).
class File {
 public:
  File() = default;
  // Opens `path` with open(2) flags (O_CLOEXEC is added). Throws IoError.
  File(const std::string& path, int flags, mode_t mode = 0644);
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // Writes all `size` bytes at `offset`. On failure a prefix may already be in the file: the
  // caller cuts it off (truncate) before anything else is written after it.
  void write_at(const void* data, std::size_t size, std::uint64_t offset);
  // Reads up to `size` bytes at `offset`; fewer only at the end of the file.
  std::size_t read_at(void* data, std::size_t size, std::uint64_t offset) const;
  void datasync();  // fdatasync(2)
  void sync();      // fsync(2)
  void truncate(std::uint64_t size);
  std::uint64_t size() const;
  void close();

 private:
  int fd_ = -1;
  std::string path_;
};

// mkdir that accepts an existing directory.
void make_dir(const std::string& dir);
// rename(2); the caller syncs the directory to make it durable.
void rename_file(const std::string& from, const std::string& to);
// unlink(2); a missing file is not an error.
void remove_file(const std::string& path);
// fsync of the directory itself: makes creations, renames and removals in it durable.
void sync_dir(const std::string& dir);
// Replaces the whole file at `path` with `bytes`, durably and whole or not at all: written to
// `path`.tmp, fsynced, renamed over `path`, and the directory fsynced. On failure `path` keeps its
// old contents (or stays missing). Throws IoError.
void replace_file(const std::string& path, std::string_view bytes, mode_t mode = 0644);

}  // namespace oee::fileio
