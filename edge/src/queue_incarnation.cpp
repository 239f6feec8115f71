#include "oee/edge/queue_incarnation.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

namespace oee::edge {
namespace {

std::string random_id() {
  std::random_device device;  // /dev/urandom
  char hex[17];
  std::snprintf(hex, sizeof hex, "%08x%08x", device(), device());
  return hex;
}

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("queue incarnation: cannot sync " + path);
  }
  ::close(fd);
}

}  // namespace

std::string load_or_create_queue_incarnation(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string file = dir + "/incarnation";
  if (std::ifstream in(file); in) {
    std::string id;
    in >> id;
    return id;
  }
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) return {};  // a queue older than incarnations
  fs::create_directories(dir);
  const std::string id = random_id();
  const std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << id << "\n";
    if (!out.flush()) throw std::runtime_error("queue incarnation: cannot write " + tmp);
  }
  fsync_path(tmp, O_RDONLY);
  fs::rename(tmp, file);
  fsync_path(dir, O_RDONLY | O_DIRECTORY);
  return id;
}

}  // namespace oee::edge
