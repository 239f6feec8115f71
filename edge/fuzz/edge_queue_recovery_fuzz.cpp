// libFuzzer: arbitrary bytes as the newest segment of an edge queue (what a torn write, a disk
// error or a hostile file leaves). Opening must recover without crashing, serve only whole records
// with consecutive ids, and keep appending after them.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "oee/edge/durable_queue.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = [] {
    std::string t = (std::filesystem::temp_directory_path() / "fuzz-queue-XXXXXX").string();
    return std::string(::mkdtemp(t.data()));
  }();
  for (const auto& e : std::filesystem::directory_iterator(dir)) std::filesystem::remove(e.path());
  {
    // A valid magic most of the time, so the fuzzer spends its effort on the records.
    std::ofstream f(dir + "/seg-00000000000000000000.log", std::ios::binary);
    if (size == 0 || data[0] != 0) f.write("OEEQLOG1", 8);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  oee::edge::DurableQueueOptions o;
  o.dir = dir;
  o.group_commit_ms = 0;
  oee::edge::DurableQueue q(o);
  std::vector<oee::edge::QueueRecord> out;
  std::uint64_t from = 0;
  while (q.read(from, 1000, 1 << 20, out) > 0) from = out.back().id + 1;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i].id != i) std::abort();  // recovered records are the first ones, in order
  if (q.next_id() != out.size()) std::abort();
  if (q.append("after") != out.size()) std::abort();
  return 0;
}
