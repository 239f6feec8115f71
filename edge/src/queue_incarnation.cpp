#include "oee/edge/queue_incarnation.h"

#include <fcntl.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "oee/fileio/file.h"

namespace oee::edge {
namespace {

std::string random_id() {
  std::random_device device;  // /dev/urandom
  char hex[17];
  std::snprintf(hex, sizeof hex, "%08x%08x", device(), device());
  return hex;
}

}  // namespace

// Through the file layer, as the queue's own files: written, synced, renamed into place, and the
// directory synced, before the queue writes anything.
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
    const std::string line = id + "\n";
    fileio::File out(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    out.write_at(line.data(), line.size(), 0);
    out.sync();
  }
  fileio::rename_file(tmp, file);
  fileio::sync_dir(dir);
  return id;
}

}  // namespace oee::edge
