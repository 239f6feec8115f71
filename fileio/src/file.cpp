#include "oee/fileio/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "oee/fileio/fault_injector.h"

namespace oee::fileio {
namespace {

// Asks the installed injector (if any) about a sync: the errno to fail with, or 0.
int injected_sync_error() {
  const auto injector = installed_fault_injector();
  return injector ? injector->on_sync() : 0;
}

void sync_fd(int fd, bool data_only, const std::string& path) {
  if (const int e = injected_sync_error()) throw IoError(data_only ? "fdatasync" : "fsync", path, e);
  if ((data_only ? ::fdatasync(fd) : ::fsync(fd)) != 0) throw IoError(data_only ? "fdatasync" : "fsync", path, errno);
}

}  // namespace

IoError::IoError(const std::string& what, const std::string& path, int error)
    : std::runtime_error(what + " " + path + ": " + std::strerror(error)), error_(error) {}

File::File(const std::string& path, int flags, mode_t mode) : path_(path) {
  fd_ = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd_ < 0) throw IoError((flags & O_CREAT) ? "create" : "open", path, errno);
}

File::~File() { close(); }

File::File(File&& other) noexcept : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

void File::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void File::write_at(const void* data, std::size_t size, std::uint64_t offset) {
  const char* p = static_cast<const char*>(data);
  std::size_t write_first = size;
  int injected = 0;
  if (const auto injector = installed_fault_injector()) injected = injector->on_write(size, write_first);
  // An injected fault writes its short prefix for real, then fails like the disk would.
  std::size_t left = injected != 0 ? write_first : size;
  while (left > 0) {
    const ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError("write", path_, errno);
    }
    p += n;
    offset += static_cast<std::uint64_t>(n);
    left -= static_cast<std::size_t>(n);
  }
  if (injected != 0) throw IoError("write", path_, injected);
}

std::size_t File::read_at(void* data, std::size_t size, std::uint64_t offset) const {
  char* p = static_cast<char*>(data);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd_, p + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError("read", path_, errno);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

void File::datasync() { sync_fd(fd_, true, path_); }

void File::sync() { sync_fd(fd_, false, path_); }

void File::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) throw IoError("truncate", path_, errno);
}

std::uint64_t File::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw IoError("stat", path_, errno);
  return static_cast<std::uint64_t>(st.st_size);
}

void make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) throw IoError("create directory", dir, errno);
}

void rename_file(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) throw IoError("rename to " + to + ":", from, errno);
}

void remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw IoError("remove", path, errno);
}

void sync_dir(const std::string& dir) {
  const File d(dir, O_RDONLY | O_DIRECTORY);
  sync_fd(d.fd(), false, dir);
}

void replace_file(const std::string& path, std::string_view bytes, mode_t mode) {
  const std::string tmp = path + ".tmp";
  {
    File f(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    f.write_at(bytes.data(), bytes.size(), 0);
    f.sync();
  }
  rename_file(tmp, path);
  const auto slash = path.rfind('/');
  sync_dir(slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash));
}

}  // namespace oee::fileio
