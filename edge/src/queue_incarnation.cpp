#include "oee/edge/queue_incarnation.h"

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
  fileio::replace_file(file, id + "\n");
  return id;
}

}  // namespace oee::edge
